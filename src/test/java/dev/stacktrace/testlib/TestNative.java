package dev.stacktrace.testlib;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/** The test-only native library (src/test/native/stacktracetest.cpp), by JNA direct mapping. */
public final class TestNative {
    static {
        Native.register(TestNative.class, NativeLibrary.getInstance("stacktracetest"));
    }

    private TestNative() {}

    public static native int stt_recurse_then_read(int depth, int fd);

    /** See thread_churn.cpp: starts n short-lived detached native threads the JVM never sees. */
    public static native int stt_spawn_native_threads(int n);

    public static native long stt_native_threads_finished();

    /** See eintr_probe.cpp: EINTR returns of one blocking call (0 poll .. 6 pthread_cond_timedwait) in millis ms. */
    public static native long stt_eintr_probe(int call, int millis, long[] calls);

    /** The same with each call's timeout waitMillis instead of 20 ms. */
    public static native long stt_eintr_probe_waiting(int call, int millis, int waitMillis, long[] calls);

    public static native long stt_recurse_then_spin(int depth, int millis);

    public static native void stt_start_spinning();

    public static native void stt_stop_spinning();

    public static native int stt_recurse_then_sleep(int depth, int millis);

    public static native int stt_read_with_signal_blocked(int signo, int fd);

    public static native long stt_read_fully(int fd, byte[] buf, long len);

    public static native int stt_errno_survives(int value, int millis);

    public static native int stt_install_dummy_handler(int signo);

    /** See signal_queue.cpp: queues signo to the calling thread, which blocks it, until the user's queue stays full for 200 ms, or max. */
    public static native long stt_fill_signal_queue(int signo, long max);

    /** Takes back the calling thread's pending signo; returns how many. */
    public static native long stt_drain_signal_queue(int signo);

    /**
     * See bare_clock.cpp: a task-clock event of intervalNanos on each of the n threads, whose signal's
     * handler only arms it again (the kernel's part of a cpu-mode sample). Returns the events started, or -errno when none.
     */
    public static native int stt_bare_clock_start(int[] tids, int n, long intervalNanos);

    /** Stops the events of {@link #stt_bare_clock_start}; returns the signals they delivered. */
    public static native long stt_bare_clock_stop();

    public static native int stt_pipe(int[] fds);

    public static native long stt_write(int fd, byte[] buf, long len);

    public static native int stt_close(int fd);

    public static native int stt_open_write(String path);

    /** Spins for about millis ms in a function whose unwind info finds its caller from rbp, while rbp is garbage. */
    public static native long stt_spin_in_corrupt_frame(int millis);

    /** See unwind_cases.cpp: spins about millis ms three frames deep in code without frame pointers, rbp garbage. */
    public static native long stt_spin_without_frame_pointer(int millis);

    /** See unwind_cases.cpp: holds the dynamic loader's lock for about millis ms. */
    public static native int stt_hold_loader_lock(int millis);

    /** See unwind_cases.cpp: raises signo at this thread, whose handler spins about millis ms. */
    public static native int stt_spin_in_signal_handler(int signo, int millis);
}
