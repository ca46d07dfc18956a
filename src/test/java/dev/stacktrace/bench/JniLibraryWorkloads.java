package dev.stacktrace.bench;

import dev.stacktrace.testlib.AccuracyWorkload;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * A small workload in each of six real JNI libraries, for {@link JniLibrariesBenchmark}: each runs
 * in a thread of its own (for netty: the event loop's thread, woken by tasks from a driver thread),
 * the thread that is profiled.
 */
final class JniLibraryWorkloads {
    private JniLibraryWorkloads() {}

    /** A running workload: the thread to profile, a part of whose library's file name finds its frames. */
    interface Running extends AutoCloseable {
        String name();

        /** A string in the library's file name (e.g. "rocksdb"). */
        String libraryKey();

        Thread thread();

        @Override
        void close() throws Exception;
    }

    static final List<String> NAMES = List.of("rocksdb", "zstd", "netty", "sqlite", "snappy", "lz4");

    static Running start(String name) throws Exception {
        return switch (name) {
            case "rocksdb" -> rocksdb();
            case "zstd" -> loop("zstd", "zstd", () -> {
                byte[] input = AccuracyWorkload.text(64 * 1024, 11);
                return () -> {
                    byte[] packed = com.github.luben.zstd.Zstd.compress(input, 3);
                    return com.github.luben.zstd.Zstd.decompress(packed, input.length).length;
                };
            });
            case "netty" -> netty();
            case "sqlite" -> loop("sqlite", "sqlite", () -> {
                Connection c = DriverManager.getConnection("jdbc:sqlite::memory:");
                PreparedStatement q = c.prepareStatement("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                        + "FROM c WHERE x < 3000) SELECT sum(x * x % 7) FROM c");
                return () -> {
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        return rs.getLong(1);
                    }
                };
            });
            case "snappy" -> loop("snappy", "snappy", () -> {
                byte[] input = AccuracyWorkload.text(64 * 1024, 12);
                return () -> {
                    byte[] packed = org.xerial.snappy.Snappy.compress(input);
                    return org.xerial.snappy.Snappy.uncompress(packed).length;
                };
            });
            case "lz4" -> loop("lz4", "lz4", () -> {
                byte[] input = AccuracyWorkload.text(64 * 1024, 13);
                net.jpountz.lz4.LZ4Factory f = net.jpountz.lz4.LZ4Factory.nativeInstance();
                net.jpountz.lz4.LZ4Compressor fast = f.fastCompressor();
                net.jpountz.lz4.LZ4Compressor high = f.highCompressor();
                net.jpountz.lz4.LZ4FastDecompressor d = f.fastDecompressor();
                byte[] restored = new byte[input.length];
                return () -> {
                    byte[] a = fast.compress(input);
                    byte[] b = high.compress(input);
                    d.decompress(a, 0, restored, 0, input.length);
                    return a.length + b.length + restored[7];
                };
            });
            default -> throw new IllegalArgumentException("libraries are " + NAMES + ", not " + name);
        };
    }

    private interface Unit {
        long run() throws Exception;
    }

    private interface UnitFactory {
        Unit create() throws Exception;
    }

    /** A thread that sets the workload up and then runs its unit until closed. */
    private static Running loop(String name, String libraryKey, UnitFactory factory) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = new Thread(() -> {
            long sink = 0;
            try {
                Unit unit = factory.create();
                ready.countDown();
                while (!stop.get()) sink += unit.run();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                ready.countDown();
            }
            if (sink == 42) System.out.print("");
        }, "jni-" + name);
        t.setDaemon(true);
        t.start();
        if (!ready.await(60, TimeUnit.SECONDS) || failure.get() != null) {
            throw new IllegalStateException(name + " did not start", failure.get());
        }
        return new Running() {
            public String name() {
                return name;
            }

            public String libraryKey() {
                return libraryKey;
            }

            public Thread thread() {
                return t;
            }

            public void close() throws Exception {
                stop.set(true);
                t.join(30_000);
                if (failure.get() != null) throw new IllegalStateException(name + " failed", failure.get());
            }
        };
    }

    /** RocksDB in a temporary directory: batches of puts and gets, the write-ahead log off. */
    private static Running rocksdb() throws Exception {
        Path dir = Files.createTempDirectory("jni-rocksdb");
        Running r = loop("rocksdb", "rocksdb", () -> {
            org.rocksdb.RocksDB.loadLibrary();
            org.rocksdb.Options options = new org.rocksdb.Options().setCreateIfMissing(true);
            org.rocksdb.RocksDB db = org.rocksdb.RocksDB.open(options, dir.toString());
            org.rocksdb.WriteOptions write = new org.rocksdb.WriteOptions().setDisableWAL(true);
            byte[] value = AccuracyWorkload.text(100, 14);
            long[] n = {0};
            return () -> {
                long sum = 0;
                for (int i = 0; i < 200; i++) {
                    long k = (n[0]++ * 0x9E3779B97F4A7C15L) & 0xFFFFF;
                    byte[] key = ("key-" + k).getBytes();
                    db.put(write, key, value);
                    byte[] got = db.get(key);
                    sum += got == null ? 0 : got.length;
                }
                return sum;
            };
        });
        return new Running() {
            public String name() {
                return r.name();
            }

            public String libraryKey() {
                return r.libraryKey();
            }

            public Thread thread() {
                return r.thread();
            }

            public void close() throws Exception {
                r.close();
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        };
    }

    /**
     * netty's epoll transport: the profiled thread is an event loop's (epoll_wait through netty's JNI
     * library, woken by an eventfd); a driver thread hands it small tasks, one after another.
     */
    private static Running netty() throws Exception {
        io.netty.channel.epoll.Epoll.ensureAvailability();
        AtomicReference<Thread> loopThread = new AtomicReference<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "jni-netty");
            t.setDaemon(true);
            loopThread.set(t);
            return t;
        }, EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        loop.submit(() -> {}).get(30, TimeUnit.SECONDS);
        AtomicBoolean stop = new AtomicBoolean();
        Thread driver = new Thread(() -> {
            int[] a = new int[256];
            while (!stop.get()) {
                try {
                    Future<?> f = loop.submit(() -> AccuracyWorkload.integerKernel(a, a[0]));
                    f.get(30, TimeUnit.SECONDS);
                    Thread.sleep(0, 200_000);
                } catch (Exception e) {
                    return;
                }
            }
        }, "jni-netty-driver");
        driver.setDaemon(true);
        driver.start();
        return new Running() {
            public String name() {
                return "netty";
            }

            public String libraryKey() {
                return "netty";
            }

            public Thread thread() {
                return loopThread.get();
            }

            public void close() throws Exception {
                stop.set(true);
                driver.join(30_000);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(30, TimeUnit.SECONDS);
            }
        };
    }
}
