package dev.stacktrace.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One bounded family of counters fed by growing totals per key (a symbol, a library, a JNI site):
 * the {@code top} keys with the most samples over the window (at least
 * {@link StacktraceMetrics#MIN_SAMPLES} there) have a series each; every other sample counts in one
 * series whose tags are all "[other]". A key that leaves the top loses its series and its later
 * samples count in [other]; should it come back, its series goes on from where it stopped. So the
 * family has at most {@code top} + 1 series, and each only grows.
 *
 * <p>Not thread-safe except {@link #published}: the binder calls everything else under its lock.
 */
final class RankedSeries<K> {
    /** What a scrape reads: replaced whole by each refresh. */
    private record Counts<K>(Map<K, Long> own, long other) {}

    private final String metric;
    private final String description;
    private final List<String> tagNames;
    private final Function<K, List<String>> tagValues;
    private final int top;
    private final int windowSteps;
    private volatile Counts<K> published = new Counts<>(Map.of(), 0);

    private Map<K, Long> lastTotals = Map.of();
    /** Per refresh, the samples each key gained; the newest last, {@code windowSteps} at most. */
    private final ArrayDeque<Map<K, Long>> recent = new ArrayDeque<>();
    private final Map<K, Long> inWindow = new HashMap<>();
    /** Every key that ever had a series, with its count (kept, so a returning key never goes down). */
    private final Map<K, Long> own = new HashMap<>();
    private long other;
    /** Per registry bound to, the series registered there: those of the current top. */
    private final Map<MeterRegistry, Map<K, Meter>> series = new HashMap<>();
    private Set<K> ranked = Set.of();

    /** {@code tagValues} gives a key's values for {@code tagNames}, in that order. */
    RankedSeries(String metric, String description, List<String> tagNames, Function<K, List<String>> tagValues,
                 int top, int windowSteps) {
        this.metric = metric;
        this.description = description;
        this.tagNames = List.copyOf(tagNames);
        this.tagValues = tagValues;
        this.top = top;
        this.windowSteps = windowSteps;
    }

    /** Registers the [other] series and the top's in {@code registry}; false when already bound there. */
    boolean bindTo(MeterRegistry registry) {
        String[] tags = new String[2 * tagNames.size()];
        for (int i = 0; i < tagNames.size(); i++) {
            tags[2 * i] = tagNames.get(i);
            tags[2 * i + 1] = StacktraceMetrics.OTHER;
        }
        FunctionCounter.builder(metric, this, s -> s.published.other()).description(description).tags(tags)
                .register(registry);
        if (series.containsKey(registry)) return false;
        series.put(registry, new HashMap<>());
        updateSeries();
        return true;
    }

    /** Books the samples gained since the last totals to their key's series or to [other], and publishes. */
    void refresh(Map<K, Long> totals) {
        Map<K, Long> gained = new HashMap<>();
        totals.forEach((key, n) -> {
            long delta = n - lastTotals.getOrDefault(key, 0L);
            if (delta > 0) gained.put(key, delta);
        });
        lastTotals = totals;
        recent.addLast(gained);
        gained.forEach((key, n) -> inWindow.merge(key, n, Long::sum));
        while (recent.size() > windowSteps) {
            recent.removeFirst().forEach((key, n) -> inWindow.computeIfPresent(key, (k, m) -> m - n > 0 ? m - n : null));
        }
        ranked = rank();
        gained.forEach((key, n) -> {
            if (ranked.contains(key)) own.merge(key, n, Long::sum);
            else other += n;
        });
        published = new Counts<>(Map.copyOf(own), other);
        updateSeries();
    }

    /** The keys with the most samples in the window; on a tie, one that has a series keeps it. */
    private Set<K> rank() {
        List<Map.Entry<K, Long>> candidates = new ArrayList<>();
        for (Map.Entry<K, Long> e : inWindow.entrySet()) {
            if (e.getValue() >= StacktraceMetrics.MIN_SAMPLES) candidates.add(e);
        }
        candidates.sort(Comparator.comparingLong((Map.Entry<K, Long> e) -> e.getValue()).reversed()
                .thenComparing(e -> !ranked.contains(e.getKey()))
                .thenComparing(e -> String.join("\u0000", tagValues.apply(e.getKey()))));
        Set<K> best = new HashSet<>();
        for (int i = 0; i < Math.min(top, candidates.size()); i++) best.add(candidates.get(i).getKey());
        return best;
    }

    /** In every registry: a series for each key of the top, none for the others. */
    private void updateSeries() {
        series.forEach((registry, meters) -> {
            meters.entrySet().removeIf(e -> {
                if (ranked.contains(e.getKey())) return false;
                registry.remove(e.getValue());
                return true;
            });
            for (K key : ranked) {
                meters.computeIfAbsent(key, k -> {
                    List<String> values = tagValues.apply(k);
                    String[] tags = new String[2 * tagNames.size()];
                    for (int i = 0; i < tagNames.size(); i++) {
                        tags[2 * i] = tagNames.get(i);
                        tags[2 * i + 1] = values.get(i);
                    }
                    return FunctionCounter.builder(metric, this, s -> s.published.own().getOrDefault(k, 0L))
                            .description(description).tags(tags).register(registry);
                });
            }
        });
    }
}
