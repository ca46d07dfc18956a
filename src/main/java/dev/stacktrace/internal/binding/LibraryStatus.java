package dev.stacktrace.internal.binding;

import dev.stacktrace.StacktraceException;
import dev.stacktrace.StacktraceException.Reason;

/** Whether the native library could be loaded, as an exception that says what to install. */
public final class LibraryStatus {
    private LibraryStatus() {}

    public static void ensureLoaded() {
        try {
            LibStacktrace.st_abi_version();
        } catch (LinkageError e) {
            throw new StacktraceException(Reason.UNSUPPORTED, "cannot load the native library: " + e.getMessage(), e);
        }
    }

    /** Where the native library was loaded from, loading it first if it is not loaded yet. */
    public static java.nio.file.Path path() {
        ensureLoaded();
        return LibStacktrace.PATH;
    }

    /** The calling thread's OS id, straight from the kernel. */
    public static int gettid() {
        ensureLoaded();
        return LibStacktrace.st_gettid();
    }
}
