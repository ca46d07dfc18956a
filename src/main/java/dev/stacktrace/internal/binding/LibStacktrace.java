package dev.stacktrace.internal.binding;

import com.sun.jna.JNIEnv;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The one binding to native-lib/ (libstacktrace.so), by JNA direct mapping: each call is a plain
 * JNI-speed call with primitive arguments and caller-owned arrays. See native-lib/src/stacktrace.h
 * for the contract of every function; this class adds nothing to it. Entry points that only tests
 * call from Java are bound in the tests (testlib.TestBinding).
 */
public final class LibStacktrace {
    /** ST_ABI_VERSION in stacktrace.h; every constant below is checked against the library's table when it loads. */
    public static final int ABI_VERSION = 7;
    /** ST_MAX_FRAMES. */
    public static final int MAX_FRAMES = 1024;

    public static final int E_NOT_INIT = 1000;
    public static final int E_BUSY = 1001;
    public static final int E_SIGNAL = 1002;
    public static final int E_OTHER_SIGNAL = 1003;
    public static final int E_NO_VM = 1004;
    public static final int E_JVMTI = 1005;
    public static final int E_LATE = 1006;

    /** Frame kinds of st_capture_mixed (enum st_frame_kind). */
    public static final int FRAME_NATIVE = 0;
    public static final int FRAME_INTERPRETED = 1;
    public static final int FRAME_COMPILED = 2;
    public static final int FRAME_INLINED = 3;
    public static final int FRAME_NATIVE_METHOD = 4;
    public static final int FRAME_STUB = 5;
    /** No frame: where a walk lost its way; id = MARK_*. */
    public static final int FRAME_MARKER = 6;
    /** Reasons of a marker frame (enum st_marker). */
    public static final int MARK_TRUNCATED = 1;
    public static final int MARK_UNKNOWN_JAVA = 2;
    /** Answers of st_looks_blocking (enum st_look). */
    public static final int LOOK_CLEAR = 0;
    public static final int LOOK_BLOCKS = 1;
    public static final int LOOK_UNSURE = 2;
    /** Words per frame of st_capture_mixed: kind, id, bci, pc, sp. */
    public static final int MIXED_WORDS = 5;
    /** Words of st_capture_mixed's info: AGCT's result, the walk's end, segments, Java thread, ns in AGCT,
     *  ns in the walk, ns unwinding below entry frames, whether the inlining cache answered for AGCT. */
    public static final int MIXED_INFO_WORDS = 8;

    /** Where the library was loaded from. */
    public static final java.nio.file.Path PATH = NativeLibraryLoader.extract();

    /** The library's ABI constants by name (ST_* of stacktrace.h, VM_* of vm.h). */
    private static final Map<String, Long> ABI_CONSTANTS;

    static {
        // Objects allowed: st_thread_eetop takes the Thread as a plain jobject.
        Native.register(LibStacktrace.class,
                NativeLibrary.getInstance(PATH.toString(), Map.of(Library.OPTION_ALLOW_OBJECTS, Boolean.TRUE)));
        int abi = st_abi_version();
        if (abi != ABI_VERSION) {
            throw new UnsatisfiedLinkError("libstacktrace.so has ABI " + abi + ", this jar expects " + ABI_VERSION);
        }
        ABI_CONSTANTS = LibraryAbi.read();
        List<String> wrong = LibraryAbi.mismatches(ABI_CONSTANTS, expectedConstants());
        if (!wrong.isEmpty()) {
            throw new UnsatisfiedLinkError(PATH + " and this jar come from different builds: " + String.join("; ", wrong));
        }
    }

