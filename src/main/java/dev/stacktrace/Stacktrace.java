package dev.stacktrace;

import dev.stacktrace.internal.binding.LibraryStatus;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.jvm.NativeThreadIds;
import dev.stacktrace.internal.stacks.StackResolver;
import dev.stacktrace.internal.stacks.SymbolPrefetch;
import java.io.PrintStream;
import java.util.List;
import java.util.Objects;

/**
 * Call stacks of the threads of this JVM, native (C/C++) and Java frames interleaved in their true
 * order: the JVM counterpart of the Python stacktrace library's basic API.
 *
 * <p>Another thread's stack is taken inside that thread by a signal handler that only records
 * instruction addresses; names are resolved afterwards, here, with caches. The thread is not
 * stopped and notices nothing. The signal (a free realtime one, default 58) and the wait for a
 * thread (default 100 ms) are set by the system properties {@code dev.stacktrace.signal} and
 * {@code dev.stacktrace.timeoutMillis}.
 *
 * <p>{@code showJvm=false} leaves out the JVM's own frames (libjvm, the interpreter, JIT code and
 * stubs); {@code maxDepth} counts the frames returned.
 *
 * <p>Failures are a {@link StacktraceException} whose message says what to do; bad arguments are
 * an {@link IllegalArgumentException} or a {@link NullPointerException}.
 */
public final class Stacktrace {
    /** The depth the no-argument forms use. */
    public static final int DEFAULT_MAX_DEPTH = 100;
    /** The deepest stack one call returns. */
    public static final int MAX_DEPTH = NativeCapture.MAX_DEPTH;
    /** The header line of a printed stack. */
    public static final String HEADER = "Stack (most recent call first):";
    /** The system property that sets up {@link #dumpOnSignal} at first use: a realtime signal number. */
    public static final String DUMP_SIGNAL_PROPERTY = NativeCapture.DUMP_SIGNAL_PROPERTY;
    /**
     * The signal {@link #DUMP_SIGNAL_PROPERTY} asks for; 0 when it is not set.
     *
     * @throws IllegalArgumentException when it is set to something that is not a whole number
     */
    public static int dumpSignalProperty() {
        return NativeCapture.dumpSignalProperty();
    }

    /** The system property naming the file the dump on a signal appends to (stderr without it). */
    public static final String DUMP_FILE_PROPERTY = NativeCapture.DUMP_FILE_PROPERTY;
    /** Frames of our own that the calling thread's stack starts with, cut before returning it. */
    private static final int OWN_FRAMES = 24;

    private Stacktrace() {}

    // ---- the calling thread ----

    public static List<StackEntry> getStack(int maxDepth, boolean showJvm) {
        checkDepth(maxDepth);
        SymbolPrefetch.start();
        NativeCapture capture = NativeCapture.get();
        if (capture.javaFramesUnavailable() == null) {
            int raw = Math.min(MAX_DEPTH, rawDepth(maxDepth, showJvm) + OWN_FRAMES);
            return capture.captureMixed(NativeThreadIds.current(), raw,
                    (words, frames) -> StackResolver.mixedStack(words, frames, maxDepth, showJvm, true));
        }
        return StackResolver.ownStack(capture.captureSelf(rawDepth(maxDepth, showJvm)), maxDepth, showJvm);
    }

    public static List<StackEntry> getStack() {
        return getStack(DEFAULT_MAX_DEPTH, true);
    }

    public static void printStack(PrintStream out, int maxDepth, boolean showJvm) {
        checkStream(out);
        print(getStack(maxDepth, showJvm), out);
    }

    public static void printStack(PrintStream out) {
        printStack(out, DEFAULT_MAX_DEPTH, true);
    }

    public static void printStack() {
        printStack(System.out, DEFAULT_MAX_DEPTH, true);
    }

    // ---- another thread ----

    public static List<StackEntry> getThreadStack(Thread thread, int maxDepth, boolean showJvm) {
        Objects.requireNonNull(thread, "thread is null");
        checkDepth(maxDepth);
        SymbolPrefetch.start(); // before NativeThreadIds loads JNA, which the build overlaps
        if (thread == Thread.currentThread() && !NativeThreadIds.isVirtual(thread)) return getStack(maxDepth, showJvm);
        return getNativeThreadStack(NativeThreadIds.of(thread), maxDepth, showJvm);
    }

    public static List<StackEntry> getThreadStack(Thread thread) {
        return getThreadStack(thread, DEFAULT_MAX_DEPTH, true);
    }

