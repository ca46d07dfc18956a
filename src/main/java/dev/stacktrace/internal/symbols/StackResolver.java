package dev.stacktrace.internal.symbols;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.Arrays;
import java.util.List;

/** Raw addresses → {@link StackEntry} list: names, the showJvm filter, the depth limit. */
public final class StackResolver {
    private static final Symbolizer SYMBOLS = Symbolizer.shared();
    private static final String OUR_LIBRARY = LibStacktrace.PATH.toString();  // loads JNA and us first

    static {
        SYMBOLS.setDemangler(StackResolver::demangle);
        String dispatch = System.getProperty("jnidispatch.path");  // set once JNA has loaded
        if (dispatch != null) SYMBOLS.nameLibrary(dispatch, "libjnidispatch.so");
    }

    private StackResolver() {}

    /** A stack taken by the signal handler: frame 0 is the exact interrupted pc. */
    public static List<StackEntry> interruptedStack(long[] raw, int maxDepth, boolean showJvm) {
        return resolve(raw, 0, true, maxDepth, showJvm);
    }

    /**
     * The calling thread's own stack: every frame is a return address, and the frames of the call
     * into us (JNA's dispatch and this library) are cut from the top.
     */
    public static List<StackEntry> ownStack(long[] raw, int maxDepth, boolean showJvm) {
        int skip = 0;
        while (skip < raw.length && isOurMachinery(SYMBOLS.resolve(raw[skip], true))) skip++;
        return resolve(raw, skip, false, maxDepth, showJvm);
    }

    private static List<StackEntry> resolve(long[] raw, int from, boolean firstIsExact, int maxDepth, boolean showJvm) {
        StackEntry[] stack = new StackEntry[Math.max(0, Math.min(maxDepth, raw.length - from))];
        int n = 0;
        StackEntry previous = null;
        for (int i = from; i < raw.length && n < stack.length; i++) {
            boolean returnAddress = !(firstIsExact && i == from);
            StackEntry entry;
            if (previous != null && returnAddress && previous.address() == raw[i]) {
                entry = previous;  // recursion: the same return address again
            } else {
                ResolvedAddress r = SYMBOLS.resolve(raw[i], returnAddress);
                entry = new StackEntry(r.address(), r.name(), r.offset(), r.library(), r.inJvm());
            }
            previous = entry;
            if (!showJvm && entry.isJvm()) continue;
            stack[n++] = entry;
        }
        return List.of(n == stack.length ? stack : Arrays.copyOf(stack, n));
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
