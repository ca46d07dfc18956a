package dev.stacktrace.internal.capture;

import dev.stacktrace.StacktraceException;
import dev.stacktrace.StacktraceException.Reason;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.time.Duration;

/**
 * The native sampler: timers and signals live in native-lib/src/profiler.c, the aggregate table in table.c;
 * this class starts and stops it, reads the table and the counters, and turns error codes into
 * exceptions. There is one sampler per process.
 */
public final class NativeSampler {
    /** The deepest stack a sample records. */
    public static final int MAX_FRAMES = LibStacktrace.PROFILE_MAX_FRAMES;
    /** Distinct stacks the table holds by default. */
    public static final int DEFAULT_TABLE_ENTRIES = 8192;
    /** Sampling intervals run from 0.1 ms ... */
    public static final Duration MIN_INTERVAL = Duration.ofNanos(100_000);
    /** ... to 60 s. */
    public static final Duration MAX_INTERVAL = Duration.ofNanos(LibStacktrace.PROFILE_MAX_INTERVAL_NANOS);

    /** A snapshot of the counters (see enum st_profile_counter). */
    public record Counters(long samples, long incomplete, long tableFull, long busy, long threadGone, long nanos,
                           long maxNanos) {
        /** Samples that could not be recorded at all, all reasons together. */
        public long errors() {
            return tableFull + busy + threadGone;
        }
    }

    private NativeSampler() {}

    /** The interval, if it is between {@link #MIN_INTERVAL} and {@link #MAX_INTERVAL}. */
    public static Duration checkInterval(Duration interval) {
        if (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("interval must be from 0.1 ms to 60 s, not " + interval);
        }
        return interval;
    }

    /**
     * Starts sampling. {@code tids} empty: every thread of the process, including later ones.
     *
     * @throws IllegalStateException when sampling is already running
     */
    public static synchronized void start(boolean cpu, Duration interval, int[] tids, int maxFrames, int tableEntries) {
        checkInterval(interval);
        NativeCapture capture = NativeCapture.get();
        String unavailable = capture.javaFramesUnavailable();
        if (unavailable != null) throw new StacktraceException(Reason.UNSUPPORTED, "cannot profile: " + unavailable);
        int rc = LibStacktrace.st_profile_start(cpu ? LibStacktrace.PROFILE_CPU : LibStacktrace.PROFILE_WALL,
                interval.toNanos(), tids, tids.length, maxFrames, tableEntries);
        if (rc == -16 /* EBUSY */) {
            throw new IllegalStateException(running()
                    ? "a profiler is already running in this JVM; stop it before starting another"
                    : "a sampling handler of the previous profiler has not finished (a thread stopped or starved "
                            + "inside it); its table is kept, try again later");
        }
        if (rc == -22 /* EINVAL */) {
            throw new IllegalArgumentException("invalid profiling settings: interval " + interval + ", " + tids.length
                    + " threads, depth " + maxFrames + ", table " + tableEntries);
        }
        if (rc < 0) throw new StacktraceException(Reason.INTERNAL, "cannot start the sampler (error " + -rc + ")");
    }

    /**
     * Stops sampling. Returns false when a handler did not leave the table within 2 s (a thread
     * stopped or starved inside it): the table then stays mapped and is not reused until it leaves.
     */
    public static synchronized boolean stop() {
        return LibStacktrace.st_profile_stop() == 0;
    }

    public static boolean running() {
        return LibStacktrace.st_profile_running() != 0;
    }

    public static int sampledThreads() {
        return LibStacktrace.st_profile_threads();
    }

    public static Counters counters() {
        long[] c = new long[LibStacktrace.COUNTERS];
        LibStacktrace.st_profile_counters(c, c.length);
        return new Counters(c[LibStacktrace.COUNTER_SAMPLES], c[LibStacktrace.COUNTER_INCOMPLETE],
                c[LibStacktrace.COUNTER_TABLE_FULL], c[LibStacktrace.COUNTER_BUSY], c[LibStacktrace.COUNTER_THREAD_GONE],
                c[LibStacktrace.COUNTER_NANOS], c[LibStacktrace.COUNTER_MAX_NANOS]);
    }

    /**
     * The table: per distinct stack [count, frames, (kind, id, bci) x frames]. Synchronized with
     * start and stop so that a read sees one run's table (the native side also locks the table).
     */
    public static synchronized long[] read() {
        long[] out = new long[64 * 1024];
        for (int attempt = 0; attempt < 8; attempt++) {
            long words = LibStacktrace.st_profile_read(out, out.length);
            if (words >= 0) return java.util.Arrays.copyOf(out, (int) words);
            long needed = -words + 16 * 1024;  // it grows while we look
            if (needed > Integer.MAX_VALUE - 8) throw new IllegalStateException("profile too large to read");
            out = new long[(int) needed];
        }
        throw new IllegalStateException("the profile kept growing faster than it could be read");
    }
}