    public static List<StackEntry> getNativeThreadStack(int nativeTid, int maxDepth, boolean showJvm) {
        checkTid(nativeTid);
        checkDepth(maxDepth);
        SymbolPrefetch.start();
        if (nativeTid == NativeThreadIds.current()) return getStack(maxDepth, showJvm);
        NativeCapture capture = NativeCapture.get();
        if (capture.javaFramesUnavailable() == null) {
            return capture.captureMixed(nativeTid, rawDepth(maxDepth, showJvm),
                    (words, frames) -> StackResolver.mixedStack(words, frames, maxDepth, showJvm, false));
        }
        long[] raw = capture.captureThread(nativeTid, rawDepth(maxDepth, showJvm));
        return StackResolver.interruptedStack(raw, maxDepth, showJvm);
    }

    public static List<StackEntry> getNativeThreadStack(int nativeTid) {
        return getNativeThreadStack(nativeTid, DEFAULT_MAX_DEPTH, true);
    }

    public static void printThreadStack(Thread thread, PrintStream out, int maxDepth, boolean showJvm) {
        checkStream(out);
        print(getThreadStack(thread, maxDepth, showJvm), out);
    }

    public static void printThreadStack(Thread thread, PrintStream out) {
        printThreadStack(thread, out, DEFAULT_MAX_DEPTH, true);
    }

    public static void printThreadStack(Thread thread) {
        printThreadStack(thread, System.out, DEFAULT_MAX_DEPTH, true);
    }

    /** The nativeTid variant of {@link #printThreadStack(Thread, PrintStream, int, boolean)}. */
    public static void printThreadStack(int nativeTid, PrintStream out, int maxDepth, boolean showJvm) {
        printNativeThreadStack(nativeTid, out, maxDepth, showJvm);
    }

    public static void printNativeThreadStack(int nativeTid, PrintStream out, int maxDepth, boolean showJvm) {
        checkStream(out);
        print(getNativeThreadStack(nativeTid, maxDepth, showJvm), out);
    }

    public static void printNativeThreadStack(int nativeTid, PrintStream out) {
        printNativeThreadStack(nativeTid, out, DEFAULT_MAX_DEPTH, true);
    }

    public static void printNativeThreadStack(int nativeTid) {
        printNativeThreadStack(nativeTid, System.out, DEFAULT_MAX_DEPTH, true);
    }

    // ---- thread ids ----

    /** The OS thread id of a platform thread: what jstack prints as nid and top -H shows. */
    public static int nativeThreadId(Thread thread) {
        return NativeThreadIds.of(thread);
    }

    /** The OS thread id of the calling thread. */
    public static int currentNativeThreadId() {
        return NativeThreadIds.current();
    }

    // ---- the dump that needs no Java thread ----

    /**
     * From now on, sending this process the realtime signal {@code signal} (e.g. {@code kill -59 <pid>})
     * makes a native thread of ours write every thread's native and Java frames to {@code file}
     * (appending; null for stderr). It needs no Java thread, so it works while the JVM cannot reach a
     * safepoint and jstack hangs. Also set up at first use by {@code -Ddev.stacktrace.dumpSignal=N}
     * (and {@code -Ddev.stacktrace.dumpFile=path}).
     */
    public static void dumpOnSignal(int signal, java.nio.file.Path file) {
        NativeCapture.get().dumpOnSignal(signal, file == null ? null : file.toAbsolutePath().toString());
    }

    /**
     * The file the native library was loaded from (libstacktrace.so in a private temporary directory),
     * loading it first if it is not loaded yet.
     */
    public static java.nio.file.Path nativeLibrary() {
        return LibraryStatus.path();
    }

    // ---- formatting ----

    /** The printed form of a stack: the {@link #HEADER} line, then one {@link StackEntry#format()} line per frame. */
    public static String format(List<StackEntry> stack) {
        StringBuilder text = new StringBuilder(HEADER).append(System.lineSeparator());
        for (StackEntry entry : stack) text.append(entry.format()).append(System.lineSeparator());
        return text.toString();
    }

    private static void print(List<StackEntry> stack, PrintStream out) {
        out.print(format(stack));
        out.flush();
    }

    /** With showJvm=false, JVM frames are dropped after capture, so capture deeper to fill maxDepth. */
    private static int rawDepth(int maxDepth, boolean showJvm) {
        return showJvm ? maxDepth : Math.min(MAX_DEPTH, Math.max(4 * maxDepth, 128));
    }

    private static void checkDepth(int maxDepth) {
        if (maxDepth < 0 || maxDepth > MAX_DEPTH) {
            throw new IllegalArgumentException("maxDepth must be between 0 and " + MAX_DEPTH + ", not " + maxDepth);
        }
    }

    private static void checkTid(int nativeTid) {
        if (nativeTid <= 0) {
            throw new IllegalArgumentException("nativeTid must be a positive OS thread id (as jstack's nid or "
                    + "top -H show), not " + nativeTid);
        }
    }

    private static void checkStream(PrintStream out) {
        Objects.requireNonNull(out, "out (the PrintStream to print to) is null");
    }
}
