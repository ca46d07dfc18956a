package dev.stacktrace.testlib;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.Map;

/**
 * The entry points of libstacktrace.so that only tests call from Java (diagnostics, and the
 * async-signal-safe records that the dump uses inside the library), bound to the same loaded
 * library as {@link LibStacktrace}. Not the test native library: that is {@link TestNative}.
 */
public final class TestBinding {
    /** ST_TEXT_SIZE and sizeof(st_frame_info) (stacktrace.h), checked against the library below. */
    public static final int TEXT_SIZE = 256;
    public static final int FRAME_INFO_SIZE = 8 + 8 + 4 * 4 + 2 * TEXT_SIZE;

    static {
        Native.register(TestBinding.class, NativeLibrary.getInstance(LibStacktrace.PATH.toString(),
                Map.of(Library.OPTION_ALLOW_OBJECTS, Boolean.TRUE)));
        if (LibStacktrace.abiConstant("ST_TEXT_SIZE").orElse(-1) != TEXT_SIZE
                || LibStacktrace.abiConstant("ST_FRAME_INFO_SIZE").orElse(-1) != FRAME_INFO_SIZE) {
            throw new UnsatisfiedLinkError("st_frame_info in the library is not the layout the tests read");
        }
    }

    private TestBinding() {}

    /** Requests currently in flight (slots not free). */
    public static native int st_slots_in_use();

    public static native int st_collect_frames(int tid, Pointer frames, int max, int timeoutMillis, int nativeNames);

    public static native int st_print_frames(int fd, Pointer frames, int n, int header);

    public static native int st_dump_all(int fd);

    /** The unwinder's frame table, brought up to date: modules, rows, bytes of rows, ns the update took, misses so far. */
    public static native int st_frame_table(long[] out);
}
