package dev.stacktrace.service;

import dev.stacktrace.StackEntry;
import dev.stacktrace.tools.Profiler;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The stacks the service's profile gained since the last call: what a profile of the last interval
 * holds, taken from a profile that counts since its start. A session that ended meanwhile gives
 * what it gained until its end, and the session after it everything it has counted so far, so no
 * sample is taken twice or lost between two calls. One reader per instance.
 */
public final class ProfileDelta {
    private final StacktraceService service;
    private Profiler seen;
    private Map<List<StackEntry>, Long> seenStacks = Map.of();

    public ProfileDelta(StacktraceService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /** The profile is read here, while sampling goes on: call it from a thread of its own. */
    public synchronized Map<List<StackEntry>, Long> next() {
        Profiler now = service.profile();
        Map<List<StackEntry>, Long> gained = new HashMap<>();
        if (seen != null && seen != now) {
            gained.putAll(Gains.since(seenStacks, seen.getStacks()));  // the ended session's last part
            seenStacks = Map.of();
        }
        seen = now;
        if (now == null) return gained;
        Map<List<StackEntry>, Long> stacks = now.getStacks();
        Gains.since(seenStacks, stacks).forEach((stack, n) -> gained.merge(stack, n, Long::sum));
        // counts only grow: keep the larger of what was seen and what is seen now
        Map<List<StackEntry>, Long> kept = new HashMap<>(stacks);
        seenStacks.forEach((stack, n) -> kept.merge(stack, n, Math::max));
        seenStacks = kept;
        return gained;
    }
}
