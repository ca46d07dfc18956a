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
    /** A table entry: equal stacks sampled under two label sets are two entries. */
    private record Entry(RawStack stack, int label) {}

    /** An entry's count at the last read, and its name once it had samples to give. */
    private static final class Seen {
        long count;
        ProfileStacks.Named named;
    }

    private final Profiler profiler;
    private final Map<Entry, Seen> seen = new HashMap<>();
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
        RawStack.forEachLabeledProfileStack(r.table(), (raw, count, label) -> {
            Seen entry = seen.computeIfAbsent(new Entry(raw, label), e -> new Seen());
            long n = count - entry.count;
            if (n <= 0) return;
            entry.count = count;
            resolved++;
            if (entry.named == null) entry.named = profiler.named(raw);
            if (!entry.named.frames().isEmpty()) gained.merge(Map.entry(entry.named.frames(), label), n, Long::sum);
        });
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
