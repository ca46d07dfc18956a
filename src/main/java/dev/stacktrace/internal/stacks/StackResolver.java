package dev.stacktrace.internal.stacks;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.jvm.CodeStubs;
import dev.stacktrace.internal.jvm.JavaMethods;
import dev.stacktrace.internal.symbols.ResolvedAddress;
import dev.stacktrace.internal.symbols.Symbolizer;
import java.util.Arrays;
import java.util.List;

/** Raw stacks ({@link RawStack}) → {@link StackEntry} lists: names, the showJvm filter, the depth limit. */
public final class StackResolver {
    private static final Symbolizer SYMBOLS = Symbolizer.shared();
    private static final String OUR_LIBRARY = LibStacktrace.PATH.toString();  // loads JNA and us first

    static {
        SYMBOLS.setDemangler(StackResolver::demangle);
        String dispatch = System.getProperty("jnidispatch.path");  // set once JNA has loaded
        if (dispatch != null) SYMBOLS.nameLibrary(dispatch, "libjnidispatch.so");
    }

    /** StackTraceElement's line number for a native method. */
    private static final int NATIVE_METHOD_LINE = -2;
    /**
     * Thread.getStackTrace leaves out hidden frames (lambda proxies, lambda forms, @Hidden methods)
     * of a thread's own stack on every JDK (Throwable's walk), and of another thread's since JDK 19,
     * whose handshake walk skips them; JDK 17's safepoint walk of another thread shows them.
     */
    private static final boolean OTHERS_HIDE_HIDDEN = Runtime.version().feature() >= 19;

    private StackResolver() {}

    /** A stack taken by the signal handler: frame 0 is the exact interrupted pc. */
    public static List<StackEntry> interruptedStack(long[] raw, int maxDepth, boolean showJvm) {
        return resolve(RawStack.addresses(raw), 0, true, maxDepth, showJvm);
    }

    /**
     * The calling thread's own stack: every frame is a return address, and the frames of the call
     * into us (JNA's dispatch and this library) are cut from the top.
     */
    public static List<StackEntry> ownStack(long[] raw, int maxDepth, boolean showJvm) {
        RawStack stack = RawStack.addresses(raw);
        int skip = 0;
        while (skip < stack.size() && isOurMachinery(SYMBOLS.resolve(stack.pc(skip), true))) skip++;
        return resolve(stack, skip, false, maxDepth, showJvm);
    }

    /** Names frames from {@code from} on, only as many as the depth keeps (names cost). */
    private static List<StackEntry> resolve(RawStack raw, int from, boolean firstIsExact, int maxDepth, boolean showJvm) {
        StackEntry[] stack = new StackEntry[Math.max(0, Math.min(maxDepth, raw.size() - from))];
        int n = 0;
        StackEntry previous = null;
        for (int i = from; i < raw.size() && n < stack.length; i++) {
            StackEntry entry = entry(raw, i, !(firstIsExact && i == from), previous, OTHERS_HIDE_HIDDEN);
            previous = entry;
            if (!showJvm && entry.isJvm()) continue;
            stack[n++] = entry;
        }
        return List.of(n == stack.length ? stack : Arrays.copyOf(stack, n));
    }

    /**
     * A mixed stack from the native walker ({@link RawStack#mixed}). Frame 0 is the exact interrupted
     * pc; hidden frames (lambda forms, lambda proxies) count as the JVM's where Thread.getStackTrace
     * leaves them out.
     *
     * @param own the calling thread's own stack: the frames of the call into us are cut from the top
     */
    public static List<StackEntry> mixedStack(long[] words, int maxDepth, boolean showJvm, boolean own) {
        return mixedStack(RawStack.mixed(words), maxDepth, showJvm, own);
    }

    /** As {@link #mixedStack(long[], int, boolean, boolean)}, of the first {@code frames} frames of {@code words}. */
    public static List<StackEntry> mixedStack(long[] words, int frames, int maxDepth, boolean showJvm, boolean own) {
        return mixedStack(RawStack.mixed(words, frames), maxDepth, showJvm, own);
    }

