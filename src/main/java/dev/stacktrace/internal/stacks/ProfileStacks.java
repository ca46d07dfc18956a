package dev.stacktrace.internal.stacks;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stacks of a profile table (st_profile_read) named, with the showJvm filter and the depth
 * limit of one profiler, and each frame's key: the symbol's start address for a named native frame,
 * the frame's own address for an unnamed one, the jmethodID for a Java frame, one key per reason
 * for a marker. Each distinct stack is named once: the table is read again on every scrape.
 */
public final class ProfileStacks {
    /** Extra native depth without showJvm: the JVM's frames dropped afterwards must not leave the stack short. */
    private static final int JVM_FRAMES_ALLOWANCE = 64;

    private final int maxDepth;
    private final boolean showJvm;
    private final Map<RawStack, Named> named = new ConcurrentHashMap<>();
    /**
     * One instance of each distinct frame among the named stacks: a frame recurs in thousands of
     * stacks (a profile of 50,000 stacks of ~35 frames holds a few thousand distinct frames), and a
     * stack then costs references, not copies. Bounded like the cache of stacks.
     */
    private final Map<StackEntry, StackEntry> frames = new ConcurrentHashMap<>();

    /** A stack's frames, innermost first, and their keys. */
    public record Named(List<StackEntry> frames, long[] keys) {}

    /** Receives each named stack with its sample count. */
    public interface Visitor {
        void visit(List<StackEntry> frames, long[] keys, long count);
    }

    /** Receives each named stack with its sample count and label-set id (0: no labels). */
    public interface LabeledVisitor {
        void visit(List<StackEntry> frames, long[] keys, long count, int label);
    }

    public ProfileStacks(int maxDepth, boolean showJvm) {
        this.maxDepth = maxDepth;
        this.showJvm = showJvm;
    }

    /** The frames the native side records a sample with, so that {@code maxDepth} frames remain after filtering. */
    public static int recordedDepth(int maxDepth, boolean showJvm) {
        return Math.min(LibStacktrace.PROFILE_MAX_FRAMES, maxDepth + (showJvm ? 0 : JVM_FRAMES_ALLOWANCE));
    }

    /** Every stack of the table that keeps a frame, named. */
    public void forEach(long[] table, Visitor visitor) {
        forEachLabeled(table, (frames, keys, count, label) -> visitor.visit(frames, keys, count));
    }

    /** Every stack of the table that keeps a frame, named, with the id of the label set it was sampled under. */
    public void forEachLabeled(long[] table, LabeledVisitor visitor) {
        RawStack.forEachLabeledProfileStack(table, (raw, count, label) -> {
            Named n = named(raw);
            if (!n.frames().isEmpty()) visitor.visit(n.frames(), n.keys(), count, label);
        });
    }

    /**
     * One stack of the table named (no frames when none is kept), resolved the first time it is
     * asked for and reused after. The cache holds at most one entry per distinct stack of the
     * table, which has a fixed number of entries.
     */
    public Named named(RawStack raw) {
        return named.computeIfAbsent(raw, this::name);
    }

    private Named name(RawStack raw) {
        StackEntry[] all = StackResolver.entries(raw);
        int[] kept = StackResolver.keptFrames(all);
        StackEntry[] entries = new StackEntry[kept.length];
        long[] keys = new long[kept.length];
        int n = 0;
        for (int k : kept) {
            StackEntry e = k == StackResolver.MISREAD
                    ? StackEntry.marker(StackResolver.markerName(LibStacktrace.MARK_TRUNCATED)) : all[k];
            if (!showJvm && e.isJvm()) continue;
            if (n >= maxDepth) continue;
            long id = k == StackResolver.MISREAD ? LibStacktrace.MARK_TRUNCATED : raw.id(k);
            keys[n] = e.isJava() ? id
                    : e.isMarker() ? Long.MIN_VALUE + id  // one key per reason, apart from addresses and ids
                    : e.hasName() ? e.address() - e.offset() : e.address();
            entries[n++] = frames.computeIfAbsent(e, same -> same);
        }
        return new Named(List.of(Arrays.copyOf(entries, n)), Arrays.copyOf(keys, n));
    }
}
