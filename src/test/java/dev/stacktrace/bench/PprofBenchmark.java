package dev.stacktrace.bench;

import com.sun.management.ThreadMXBean;
import dev.stacktrace.StackEntry;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The cost of writing a profile as pprof (bench/pprof.sh): a 60 s cpu profile of 2,000 distinct
 * stacks, and one of 1,000 threads with 50,000 distinct stacks. The stacks are built from real
 * frames (a short profile of this JVM: native frames with their libraries' mappings, Java frames)
 * plus synthetic Java methods (2,000, or -Dmethods=N), so the encoder meets real symbols, mappings
 * and build ids. Prints encode time (p50, p90; elapsed and the thread's CPU time) and heap allocated
 * by the encoding thread (p50), the pprof size, and the
 * native table's memory for that many stacks (its layout: 32 bytes an entry, 24 a frame in use,
 * 48 frames an entry mapped).
 */
public final class PprofBenchmark {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Distinct Java methods the stacks are drawn from, beside the real frames. */
    private static final int SYNTHETIC_METHODS = Integer.getInteger("methods", 2_000);

    public static void main(String[] args) throws Exception {
        List<StackEntry> pool = realFrames();
        System.out.printf("pprof encode; %s, %s, %d cores, load average %.1f; %d real frames in the pool, %,d synthetic "
                + "Java methods%n", Runtime.version(), System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), pool.size(), SYNTHETIC_METHODS);
        run("60 s cpu profile, 2,000 distinct stacks, 8 threads", build(pool, 2_000, 8, 1), 200);
        run("60 s cpu profile, 50,000 distinct stacks, 1,000 threads", build(pool, 50_000, 1_000, 2), 30);
    }

    private static void run(String what, ProfileSnapshot s, int rounds) throws Exception {
        long[] nanos = new long[rounds];
        long[] bytes = new long[rounds];
        long[] cpu = new long[rounds];
        long size = 0;
        for (int i = 0; i < rounds / 2; i++) encode(s);  // warm-up
        for (int i = 0; i < rounds; i++) {
            long a0 = THREADS.getCurrentThreadAllocatedBytes();
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            size = encode(s);
            nanos[i] = System.nanoTime() - t0;
            cpu[i] = THREADS.getCurrentThreadCpuTime() - c0;
            bytes[i] = THREADS.getCurrentThreadAllocatedBytes() - a0;
        }
        Arrays.sort(nanos);
        Arrays.sort(bytes);
        Arrays.sort(cpu);
        Set<StackEntry> distinct = new HashSet<>();
        for (ProfileSnapshot.Sample x : s.samples()) distinct.addAll(x.frames());
        long frames = 0;
        for (ProfileSnapshot.Sample x : s.samples()) frames += x.frames().size();
        int entries = Integer.highestOneBit(s.samples().size() * 2 - 1);  // a power of two, at most half full
        long inUse = 32L * entries + 24L * frames;
        long mapped = 32L * entries + 24L * 48 * entries;
        System.out.printf("%s (%,d samples, %,d frames, %.1f frames a stack, %,d distinct frames):%n", what,
                s.totalCount(), frames, frames / (double) s.samples().size(), distinct.size());
        System.out.printf("  encode: p50 %.1f ms, p90 %.1f ms elapsed; CPU p50 %.1f ms, p90 %.1f ms; over %d runs; heap "
                + "allocated p50 %.2f MB; pprof %,d bytes (gzip)%n", nanos[rounds / 2] / 1e6, nanos[rounds * 9 / 10] / 1e6,
                cpu[rounds / 2] / 1e6, cpu[rounds * 9 / 10] / 1e6, rounds, bytes[rounds / 2] / 1e6, size);
        System.out.printf("  native table for these stacks (%,d entries): %.1f MB in use, %.1f MB mapped%n", entries,
                inUse / 1e6, mapped / 1e6);
    }

    private static long encode(ProfileSnapshot s) throws Exception {
        CountingStream out = new CountingStream();
        s.writePprof(out);
        return out.count;
    }

    /** Frames of a short all-threads profile of this JVM while it deflates, sorts and sleeps. */
    private static List<StackEntry> realFrames() throws Exception {
        Set<StackEntry> frames = new HashSet<>();
        for (int attempt = 0; attempt < 5 && frames.size() < 50; attempt++) frames.addAll(profileOnce());
        if (frames.isEmpty()) throw new IllegalStateException("no sample in five short profiles of this JVM");
        return new ArrayList<>(frames);
    }

    private static Set<StackEntry> profileOnce() throws Exception {
        Thread work = new Thread(() -> {
            byte[] input = new byte[1 << 18];
            new Random(1).nextBytes(input);
            long end = System.nanoTime() + 2_500_000_000L;
            while (System.nanoTime() < end) {
                java.util.zip.Deflater d = new java.util.zip.Deflater();
                d.setInput(input);
                d.finish();
                byte[] out = new byte[1 << 19];
                while (!d.finished()) d.deflate(out);
                d.end();
                int[] a = new Random(2).ints(10_000).toArray();
                Arrays.sort(a);
            }
        }, "bench-work");
        work.start();
        Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.WALL).interval(Duration.ofMillis(5)).build().start();
        work.join();
        p.join();
        Set<StackEntry> frames = new HashSet<>();
        p.getStacks().keySet().forEach(frames::addAll);
        System.out.printf("  a short wall profile of this JVM: %d samples, errors %s, %d distinct frames%n", p.sampleCount(),
                p.errorCounts(), frames.size());
        return frames;
    }

    /**
     * {@code stacks} distinct stacks over {@code threads} threads: a thread's base (real bottom
     * frames), then 20 to 40 frames drawn from the real pool and from 5,000 synthetic Java methods,
     * with counts that add up to 60 s at 100 Hz of half the threads' time.
     */
    private static ProfileSnapshot build(List<StackEntry> pool, int stacks, int threads, long seed) {
        Random r = new Random(seed);
        List<StackEntry> synthetic = new ArrayList<>();
        for (int i = 0; i < SYNTHETIC_METHODS; i++) {
            synthetic.add(StackEntry.javaFrame(0, StackEntry.Kind.JAVA_COMPILED, "bench.app.Service" + (i / 20),
                    "method" + (i % 20), "Service" + (i / 20) + ".java", 10 + i % 500));
        }
        Set<List<StackEntry>> seen = new HashSet<>();
        List<ProfileSnapshot.Sample> samples = new ArrayList<>(stacks);
        long budget = 60L * 100 * Math.max(1, threads / 2);
        while (samples.size() < stacks) {
            int depth = 20 + r.nextInt(21);
            StackEntry[] frames = new StackEntry[depth];
            int thread = r.nextInt(threads);
            for (int i = 0; i < depth; i++) {  // innermost first: the base is the last 4
                boolean base = i >= depth - 4;
                boolean real = base || r.nextInt(4) == 0;
                frames[i] = real ? pool.get(Math.floorMod(base ? thread * 7 + (depth - i) : r.nextInt(), pool.size()))
                        : synthetic.get(r.nextInt(synthetic.size()));
            }
            List<StackEntry> stack = List.of(frames);
            if (!seen.add(stack)) continue;
            samples.add(new ProfileSnapshot.Sample(stack, Map.of(), 1 + r.nextInt((int) Math.max(1, 2 * budget / stacks))));
        }
        return ProfileSnapshot.of(Profiler.Mode.CPU, Duration.ofMillis(10), Instant.now(), Duration.ofSeconds(60), samples);
    }
}
