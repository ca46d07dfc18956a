package dev.stacktrace.internal.binding;

import com.sun.jna.JNIEnv;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Map;

/**
 * The one binding to native-lib/ (libstacktrace.so), by JNA direct mapping: each call is a plain
 * JNI-speed call with primitive arguments and caller-owned arrays. See native-lib/src/stacktrace.h
 * for the contract of every function; this class adds nothing to it.
 */
public final class LibStacktrace {
    /** Must match ST_ABI_VERSION in stacktrace.h. */
    public static final int ABI_VERSION = 1;
    /** Must match ST_MAX_FRAMES. */
    public static final int MAX_FRAMES = 1024;

    public static final int E_NOT_INIT = 1000;
    public static final int E_BUSY = 1001;
    public static final int E_SIGNAL = 1002;
    public static final int E_OTHER_SIGNAL = 1003;

    /** Where the library was loaded from. */
    public static final java.nio.file.Path PATH = NativeLibraryLoader.extract();

    static {
        // Objects allowed: st_thread_eetop takes the Thread as a plain jobject.
        Native.register(LibStacktrace.class,
                NativeLibrary.getInstance(PATH.toString(), Map.of(Library.OPTION_ALLOW_OBJECTS, Boolean.TRUE)));
        int abi = st_abi_version();
        if (abi != ABI_VERSION) {
            throw new UnsatisfiedLinkError("libstacktrace.so has ABI " + abi + ", this jar expects " + ABI_VERSION);
        }
    }

    private LibStacktrace() {}

    public static native int st_abi_version();

    public static native int st_init(int signo);

    public static native int st_signal();

    public static native long st_signal_owner(int signo);

    public static native int st_gettid();

    public static native int st_capture_self(long[] out, int max);

    public static native int st_capture_thread(int tid, long[] out, int max, int timeoutMillis);

    public static native int st_ping_thread(int tid, int timeoutMillis);

    public static native int st_slots_in_use();

    public static native int st_peek(long address, long[] out, int words);

    public static native long st_thread_eetop(JNIEnv env, Object thread);

    public static native int st_demangle(String mangled, byte[] out, int outLength);
}
