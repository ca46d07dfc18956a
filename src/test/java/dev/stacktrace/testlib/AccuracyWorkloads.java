package dev.stacktrace.testlib;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.CRC32C;
import java.util.zip.Deflater;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The accuracy workloads: each a native part in a real JNI library against a Java part of some
 * kind, alternating on one thread (see {@link AccuracyWorkload}).
 */
public final class AccuracyWorkloads {
    private AccuracyWorkloads() {}

    /** The four workloads by name: a, b, c, d. */
    public static AccuracyWorkload create(String name) throws Exception {
        return switch (name) {
            case "a" -> sqliteVsIntrinsics();
            case "b" -> zlibVsIntegerKernel();
            case "c" -> streamsVsZstd();
            case "d" -> snappyVsIntegerKernel();
            default -> throw new IllegalArgumentException("workloads are a, b, c and d, not " + name);
        };
    }

    /**
     * (a) SQLite (sqlite-jdbc: an in-memory database, a recursive query, all of it inside one JNI
     * call to sqlite3_step) against Java calling intrinsics: Math.sin and Math.log, System.arraycopy,
     * CRC32C, String.indexOf and AES/GCM through javax.crypto. Compiled, those run in JVM stubs
     * (StubRoutines), which a stack walker has to step through to find the Java caller.
     */
    public static AccuracyWorkload sqliteVsIntrinsics() throws Exception {
        return new SqliteVsIntrinsics();
    }

    /** (b) zlib's deflate through java.util.zip.Deflater against a pure-Java integer kernel. */
    public static AccuracyWorkload zlibVsIntegerKernel() {
        return new ZlibVsIntegerKernel();
    }

    /** (c) Java streams and lambdas (many small frames, boxing, collectors) against zstd-jni compression. */
    public static AccuracyWorkload streamsVsZstd() {
        return new StreamsVsZstd();
    }

    /**
     * (d) snappy-java compression (a stripped library: its only exported symbols are its JNI entries)
     * against the pure-Java integer kernel.
     */
    public static AccuracyWorkload snappyVsIntegerKernel() {
        return new SnappyVsIntegerKernel();
    }

    private static final class SqliteVsIntrinsics extends AccuracyWorkload {
        private final Connection connection;
        private final PreparedStatement query;
        private final double[] doubles = new double[256];
        private final byte[] bytes = text(64 * 1024, 1);
        private final byte[] copy = new byte[bytes.length];
        private final CRC32C crc = new CRC32C();
        private final String haystack;
        private final Cipher gcm;
        private final SecretKeySpec key = new SecretKeySpec(Arrays.copyOf(text(16, 2), 16), "AES");
        private final byte[] iv = new byte[12];
        private final byte[] plain = text(8 * 1024, 3);
        private final byte[] sealed = new byte[plain.length + 16];
        private long ivCounter;

        SqliteVsIntrinsics() throws Exception {
            super("a", "sqlite-jdbc recursive query vs Java calling intrinsics (sin/log, arraycopy, CRC32C, indexOf, AES/GCM)",
                    8, 10);
            connection = DriverManager.getConnection("jdbc:sqlite::memory:");
            query = connection.prepareStatement("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    + "WHERE x < 3000) SELECT sum(x * x % 7) FROM c");
            for (int i = 0; i < doubles.length; i++) doubles[i] = 0.5 + i * 0.37;
            haystack = new String(text(32 * 1024, 4), StandardCharsets.US_ASCII) + "needle";
            gcm = Cipher.getInstance("AES/GCM/NoPadding");
        }

        @Override
        protected long nativeUnit(long seed) throws Exception {
            try (ResultSet rs = query.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }

        @Override
        protected long javaUnit(long seed) throws Exception {
            double acc = 0;
            double shift = (seed & 15) * 0.01;
            for (double d : doubles) acc += Math.sin(d + shift) + Math.log(d + shift);
            int from = (int) (seed & 63);
            System.arraycopy(bytes, from, copy, 0, bytes.length - from);
            crc.reset();
            crc.update(copy, 0, copy.length);
            int at = haystack.indexOf("needle", (int) (seed & 7));
            long n = ++ivCounter;
            for (int i = 0; i < 8; i++) iv[i] = (byte) (n >>> (8 * i));  // a fresh IV per message, as GCM requires
            gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
            int len = gcm.doFinal(plain, 0, plain.length, sealed, 0);
            return (long) acc + crc.getValue() + at + len + sealed[(int) (seed & 7)];
        }

        @Override
        public void close() throws Exception {
            query.close();
            connection.close();
        }
    }

    private static final class ZlibVsIntegerKernel extends AccuracyWorkload {
        private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        private final byte[] input = text(16 * 1024, 5);
        private final byte[] output = new byte[input.length + 1024];
        private final int[] ints = new int[4096];

        ZlibVsIntegerKernel() {
            super("b", "java.util.zip.Deflater (zlib) vs a pure-Java integer kernel", 8, 10);
        }

        @Override
        protected long nativeUnit(long seed) {
            deflater.reset();
            deflater.setInput(input);
            deflater.finish();
            long n = 0;
            while (!deflater.finished()) n += deflater.deflate(output);
            return n;
        }

        @Override
        protected long javaUnit(long seed) {
            return integerKernel(ints, seed);
        }

        @Override
        public void close() {
            deflater.end();
        }
    }

    private static final class StreamsVsZstd extends AccuracyWorkload {
        private final byte[] input = text(64 * 1024, 6);
        private final String[] words = new String(text(16 * 1024, 7), StandardCharsets.US_ASCII).split("[ .\n]+");

        StreamsVsZstd() {
            super("c", "Java streams and lambdas vs zstd-jni compression", 10, 8);
        }

        @Override
        protected long nativeUnit(long seed) {
            return com.github.luben.zstd.Zstd.compress(input, 3).length;
        }

        @Override
        protected long javaUnit(long seed) {
            int offset = (int) (seed & 1023);
            Map<Integer, Long> byLength = IntStream.range(0, 2000)
                    .mapToObj(i -> words[(i + offset) % words.length])
                    .filter(w -> !w.isEmpty())
                    .map(w -> w.charAt(0) == 's' ? w.toUpperCase() : w)
                    .collect(Collectors.groupingBy(String::length, Collectors.counting()));
            Function<Long, Long> square = v -> v * v;
            return byLength.values().stream().map(square).mapToLong(Long::longValue).sum();
        }
    }

    private static final class SnappyVsIntegerKernel extends AccuracyWorkload {
        private final byte[] input = text(64 * 1024, 8);
        private final byte[] output = new byte[org.xerial.snappy.Snappy.maxCompressedLength(input.length)];
        private final int[] ints = new int[4096];

        SnappyVsIntegerKernel() {
            super("d", "snappy-java compression (only JNI entries exported) vs a pure-Java integer kernel", 8, 10);
        }

        @Override
        protected long nativeUnit(long seed) throws Exception {
            return org.xerial.snappy.Snappy.compress(input, 0, input.length, output, 0);
        }

        @Override
        protected long javaUnit(long seed) {
            return integerKernel(ints, seed);
        }
    }
}
