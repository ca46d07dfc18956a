package dev.stacktrace.bench;

import dev.stacktrace.testlib.ProcessStatus;
import dev.stacktrace.tools.ProfileIntervals;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Deflater;

/**
 * Memory over a long profile (bench/long-run.sh): many threads (1,000 by default) run through a
 * tree of Java methods {@code width^depth} paths wide, ending in Java arithmetic or in zlib, then
 * sleep, so that together they keep about {@code --load} cores busy. The whole JVM is profiled in
 * cpu mode at 100 Hz, and read as a push would read it (the samples of each {@code --push}
 * interval, encoded to pprof) and as a scrape of the whole profile would (a snapshot encoded to
 * pprof, every {@code --report}). At every report it prints the samples, the distinct stacks, the
 * resident set and the heap live after a full GC; at the end, how much each grew over the second
 * half of the run, and one {@code result} line of numbers (what the short run in CI checks).
 *
 * <pre>
 *   bench/long-run.sh [--seconds 3600] [--threads 1000] [--report 60] [--push 15] [--width 6] [--depth 5]
 *                     [--load 1.0] [--table 65536]
 * </pre>
 *
 * The heap should be run fixed and touched ({@code -Xms -Xmx -XX:+AlwaysPreTouch}, as the script
 * does), so that the resident set moves only with native memory, code and metadata.
 */
public final class LongRunBenchmark {
    private static final Duration INTERVAL = Duration.ofMillis(10);
    /** Work at a path's end, before the thread sleeps. */
    private static final long BURST_NANOS = 100_000;

