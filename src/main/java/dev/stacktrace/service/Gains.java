package dev.stacktrace.service;

import java.util.HashMap;
import java.util.Map;

/**
 * What each key of a set of counters that only grow has gained since they were last read: the
 * difference of two readings of the same totals, keeping only keys that gained. The metrics binder
 * books its refreshes with it, the profile pusher its intervals.
 */
public final class Gains {
    private Gains() {}

    /** {@code now - before} per key, for the keys that gained (a key missing before counts from 0). */
    public static <K> Map<K, Long> since(Map<K, Long> before, Map<K, Long> now) {
        Map<K, Long> gained = new HashMap<>();
        now.forEach((key, n) -> {
            long delta = n - before.getOrDefault(key, 0L);
            if (delta > 0) gained.put(key, delta);
        });
        return gained;
    }
}
