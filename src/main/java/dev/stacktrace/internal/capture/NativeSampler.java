package dev.stacktrace.internal.capture;

import dev.stacktrace.StacktraceException;
import dev.stacktrace.StacktraceException.Reason;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.time.Duration;

/**
 * The native sampler: timers, signals and the aggregate table live in native-lib/src/profiler.c;
 * this class starts and stops it, reads the table and the counters, and turns error codes into
 * exceptions. There is one sampler per process.
 */
public final class NativeSampler {
    /** Distinct stacks the table holds by default. */
    public static final int DEFAULT_TABLE_ENTRIES = 8192;

    /** A snapshot of the counters (see enum st_profile_counter). */
    public record Counters(long samples, long incomplete, long tableFull, long busy, long threadGone, long nanos,
                           long maxNanos) {
        /** Samples that could not be recorded at all, all reasons together. */
        public long errors() {
            return tableFull + busy + threadGone;
        }
    }

    private NativeSampler() {}

    /**
     * Starts sampling. {@code tids} empty: every thread of the process, including later ones.
     *
     * @throws IllegalStateException when sampling is already running
     */
    public static synchronized void start(boolean cpu, Duration interval, int[] tids, int maxFrames, int tableEntries) {
        NativeCapture capture = NativeCapture.get();
        String unavailable = capture.javaFramesUnavailable();
        if (unavailable != null) throw new StacktraceException(Reason.UNSUPPORTED, "cannot profile: " + unavailable);
        int rc = LibStacktrace.st_profile_start(cpu ? LibStacktrace.PROFILE_CPU : LibStacktrace.PROFILE_WALL,
                interval.toNanos(), tids, tids.length, maxFrames, tableEntries);
        if (rc == -16 /* EBUSY */) {
            throw new IllegalStateException("a profiler is already running in this JVM; stop it before starting another");
        }
        if (rc == -22 /* EINVAL */) {
            throw new IllegalArgumentException("invalid profiling settings: interval " + interval + ", " + tids.length
                    + " threads, depth " + maxFrames + ", table " + tableEntries);
        }
        if (rc < 0) throw new StacktraceException(Reason.INTERNAL, "cannot start the sampler (error " + -rc + ")");
    }

    public static synchronized void stop() {
        LibStacktrace.st_profile_stop();
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

    /** The table: per distinct stack [count, frames, (kind, id, bci) x frames]. */
    public static long[] read() {
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
