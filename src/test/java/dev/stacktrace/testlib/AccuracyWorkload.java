package dev.stacktrace.testlib;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * A workload with a known split of one thread's time between two parts, for measuring a profiler's
 * accuracy: the thread alternates a native part and a Java part in short slices of random length
 * (so that a periodic sampler cannot fall into step with them), and measures each part's own thread
 * CPU time and wall time around it. That is the truth a profile is held to.
 *
 * <p>Each part has its own Java entry method, {@link #NATIVE_ENTRY} and {@link #JAVA_ENTRY}, whose
 * frame is on the thread's stack exactly while the part runs: a part's share of a profile is the
 * share of the thread's samples whose stack holds that frame.
 *
 * <p>Not thread-safe: one thread runs a workload, from {@link #warmUp} to {@link #close}.
 */
public abstract class AccuracyWorkload implements AutoCloseable {
    /** The native part's entry frame's method name (unique in this code base). */
    public static final String NATIVE_ENTRY = "accuracyNativePart";
    /** The Java part's entry frame's method name. */
    public static final String JAVA_ENTRY = "accuracyJavaPart";

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final String name;
    private final String description;
    private final double nativeSliceNanos;
    private final double javaSliceNanos;
    private final Random random = new Random(42);
    /** Estimated cost of one unit of each part, updated after every slice. */
    private double nativeUnitNanos = 100_000;
    private double javaUnitNanos = 100_000;
    private long sink;

    /**
     * @param nativeSliceMillis mean length of a native slice (each is 0.5x to 1.5x of it)
     * @param javaSliceMillis   mean length of a Java slice
     */
    protected AccuracyWorkload(String name, String description, double nativeSliceMillis, double javaSliceMillis) {
        this.name = name;
        this.description = description;
        this.nativeSliceNanos = nativeSliceMillis * 1e6;
        this.javaSliceNanos = javaSliceMillis * 1e6;
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    /** One small piece of native work (a JNI call into the library); returns something to keep. */
    protected abstract long nativeUnit(long seed) throws Exception;

    /** One small piece of Java work. */
    protected abstract long javaUnit(long seed) throws Exception;

    /** The native part's entry frame: {@code units} units of native work. */
    public final long accuracyNativePart(int units, long seed) throws Exception {
        long s = seed;
        for (int i = 0; i < units; i++) s += nativeUnit(s);
        return s;
    }

    /** The Java part's entry frame. */
    public final long accuracyJavaPart(int units, long seed) throws Exception {
        long s = seed;
        for (int i = 0; i < units; i++) s += javaUnit(s);
        return s;
    }

    /** Runs slices for a while, unmeasured: the JIT compiles both parts and the unit costs settle. */
    public void warmUp(Duration duration) throws Exception {
        long end = System.nanoTime() + duration.toNanos();
        run(() -> System.nanoTime() < end);
    }

    /**
     * Runs slices on the calling thread while {@code more} says so (asked between slices) and returns
     * each part's measured time and the thread's in all, from this call's start to its end.
     */
    public Split run(BooleanSupplier more) throws Exception {
        long nativeCpu = 0, javaCpu = 0, nativeWall = 0, javaWall = 0;
        int slices = 0;
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        while (more.getAsBoolean()) {
            int nu = units(nativeSliceNanos, nativeUnitNanos);
            int ju = units(javaSliceNanos, javaUnitNanos);
            // Each part's wall time is stamped right around it, and the CPU clock is read outside those
            // stamps: reading the thread's own CPU clock is a system call at which a loaded kernel
            // often switches the thread out (10% of the wall samples beside busy loops), and a
            // wall-mode sample of that wait is truly in neither part.
            long c0 = THREADS.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            sink += accuracyNativePart(nu, sink);
            long w1 = System.nanoTime();
            long c1 = THREADS.getCurrentThreadCpuTime();
            long w1b = System.nanoTime();
            sink += accuracyJavaPart(ju, sink);
            long w2 = System.nanoTime();
            long c2 = THREADS.getCurrentThreadCpuTime();
            nativeCpu += c1 - c0;
            javaCpu += c2 - c1;
            nativeWall += w1 - w0;
            javaWall += w2 - w1b;
            nativeUnitNanos = 0.7 * nativeUnitNanos + 0.3 * Math.max(1, (c1 - c0) / (double) nu);
            javaUnitNanos = 0.7 * javaUnitNanos + 0.3 * Math.max(1, (c2 - c1) / (double) ju);
            slices++;
        }
        long cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        long wall = System.nanoTime() - wall0;
        return new Split(nativeCpu, javaCpu, cpu, nativeWall, javaWall, wall, slices);
    }

    private int units(double sliceNanos, double unitNanos) {
        double target = sliceNanos * (0.5 + random.nextDouble());
        return (int) Math.max(1, Math.min(1_000_000, Math.round(target / unitNanos)));
    }

    /** Something computed from all the work, so that none of it can be optimized away. */
    public long sink() {
        return sink;
    }

    @Override
    public void close() throws Exception {}

    /**
     * Time in each part and in all of one {@link #run}: thread CPU time and wall time, in nanoseconds.
     * The rest of the total (the loop and the clocks) belongs to neither part.
     */
    public record Split(long nativeCpu, long javaCpu, long totalCpu, long nativeWall, long javaWall, long totalWall,
                        int slices) {
        public double nativeCpuShare() {
            return (double) nativeCpu / totalCpu;
        }

        public double javaCpuShare() {
            return (double) javaCpu / totalCpu;
        }

        public double nativeWallShare() {
            return (double) nativeWall / totalWall;
        }

        public double javaWallShare() {
            return (double) javaWall / totalWall;
        }
    }

    /** Text-like bytes (words from a small vocabulary, with some hex): compresses about 3:1. */
    public static byte[] text(int bytes, long seed) {
        String[] words = {"stack", "frame", "native", "java", "thread", "signal", "sample", "profile", "zlib",
                "deflate", "method", "return", "address", "symbol", "library", "the", "of", "a", "in", "to"};
        StringBuilder sb = new StringBuilder(bytes + 16);
        long x = 0x9E3779B97F4A7C15L ^ seed;
        while (sb.length() < bytes) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sb.append(words[(int) Long.remainderUnsigned(x, words.length)]);
            sb.append(((x >>> 40) & 7) == 0 ? ".\n" : " ");
            if (((x >>> 50) & 15) == 0) sb.append(Long.toHexString(x >>> 32));
        }
        return sb.substring(0, bytes).getBytes(StandardCharsets.US_ASCII);
    }

    /** Pure Java, no calls, no allocation: a mixing pass over an int array. */
    public static long integerKernel(int[] a, long seed) {
        int x = (int) seed | 1;
        long h = 0;
        for (int i = 0; i < a.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            int v = a[i] + x;
            v = Integer.rotateLeft(v * 0x9E3779B1, 7) ^ a[(i + 1) & (a.length - 1)];
            a[i] = v;
            h += v;
        }
        return h;
    }
}
