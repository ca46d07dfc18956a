package dev.stacktrace.internal.symbols;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.ArrayList;
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
        List<StackEntry> stack = new ArrayList<>(Math.min(maxDepth, raw.length - from));
        for (int i = from; i < raw.length && stack.size() < maxDepth; i++) {
            ResolvedAddress r = SYMBOLS.resolve(raw[i], !(firstIsExact && i == from));
            if (!showJvm && r.inJvm()) continue;
            stack.add(new StackEntry(r.address(), r.name(), r.offset(), r.library(), r.inJvm()));
        }
        return List.copyOf(stack);
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