    private static List<StackEntry> mixedStack(RawStack raw, int maxDepth, boolean showJvm, boolean own) {
        StackEntry[] all = withoutMisreadFrames(entries(raw, own || OTHERS_HIDE_HIDDEN));
        int frames = all.length;
        int from = own ? afterOurMachinery(all) : 0;
        if (from == 0 && showJvm && frames <= maxDepth) return List.of(all);
        StackEntry[] kept = new StackEntry[Math.max(0, Math.min(maxDepth, frames - from))];
        int n = 0;
        for (int i = from; i < frames && n < kept.length; i++) {
            if (!showJvm && all[i].isJvm()) continue;
            kept[n++] = all[i];
        }
        return List.of(n == kept.length ? kept : Arrays.copyOf(kept, n));
    }

    /** Every frame of a stack taken by the signal handler (frame 0 the exact pc), named, misread frames left in. */
    static StackEntry[] entries(RawStack raw) {
        return entries(raw, OTHERS_HIDE_HIDDEN);
    }

    private static StackEntry[] entries(RawStack raw, boolean hideHidden) {
        StackEntry[] all = new StackEntry[raw.size()];
        StackEntry previous = null;
        for (int i = 0; i < all.length; i++) {
            all[i] = entry(raw, i, i > 0, previous, hideHidden);
            previous = all[i];
        }
        return all;
    }

    /**
     * Frame {@code i} named. {@code returnAddress}: every frame but the innermost. {@code previous}:
     * the frame above, reused when a recursion repeats an address.
     */
    private static StackEntry entry(RawStack raw, int i, boolean returnAddress, StackEntry previous, boolean hideHidden) {
        return entry(raw.kind(i), raw.id(i), raw.bci(i), raw.pc(i), returnAddress, previous, hideHidden);
    }

    /** @param hideHidden hidden Java frames count as the JVM's (left out without showJvm) */
    private static StackEntry entry(int kind, long id, int bci, long pc, boolean returnAddress, StackEntry previous,
                                         boolean hideHidden) {
        switch (kind) {
            case LibStacktrace.FRAME_MARKER -> {
                return StackEntry.marker(markerName(id));
            }
            case LibStacktrace.FRAME_NATIVE, LibStacktrace.FRAME_STUB -> {
                if (previous != null && previous.address() == pc && !previous.isJava() && returnAddress) return previous;
                ResolvedAddress r = SYMBOLS.resolve(pc, returnAddress);
                if (kind == LibStacktrace.FRAME_STUB) {
                    // generated code that is no Java method: the JVM's own name for it, when it reported one
                    long at = returnAddress ? pc - 1 : pc;
                    CodeStubs.Stub stub = CodeStubs.at(at);
                    if (stub == null) stub = CodeStubs.blob(at);
                    if (stub != null) return new StackEntry(pc, stub.name(), pc - stub.address(), r.library(), true);
                }
                boolean jvm = r.inJvm() || kind == LibStacktrace.FRAME_STUB;
                return new StackEntry(r.address(), r.name(), r.offset(), r.library(), jvm, r.path());
            }
            default -> {
                StackEntry known = JavaFrameEntries.get(kind, id, bci, pc, hideHidden);
                if (known != null) return known;
                JavaMethods.Method m = JavaMethods.of(id);
                StackEntry.Kind k = switch (kind) {
                    case LibStacktrace.FRAME_INTERPRETED -> StackEntry.Kind.JAVA_INTERPRETED;
                    case LibStacktrace.FRAME_INLINED -> StackEntry.Kind.JAVA_INLINED;
                    case LibStacktrace.FRAME_NATIVE_METHOD -> StackEntry.Kind.JAVA_NATIVE;
                    default -> m.isNative() ? StackEntry.Kind.JAVA_NATIVE : StackEntry.Kind.JAVA_COMPILED;
                };
                int line = k == StackEntry.Kind.JAVA_NATIVE ? NATIVE_METHOD_LINE : m.lineOf(bci);
                // hidden frames (lambda forms, lambda proxies, @Hidden methods) count as the JVM's own
                // where Thread.getStackTrace leaves them out
                return JavaFrameEntries.put(kind, id, bci, pc, hideHidden, new StackEntry(pc, m.qualifiedName(), 0, "[java]",
                        m.hidden() && hideHidden, k, m.className(), m.methodName(), m.fileName(), line));
            }
        }
    }

