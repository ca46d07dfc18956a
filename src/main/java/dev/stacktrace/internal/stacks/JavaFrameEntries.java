package dev.stacktrace.internal.stacks;

import dev.stacktrace.StackEntry;

/**
 * Java frames named lately, one per slot of their raw frame's hash: a thread sampled again and
 * again shows mostly the same frames, and a frame met before costs no allocation. The entry of a
 * raw Java frame (kind, jmethodID, bci, pc, whether hidden frames count as the JVM's) never changes,
 * since HotSpot never reuses a jmethodID for another method. Entries are immutable, so threads may
 * race on a slot: each reads a whole entry, old or new, and checks its key.
 */
final class JavaFrameEntries {
    private static final int BITS = 12;
    private static final Known[] TABLE = new Known[1 << BITS];

    private record Known(long methodId, long pc, int bci, int kind, boolean hideHidden, StackEntry entry) {}

    private JavaFrameEntries() {}

    /** The entry named for this raw frame before, or null. */
    static StackEntry get(int kind, long methodId, int bci, long pc, boolean hideHidden) {
        Known k = TABLE[slot(methodId, bci, pc)];
        return k != null && k.methodId == methodId && k.pc == pc && k.bci == bci && k.kind == kind
                && k.hideHidden == hideHidden ? k.entry : null;
    }

    /** Keeps {@code entry} as the name of this raw frame; returns it. */
    static StackEntry put(int kind, long methodId, int bci, long pc, boolean hideHidden, StackEntry entry) {
        TABLE[slot(methodId, bci, pc)] = new Known(methodId, pc, bci, kind, hideHidden, entry);
        return entry;
    }

    private static int slot(long methodId, int bci, long pc) {
        long h = (methodId ^ pc * 0xC2B2AE3D27D4EB4FL ^ bci) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> (64 - BITS));
    }
}
