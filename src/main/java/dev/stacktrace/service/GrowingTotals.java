package dev.stacktrace.service;

import java.util.HashMap;
import java.util.Map;

/**
 * Sample totals per key over every profiling session, that only grow (as Prometheus counters
 * must): the ended sessions' counts plus the live session's as last seen. Not thread-safe: the
 * service guards it.
 */
final class GrowingTotals<K> {
    private final Map<K, Long> totals = new HashMap<>();
    private Map<K, Long> liveSeen = new HashMap<>();

    /** A new session starts counting from zero. */
    void newSession() {
        liveSeen = new HashMap<>();
    }

    /** Adds what the live session has counted since last seen ({@code now}: its counts so far). */
    void fold(Map<K, Long> now) {
        Map<K, Long> seen = liveSeen;
        Map<K, Long> next = new HashMap<>(now);
        next.forEach((key, count) -> {
            long delta = count - seen.getOrDefault(key, 0L);
            if (delta > 0) totals.merge(key, delta, Long::sum);
        });
        // counts only grow: keep the larger of what was seen and what is seen now
        seen.forEach((key, count) -> next.merge(key, count, Math::max));
        liveSeen = next;
    }

    Map<K, Long> snapshot() {
        return Map.copyOf(totals);
    }
}
