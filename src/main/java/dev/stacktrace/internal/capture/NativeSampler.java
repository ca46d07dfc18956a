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
                           long maxNanos, long signalBlocked, long walks, long unsampledThreads) {
        /** Samples that could not be recorded at all, all reasons together. */
        public long errors() {
            return tableFull + busy + threadGone + signalBlocked;
        }
    }

    /**
     * How cpu mode's threads are clocked: by a perf_events task-clock (the interval asked, down to
     * 0.1 ms) or by a POSIX CPU-time timer, which fires on the scheduler tick at the earliest.
     *
     * @param effectiveIntervalNanos the interval delivered: the one asked, or the tick when some
     *     thread has a timer and the tick is longer (0 when not running)
     */
    public record Clock(int perfThreads, int timerThreads, long tickNanos, long effectiveIntervalNanos) {}

    /**
     * System property: {@code false} makes cpu mode clock each thread with a POSIX CPU timer (at most
     * one sample per scheduler tick); by default ({@code true}) with a perf_events task-clock where
     * the kernel allows it, which delivers the interval asked down to about 1 ms. A task-clock
     * overflows only in user mode, so it never interrupts a blocking call (InterruptedCallsTest); a
     * thread's time inside system calls is counted in its next sample. Never used on Linux 6.16 and
     * 6.17, which can hang on the way these events are armed.
     */
    public static final String PERF_EVENTS_PROPERTY = "dev.stacktrace.perfEvents";

    /** Whether {@link #PERF_EVENTS_PROPERTY} lets cpu mode try perf_events (the default). */
    public static boolean perfEventsWanted() {
        return Boolean.parseBoolean(System.getProperty(PERF_EVENTS_PROPERTY, "true"));
    }

    /** Words the last read returned (guarded by the class's lock). */
    private static int lastReadWords;

    private NativeSampler() {}

    /** Whether the sampler takes this interval: from {@link #MIN_INTERVAL} to {@link #MAX_INTERVAL}. */
    public static boolean allows(Duration interval) {
        return interval.compareTo(MIN_INTERVAL) >= 0 && interval.compareTo(MAX_INTERVAL) <= 0;
    }

    /** The interval, if it is between {@link #MIN_INTERVAL} and {@link #MAX_INTERVAL}. */
    public static Duration checkInterval(Duration interval) {
        if (!allows(interval)) {
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
        LibStacktrace.st_profile_use_perf(perfEventsWanted() ? 1 : 0);
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

    public static Clock clock() {
        long[] c = new long[LibStacktrace.CLOCK_FIELDS];
        LibStacktrace.st_profile_clock(c, c.length);
        return new Clock((int) c[LibStacktrace.CLOCK_PERF_THREADS], (int) c[LibStacktrace.CLOCK_TIMER_THREADS],
                c[LibStacktrace.CLOCK_TICK_NANOS], c[LibStacktrace.CLOCK_EFFECTIVE_INTERVAL_NANOS]);
    }

    public static Counters counters() {
        long[] c = new long[LibStacktrace.COUNTERS];
        LibStacktrace.st_profile_counters(c, c.length);
        return new Counters(c[LibStacktrace.COUNTER_SAMPLES], c[LibStacktrace.COUNTER_INCOMPLETE],
                c[LibStacktrace.COUNTER_TABLE_FULL], c[LibStacktrace.COUNTER_BUSY], c[LibStacktrace.COUNTER_THREAD_GONE],
                c[LibStacktrace.COUNTER_NANOS], c[LibStacktrace.COUNTER_MAX_NANOS], c[LibStacktrace.COUNTER_SIGNAL_BLOCKED],
                c[LibStacktrace.COUNTER_WALKS], c[LibStacktrace.COUNTER_UNSAMPLED_THREADS]);
    }

    /** The longest Java array. */
    private static final int MAX_READ_WORDS = Integer.MAX_VALUE - 8;

    /**
     * The table: per distinct stack [count, frames, (kind, id, bci) x frames], then zeros to the
     * array's end (not copied to its exact length: a large table's read is tens of megabytes).
     * Synchronized with start and stop so that a read sees one run's table (the native side also
     * locks the table).
     */
    public static synchronized long[] read() {
        // sized from the last read: a table only grows while it runs, so a read rarely needs two tries
        long[] out = new long[(int) Math.min(MAX_READ_WORDS, Math.max(64 * 1024, lastReadWords + 16 * 1024L))];
        for (int attempt = 0; attempt < 8; attempt++) {
            long words = LibStacktrace.st_profile_read(out, out.length);
            if (words >= 0) {
                lastReadWords = (int) words;
                return out;
            }
            // It grew while we looked. On a starved machine the next try may come seconds later, so
            // the room added grows with the table and doubles with each try (25 %, 50 %, 100 % ...).
            long needed = -words;
            if (needed > MAX_READ_WORDS) throw new IllegalStateException("profile too large to read");
            out = new long[(int) Math.min(MAX_READ_WORDS, needed + Math.max(16 * 1024, (needed >> 2) << attempt))];
        }
        throw new IllegalStateException("the profile kept growing faster than it could be read");
    }
}
