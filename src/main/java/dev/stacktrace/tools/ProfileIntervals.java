package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.labels.LabelSets;
import dev.stacktrace.internal.stacks.ProfileStacks;
import dev.stacktrace.internal.stacks.RawStack;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads a {@link Profiler}'s samples one interval at a time: each {@link #next} gives what was
 * sampled since the previous call (the first, everything since the profiler started), as the
 * snapshot {@code profiler.snapshot().since(previous)} would give, and accepted by
 * {@link ProfileSnapshot#since} with the profiler's own snapshots.
 *
 * <p>What it costs follows what changed, not the size of the profile: it keeps the count of each
 * raw entry of the native table (a stack as recorded, with its label set) from the last call, and
 * names only the entries whose count grew since; names resolved before are reused (the profiler
 * names each distinct stack once). The counts kept are bounded by the table's size.
 *
 * <p>One reader per instance (calls are serialized); made by {@link Profiler#intervals()}.
 */
public final class ProfileIntervals {
    /** A table entry: equal stacks sampled under two label sets are two entries; the table holds each once. */
    private record Entry(RawStack stack, int label) {}

    /** An entry's count at the last read, and its name once it had samples to give. */
    private static final class Seen {
        final Entry entry;
        long count;
        ProfileStacks.Named named;

        Seen(Entry entry) {
            this.entry = entry;
        }
    }

    private final Profiler profiler;
    private final Map<Entry, Seen> seen = new HashMap<>();
    /** The entries of the last read in the table's order (see {@link #next}). */
    private Seen[] order = new Seen[0];
    /** Where the last interval ended, in nanoseconds since the profiler started; -1 before the first. */
    private long endNanos = -1;
    private long resolved;

    ProfileIntervals(Profiler profiler) {
        this.profiler = Objects.requireNonNull(profiler, "profiler");
    }

    /**
     * The samples taken since the last call (the first call: since the profiler started), covering
     * the time between; empty when nothing was sampled meanwhile. Before the profiler starts, an
     * empty snapshot of no time.
     */
    public synchronized ProfileSnapshot next() {
        Profiler.Reading r = profiler.reading();
        if (r.start() == null) {
            return new ProfileSnapshot(profiler, profiler.mode(), profiler.interval(), Instant.now(), Duration.ZERO, List.of());
        }
        Map<Map.Entry<List<StackEntry>, Integer>, Long> gained = new LinkedHashMap<>();
        // The table is read in its slot order and keeps its entries where they are while it runs, so
        // each entry is most often the one after the last one found, in the last read: compared in
        // place, without a copy or a hash; anything else (a new entry) is looked up.
        List<Seen> now = new ArrayList<>(order.length + 16);
        int[] next = {0};
        RawStack.forEachProfileEntry(r.table(), (table, from, to, count, label) -> {
            int k = next[0];
            Seen entry;
            if (k < order.length && order[k].entry.label() == label && order[k].entry.stack().isProfileStackAt(table, from, to)) {
                entry = order[k];
                next[0] = k + 1;
            } else {
                entry = seen.computeIfAbsent(new Entry(RawStack.profileStack(table, from, to), label), Seen::new);
            }
            now.add(entry);
            long n = count - entry.count;
            if (n <= 0) return;
            entry.count = count;
            resolved++;
            if (entry.named == null) entry.named = profiler.named(entry.entry.stack());
            if (!entry.named.frames().isEmpty()) gained.merge(Map.entry(entry.named.frames(), label), n, Long::sum);
        });
        order = now.toArray(new Seen[0]);
        long from = Math.max(endNanos, 0);
        long to = Math.max(r.endNanos() - r.startNanos(), from);
        endNanos = to;
        List<ProfileSnapshot.Sample> samples = new ArrayList<>(gained.size());
        gained.forEach((stack, n) -> samples.add(new ProfileSnapshot.Sample(stack.getKey(), LabelSets.labels(stack.getValue()), n)));
        return new ProfileSnapshot(profiler, profiler.mode(), profiler.interval(), r.start().plusNanos(from),
                Duration.ofNanos(to - from), samples);
    }

    /** Table entries taken into an interval so far: at each call, those whose count grew (the others cost no naming). */
    synchronized long resolvedEntries() {
        return resolved;
    }
}