    /** One of the library's ABI constants (e.g. "VM_KEYS"), if it has one by that name. */
    public static OptionalLong abiConstant(String name) {
        Long value = ABI_CONSTANTS.get(name);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** This class's constants under the library's names for them. */
    private static Map<String, Long> expectedConstants() {
        return Map.ofEntries(
                Map.entry("ST_ABI_VERSION", (long) ABI_VERSION), Map.entry("ST_MAX_FRAMES", (long) MAX_FRAMES),
                Map.entry("ST_ENOTINIT", (long) E_NOT_INIT), Map.entry("ST_EBUSY", (long) E_BUSY),
                Map.entry("ST_ESIGNAL", (long) E_SIGNAL), Map.entry("ST_EOTHERSIG", (long) E_OTHER_SIGNAL),
                Map.entry("ST_ENOVM", (long) E_NO_VM), Map.entry("ST_EJVMTI", (long) E_JVMTI),
                Map.entry("ST_ELATE", (long) E_LATE),
                Map.entry("ST_FRAME_NATIVE", (long) FRAME_NATIVE), Map.entry("ST_FRAME_INTERPRETED", (long) FRAME_INTERPRETED),
                Map.entry("ST_FRAME_COMPILED", (long) FRAME_COMPILED), Map.entry("ST_FRAME_INLINED", (long) FRAME_INLINED),
                Map.entry("ST_FRAME_NATIVE_METHOD", (long) FRAME_NATIVE_METHOD), Map.entry("ST_FRAME_STUB", (long) FRAME_STUB),
                Map.entry("ST_FRAME_MARKER", (long) FRAME_MARKER),
                Map.entry("ST_MARK_TRUNCATED", (long) MARK_TRUNCATED), Map.entry("ST_MARK_UNKNOWN_JAVA", (long) MARK_UNKNOWN_JAVA),
                Map.entry("ST_LOOK_CLEAR", (long) LOOK_CLEAR), Map.entry("ST_LOOK_BLOCKS", (long) LOOK_BLOCKS),
                Map.entry("ST_LOOK_UNSURE", (long) LOOK_UNSURE),
                Map.entry("ST_MIXED_WORDS", (long) MIXED_WORDS), Map.entry("ST_MIXED_INFO_WORDS", (long) MIXED_INFO_WORDS),
                Map.entry("ST_PROFILE_CPU", (long) PROFILE_CPU), Map.entry("ST_PROFILE_WALL", (long) PROFILE_WALL),
                Map.entry("ST_PROFILE_MAX_FRAMES", (long) PROFILE_MAX_FRAMES),
                Map.entry("ST_PROFILE_MAX_INTERVAL_NS", PROFILE_MAX_INTERVAL_NANOS),
                Map.entry("ST_PROFILE_WORDS_PER_FRAME", (long) PROFILE_WORDS_PER_FRAME),
                Map.entry("ST_PROFILE_SAMPLES", (long) COUNTER_SAMPLES), Map.entry("ST_PROFILE_INCOMPLETE", (long) COUNTER_INCOMPLETE),
                Map.entry("ST_PROFILE_TABLE_FULL", (long) COUNTER_TABLE_FULL), Map.entry("ST_PROFILE_BUSY", (long) COUNTER_BUSY),
                Map.entry("ST_PROFILE_THREAD_GONE", (long) COUNTER_THREAD_GONE), Map.entry("ST_PROFILE_NANOS", (long) COUNTER_NANOS),
                Map.entry("ST_PROFILE_MAX_NANOS", (long) COUNTER_MAX_NANOS),
                Map.entry("ST_PROFILE_SIGNAL_BLOCKED", (long) COUNTER_SIGNAL_BLOCKED),
                Map.entry("ST_PROFILE_WALKS", (long) COUNTER_WALKS),
                Map.entry("ST_PROFILE_UNSAMPLED_THREADS", (long) COUNTER_UNSAMPLED_THREADS),
                Map.entry("ST_PROFILE_COUNTERS", (long) COUNTERS));
    }

    private LibStacktrace() {}

    public static native int st_abi_version();

    /** Entry index of the library's table of ABI constants: its name into name, its value into value[0]; -1 past the end. */
    public static native int st_abi_constant(int index, byte[] name, int nameLength, long[] value);

    public static native int st_init(int signo);

    public static native int st_signal();

    public static native long st_signal_owner(int signo);

    /** 1 when another copy of this library owns signo's handler (its path in out, NUL-terminated). */
    public static native int st_signal_owner_library(int signo, byte[] out, int outlen);

    public static native int st_gettid();

    /** 1 while thread tid runs the capture signal's handler (the kernel then lists the signal as blocked). */
    public static native int st_in_handler(int tid);

    /** One look at whether thread tid blocks the capture signal: LOOK_CLEAR, LOOK_BLOCKS or LOOK_UNSURE. */
    public static native int st_looks_blocking(int tid);

    public static native int st_capture_self(long[] out, int max);

    public static native int st_capture_thread(int tid, Pointer out, int max, int timeoutMillis);

    public static native int st_ping_thread(int tid, int timeoutMillis);

    /** A ping in parts, ns: [send, delivery, handler, wake-up, slept (0/1)]; see stacktrace.h. */
    public static native int st_ping_parts(int tid, int timeoutMillis, long[] out);

    public static native int st_peek(long address, long[] out, int words);

    public static native long st_thread_eetop(JNIEnv env, Object thread);

    public static native int st_demangle(String mangled, byte[] out, int outLength);

    public static native int st_vm_init(JNIEnv env, long[] layout, int count);

    public static native int st_capture_mixed(int tid, Pointer out, int maxFrames, int timeoutMillis, long[] info);

    public static native int st_method_info(long methodId, byte[] out, int outLength);

    public static native int st_line_table(long methodId, int[] out, int maxPairs);

    /** Stubs the JVM reported (DynamicCodeGenerated); the list only grows. */
    public static native int st_code_stub_count();

    /** Stub {@code index}: range = {address, length}, its name into out; returns the name's length, or -1. */
    public static native int st_code_stub(int index, long[] range, byte[] out, int outLength);

    /** The JVM's name of the CodeBlob (no Java method) holding pc, code[0] where its code starts; the name's length, or -1. */
    public static native int st_code_blob_name(long pc, long[] code, byte[] out, int outLength);

    public static native Object st_method_class(JNIEnv env, long methodId);

    public static native int st_dump_on_signal(int signo, String path);

    /** Profiling (enum st_profile_mode and st_profile_counter). */
    public static final int PROFILE_CPU = 1;
    public static final int PROFILE_WALL = 2;
    public static final int PROFILE_MAX_FRAMES = 256;
    /** ST_PROFILE_MAX_INTERVAL_NS: the longest sampling interval, 60 s. */
    public static final long PROFILE_MAX_INTERVAL_NANOS = 60_000_000_000L;
    public static final int COUNTER_SAMPLES = 0;
    public static final int COUNTER_INCOMPLETE = 1;
    public static final int COUNTER_TABLE_FULL = 2;
    public static final int COUNTER_BUSY = 3;
    public static final int COUNTER_THREAD_GONE = 4;
    public static final int COUNTER_NANOS = 5;
    public static final int COUNTER_MAX_NANOS = 6;
    public static final int COUNTER_SIGNAL_BLOCKED = 7;
    public static final int COUNTER_WALKS = 8;
    public static final int COUNTER_UNSAMPLED_THREADS = 9;
    public static final int COUNTERS = 10;
    /** Words per frame of a st_profile_read stack: kind, id, bci. */
    public static final int PROFILE_WORDS_PER_FRAME = 3;

    public static native int st_profile_start(int mode, long intervalNanos, int[] tids, int ntids, int frames, int tableEntries);

    public static native int st_profile_stop();

    public static native int st_profile_running();

    public static native int st_profile_counters(long[] out, int n);

    public static native int st_profile_threads();
    /** The address of the calling thread's label word (a uint32 label-set id), valid while it lives. */
    public static native long st_label_word();

    public static native long st_profile_read(long[] out, long capacityWords);

    /** st_profile_clock's fields: threads on a perf_events task-clock, on a POSIX timer, the tick, the effective interval. */
    public static final int CLOCK_PERF_THREADS = 0;
    public static final int CLOCK_TIMER_THREADS = 1;
    public static final int CLOCK_TICK_NANOS = 2;
    public static final int CLOCK_EFFECTIVE_INTERVAL_NANOS = 3;
    public static final int CLOCK_FIELDS = 4;

    public static native int st_profile_clock(long[] out, int n);

    public static native int st_profile_use_perf(int allowed);
}
