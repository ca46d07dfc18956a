package dev.stacktrace.tools;

/**
 * Why a sample could not be recorded at all. A sample whose stack walk stopped early is no error: it
 * is recorded as far as it went ({@link Profiler#incompleteCount()}).
 *
 * <p>{@link #key()} is the name the reason goes by outside Java: the keys of
 * {@link Profiler#errorCounts()} and of the MBean's ErrorCounts, the {@code reason} tag of the
 * metric {@code stacktrace.sample.errors}.
 */
public enum SampleError {
    /** No room in the profile's table for another distinct stack. */
    TABLE_FULL("table_full"),
    /** No scratch buffer free, or a signal could not be queued. */
    BUSY("busy"),
    /** The thread ended before it took its sample. */
    THREAD_GONE("thread_gone"),
    /** Wall mode: a tick not sent because the thread blocks the signal (it would never be taken). */
    SIGNAL_BLOCKED("signal_blocked");

    private final String key;

    SampleError(String key) {
        this.key = key;
    }

    /** The reason's name outside Java: {@code table_full}, {@code busy}, {@code thread_gone}, {@code signal_blocked}. */
    public String key() {
        return key;
    }
}