    /**
     * A native frame outside executable memory (the CDS archive, the heap, unmapped memory) is a
     * word the walk misread, not a frame, and the native frames after it follow from that misread.
     * They give way to one {@code [truncated]} marker, up to the next Java frame or marker.
     *
     * @return the indices of the frames to keep, in order; {@link #MISREAD} where the marker goes
     */
    static int[] keptFrames(StackEntry[] stack) {
        int[] kept = new int[stack.length];
        int n = 0;
        boolean cutting = false;
        for (int i = 0; i < stack.length; i++) {
            StackEntry e = stack[i];
            boolean nativeFrame = !e.isJava() && !e.isMarker();
            if (cutting) {
                if (nativeFrame) continue;
                cutting = false;
                if (!e.isMarker()) kept[n++] = MISREAD;
            } else if (nativeFrame && i > 0 && !SYMBOLS.isCode(e.address() - 1)) {
                cutting = true;
                continue;
            }
            kept[n++] = i;
        }
        if (cutting) kept[n++] = MISREAD;
        return n == kept.length ? kept : Arrays.copyOf(kept, n);
    }

    /** In {@link #keptFrames}: a {@code [truncated]} marker in place of misread frames. */
    static final int MISREAD = -1;

    /** The stack without misread frames (see {@link #keptFrames}). */
    private static StackEntry[] withoutMisreadFrames(StackEntry[] stack) {
        int[] kept = keptFrames(stack);
        if (keepsAll(kept, stack.length)) return stack;
        StackEntry[] out = new StackEntry[kept.length];
        for (int i = 0; i < kept.length; i++) {
            out[i] = kept[i] == MISREAD ? StackEntry.marker(markerName(LibStacktrace.MARK_TRUNCATED)) : stack[kept[i]];
        }
        return out;
    }

    /** Whether {@code kept} (of {@link #keptFrames}) keeps each of {@code frames} frames as it is. */
    private static boolean keepsAll(int[] kept, int frames) {
        if (kept.length != frames) return false;
        for (int k : kept) if (k == MISREAD) return false;
        return true;  // indices rise, one per frame
    }

    /** The name of a marker frame: why the walk stopped there. */
    static String markerName(long reason) {
        return reason == LibStacktrace.MARK_UNKNOWN_JAVA ? "[unknown Java]" : "[truncated]";
    }

    /** Index of the first frame below the call into this library (our Java classes, JNA, our native code). */
    private static int afterOurMachinery(StackEntry[] stack) {
        int last = -1;
        for (int i = 0; i < stack.length; i++) {
            StackEntry e = stack[i];
            boolean ours = e.isJava()
                    ? e.className().startsWith("dev.stacktrace.internal.") || e.className().equals("dev.stacktrace.Stacktrace")
                            || e.className().startsWith("com.sun.jna.")
                    : e.library().equals("libstacktrace.so") || e.library().equals("libjnidispatch.so");
            if (ours) last = i;
            else if (e.isJava() && last >= 0) break;  // the caller's first Java frame: ours are all above it
        }
        return last + 1;
    }

    private static boolean isOurMachinery(ResolvedAddress r) {
        if (r.path() == null) return false;
        return r.path().equals(OUR_LIBRARY) || r.path().equals(System.getProperty("jnidispatch.path"));
    }

    private static String demangle(String mangled) {
        byte[] out = new byte[4096];
        int n = LibStacktrace.st_demangle(mangled, out, out.length);
        return n < 0 ? mangled : new String(out, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
