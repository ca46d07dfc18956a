package dev.stacktrace.internal.labels;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Interns each distinct label set into a small id, the number the signal handler stores with a
 * sample (0: no labels). Ids are never reused, so a profile read at any time names its sets
 * correctly; hence the bounds: at most {@link #MAX_KEYS} distinct keys and {@link #MAX_SETS}
 * distinct sets in the life of the JVM.
 */
public final class LabelSets {
    public static final int MAX_KEYS = 16;
    public static final int MAX_SETS = 4096;
    /** The longest key or value, in characters. */
    public static final int MAX_LENGTH = 200;

    private static final Map<Map<String, String>, Integer> IDS = new ConcurrentHashMap<>();
    private static final Map<String, Boolean> KEYS = new ConcurrentHashMap<>();
    /** By id; index 0 is the empty set. Replaced whole under the class lock, read without it. */
    private static volatile Map<?, ?>[] byId = {Map.of()};

    private LabelSets() {}

    /** The id of this set (0 for the empty set), interning it when new. */
    public static int idOf(Map<String, String> labels) {
        if (labels.isEmpty()) return 0;
        Integer id = IDS.get(labels);
        return id != null ? id : intern(labels);
    }

    /** The set with this id; the empty set for 0 or an unknown id. */
    @SuppressWarnings("unchecked")
    public static Map<String, String> labels(int id) {
        Map<?, ?>[] sets = byId;
        return id > 0 && id < sets.length ? (Map<String, String>) sets[id] : Map.of();
    }

    private static synchronized int intern(Map<String, String> labels) {
        Integer known = IDS.get(labels);
        if (known != null) return known;
        int newKeys = 0;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            check(e.getKey(), "key");
            check(e.getValue(), "value of label " + e.getKey());
            if (!KEYS.containsKey(e.getKey())) newKeys++;
        }
        if (KEYS.size() + newKeys > MAX_KEYS) {
            throw new IllegalStateException("too many label keys: at most " + MAX_KEYS + " distinct keys in a JVM ("
                    + KEYS.keySet() + " are in use, " + labels.keySet() + " asked for); use fewer keys, and put "
                    + "varying data in values");
        }
        Map<?, ?>[] sets = byId;
        if (sets.length > MAX_SETS) {
            throw new IllegalStateException("too many distinct label sets: at most " + MAX_SETS + " in a JVM; label "
                    + "values must come from a small set (an endpoint, a tenant class), not from ids or timestamps");
        }
        // sorted by key: collapsed output and flame graphs show a set's labels in one order
        Map<String, String> copy = java.util.Collections.unmodifiableMap(new TreeMap<>(labels));
        for (String key : labels.keySet()) KEYS.put(key, Boolean.TRUE);
        Map<?, ?>[] grown = java.util.Arrays.copyOf(sets, sets.length + 1);
        grown[sets.length] = copy;
        byId = grown;
        IDS.put(copy, sets.length);
        return sets.length;
    }

    private static void check(String s, String what) {
        if (s == null) throw new IllegalArgumentException("a label's " + what + " must not be null");
        if (s.isEmpty() && what.equals("key")) throw new IllegalArgumentException("a label's key must not be empty");
        if (s.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("a label's " + what + " must be at most " + MAX_LENGTH + " characters, not "
                    + s.length());
        }
    }
}