    private static int width = 6;
    private static int depth = 5;
    private static volatile boolean running = true;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        long seconds = 3600;
        int threads = 1000;
        long report = 60;
        long push = 15;
        double load = 1.0;
        int table = 65536;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i++]) {
                case "--seconds" -> seconds = Long.parseLong(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--report" -> report = Long.parseLong(value);
                case "--push" -> push = Long.parseLong(value);
                case "--width" -> width = Integer.parseInt(value);
                case "--depth" -> depth = Integer.parseInt(value);
                case "--load" -> load = Double.parseDouble(value);
                case "--table" -> table = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i - 1]
                        + "; usage: [--seconds N] [--threads N] [--report S] [--push S] [--width N] [--depth N] "
                        + "[--load CORES] [--table ENTRIES]");
            }
        }
        if (width < 1 || width > 8 || depth < 1 || threads < 1 || load <= 0 || report < 1 || push < 1) {
            throw new IllegalArgumentException("width 1-8, depth, threads, load, report and push must be positive");
        }
        long paths = (long) Math.pow(width, depth);
        long sleepMicros = Math.max(1, Math.round(BURST_NANOS / 1e3 * threads / load));
        System.out.printf("long run: %s, %d cores, load average %.1f; %d threads, %,d paths (width %d, depth %d) x 2 "
                        + "ends, %d µs of work then %d µs of sleep; cpu profile at %s, table %,d entries; push read every %d s, "
                        + "report every %d s, %d s in all%n", Runtime.version(), Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), threads, paths, width, depth,
                BURST_NANOS / 1000, sleepMicros, INTERVAL, table, push, report, seconds);

        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> work(paths, sleepMicros), "long-run-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
        Profiler profiler = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(INTERVAL).tableSize(table)
                .build().start();
        ProfileIntervals intervals = profiler.intervals();
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();

        System.out.printf("%8s %12s %10s %10s %12s %12s %10s %10s %12s%n", "seconds", "samples", "stacks", "table_full",
                "RSS KiB", "heap KiB", "push ms", "scrape ms", "pprof bytes");
        List<Row> rows = new ArrayList<>();
        long start = System.nanoTime();
        long nextPush = push;
        long pushCpu = 0;
        int pushes = 0;
        for (long at = report; at <= seconds; at += report) {
            while (nextPush <= at) {  // the pushes due before this report, each at its time
                sleepUntil(start, nextPush);
                long c0 = cpu.getCurrentThreadCpuTime();
                intervals.next().writePprof(new CountingStream());
                pushCpu += cpu.getCurrentThreadCpuTime() - c0;
                pushes++;
                nextPush += push;
            }
            sleepUntil(start, at);
            long c0 = cpu.getCurrentThreadCpuTime();
            ProfileSnapshot whole = profiler.snapshot();
            CountingStream pprof = new CountingStream();
            whole.writePprof(pprof);
            long scrape = cpu.getCurrentThreadCpuTime() - c0;
            Row row = new Row(at, profiler.sampleCount(), whole.samples().size(),
                    profiler.errorCounts().getOrDefault("table_full", 0L), ProcessStatus.rssKib(), liveHeapKib(),
                    pushes == 0 ? 0 : pushCpu / 1e6 / pushes, scrape / 1e6, pprof.count);
            rows.add(row);
            pushCpu = 0;
            pushes = 0;
            System.out.printf("%8d %,12d %,10d %,10d %,12d %,12d %10.1f %10.1f %,12d%n", row.seconds, row.samples,
                    row.stacks, row.tableFull, row.rssKib, row.heapKib, row.pushMs, row.scrapeMs, row.pprofBytes);
        }
        running = false;
        profiler.close();
        if (rows.size() < 2) throw new IllegalArgumentException("fewer than two reports: --seconds must be at least 2 x --report");
        Row mid = rows.get((rows.size() - 1) / 2);
        Row last = rows.get(rows.size() - 1);
        System.out.printf("over the second half (%d s to %d s): RSS %+,d KiB, live heap %+,d KiB, distinct stacks %+,d, "
                        + "samples %+,d%n", mid.seconds, last.seconds,
                last.rssKib - mid.rssKib, last.heapKib - mid.heapKib, last.stacks - mid.stacks,
                last.samples - mid.samples);
        int entries = table;
        System.out.printf("native table (by its layout): %,d entries, %.1f MB mapped, touched as stacks arrive%n", entries,
                (32L * entries + 24L * 48 * entries) / 1e6);
        System.out.printf("result samples=%d stacks=%d tableFull=%d midTableFull=%d rssGrowthKib=%d heapGrowthKib=%d "
                        + "stackGrowth=%d errors=%s%n", last.samples, last.stacks, last.tableFull, mid.tableFull, last.rssKib - mid.rssKib,
                last.heapKib - mid.heapKib, last.stacks - mid.stacks, profiler.errorCounts());
        for (Thread t : workers) t.join(1_000);
        if (sink == 42) System.out.println(sink);
    }

    private record Row(long seconds, long samples, long stacks, long tableFull, long rssKib, long heapKib, double pushMs,
                       double scrapeMs, long pprofBytes) {}

    private static void sleepUntil(long start, long seconds) throws InterruptedException {
        long left = start + seconds * 1_000_000_000L - System.nanoTime();
        if (left > 0) Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
    }

    private static void work(long paths, long sleepMicros) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        Deflater deflater = new Deflater(1);
        byte[] input = new byte[4096];
        byte[] output = new byte[8192];
        r.nextBytes(input);
        try {
            while (running) {
                sink += descend(0, r.nextLong(paths), r.nextBoolean(), deflater, input, output);
                Thread.sleep(sleepMicros / 1000, (int) (sleepMicros % 1000) * 1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deflater.end();
        }
    }

    // At each level a path picks one of `width` methods: each path is a Java stack of its own.
    private static long descend(int level, long path, boolean zlib, Deflater d, byte[] in, byte[] out) {
        if (level == depth) return zlib ? deflate(d, in, out) : arithmetic(path);
        long rest = path / width;
        return switch ((int) (path % width)) {
            case 0 -> m0(level, rest, zlib, d, in, out);
            case 1 -> m1(level, rest, zlib, d, in, out);
            case 2 -> m2(level, rest, zlib, d, in, out);
            case 3 -> m3(level, rest, zlib, d, in, out);
            case 4 -> m4(level, rest, zlib, d, in, out);
            case 5 -> m5(level, rest, zlib, d, in, out);
            case 6 -> m6(level, rest, zlib, d, in, out);
            default -> m7(level, rest, zlib, d, in, out);
        };
    }

    private static long m0(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 1; }
    private static long m1(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 2; }
    private static long m2(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 3; }
    private static long m3(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 4; }
    private static long m4(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 5; }
    private static long m5(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 6; }
    private static long m6(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 7; }
    private static long m7(int l, long p, boolean z, Deflater d, byte[] i, byte[] o) { return descend(l + 1, p, z, d, i, o) + 8; }

    private static long arithmetic(long seed) {
        long x = seed | 1;
        long end = System.nanoTime() + BURST_NANOS;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 200; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }

    private static long deflate(Deflater d, byte[] in, byte[] out) {
        long n = 0;
        long end = System.nanoTime() + BURST_NANOS;
        while (System.nanoTime() < end) {
            d.reset();
            d.setInput(in);
            d.finish();
            while (!d.finished()) n += d.deflate(out);
        }
        return n;
    }

    private static long liveHeapKib() throws InterruptedException {
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024;
    }
}
