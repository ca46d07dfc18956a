package dev.stacktrace.metrics;

import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.SampleError;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Binds stacktrace's sampling to any Micrometer registry (Spring Boot users bind it to theirs):
 *
 * <ul>
 *   <li>{@code stacktrace.samples} (counter), {@code stacktrace.sample.errors} (counter, tag reason:
 *       samples not recorded), {@code stacktrace.sample.incomplete} (counter: samples recorded with a
 *       marker frame, the walk having stopped early),
 *       {@code stacktrace.sample.duration} (timer: the time one sample costs in the sampled thread;
 *       {@code stacktrace.sample.duration.max} the longest), {@code stacktrace.profiling.active} (gauge);
 *   <li>{@code stacktrace.symbol.samples} (counter, tags symbol and library): samples in which the
 *       symbol was on top of the stack, for the {@code topSymbols} symbols with the most such samples
 *       over the last {@code window} (at least {@value #MIN_SAMPLES} there); every other sample counts
 *       under {@code symbol="[other]"}.
 * </ul>
 *
 * Every counter only grows, across profiling sessions too, so rate() over it is meaningful. A symbol
 * that enters the top gets a series that counts its samples from then on; one that leaves it loses
 * its series, and its later samples count in [other] (should it come back, its series goes on from
 * where it stopped). So there are at most {@code topSymbols} + 1 symbol series.
 *
 * <p>A daemon thread re-reads the profile every {@code refresh} and publishes the counts as one
 * immutable snapshot; a scrape only reads that snapshot, so it never waits for a profile being read,
 * symbolized or stopped. {@link #close()} stops the thread.
 */
public final class StacktraceMetrics implements MeterBinder, AutoCloseable {
    public static final int DEFAULT_TOP_SYMBOLS = 20;
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(2);
    /** How far back "top" looks. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(1);
    static final String OTHER = "[other]";
    /** A symbol needs this many samples within the window to get a series of its own: none for one-off noise. */
    static final long MIN_SAMPLES = 5;
    private static final String SYMBOL_METRIC = "stacktrace.symbol.samples";
    private static final String SYMBOL_DESCRIPTION = "Samples with the symbol on top of the stack";

    /** What a scrape reads: replaced whole by each refresh. */
    private record Counts(Map<StacktraceService.Symbol, Long> own, long other) {}

    private final StacktraceService service;
    private final Supplier<Map<StacktraceService.Symbol, Long>> totalsSource;
    private final int topSymbols;
    private final Duration refresh;
    private final int windowSteps;
    private volatile Counts published = new Counts(Map.of(), 0);

    // Refresh state: guarded by refreshLock, which a scrape never takes.
    private final Object refreshLock = new Object();
    private Map<StacktraceService.Symbol, Long> lastTotals = Map.of();
    /** Per refresh, the samples each symbol gained; the newest last, {@code windowSteps} at most. */
    private final ArrayDeque<Map<StacktraceService.Symbol, Long>> recent = new ArrayDeque<>();
    private final Map<StacktraceService.Symbol, Long> inWindow = new HashMap<>();
    /** Every symbol that ever had a series, with its count (kept, so a returning symbol never goes down). */
    private final Map<StacktraceService.Symbol, Long> own = new HashMap<>();
    private long other;
    /** Per registry bound to, the symbol series registered there: those of the current top. */
    private final Map<MeterRegistry, Map<StacktraceService.Symbol, Meter>> series = new HashMap<>();
    private Set<StacktraceService.Symbol> top = Set.of();
    private ScheduledExecutorService refresher;

    public StacktraceMetrics() {
        this(StacktraceService.get(), DEFAULT_TOP_SYMBOLS, DEFAULT_REFRESH);
    }

    public StacktraceMetrics(int topSymbols) {
        this(StacktraceService.get(), topSymbols, DEFAULT_REFRESH);
    }

    public StacktraceMetrics(StacktraceService service, int topSymbols, Duration refresh) {
        this(service, topSymbols, refresh, DEFAULT_WINDOW);
    }

    /** {@code window}: how far back the top symbols are ranked (at least {@code refresh}). */
    public StacktraceMetrics(StacktraceService service, int topSymbols, Duration refresh, Duration window) {
        this(service, () -> service.symbolTotals(Duration.ZERO), topSymbols, refresh, window);
    }

    StacktraceMetrics(StacktraceService service, Supplier<Map<StacktraceService.Symbol, Long>> totalsSource,
                      int topSymbols, Duration refresh, Duration window) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(refresh, "refresh");
        Objects.requireNonNull(window, "window");
        if (topSymbols < 0) throw new IllegalArgumentException("topSymbols must be 0 or more, not " + topSymbols);
        if (refresh.toMillis() < 100 || refresh.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("refresh must be from 100 ms to 1 h, not " + refresh);
        }
        if (window.compareTo(refresh) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("window must be from refresh (" + refresh + ") to 1 day, not " + window);
        }
        this.service = service;
        this.totalsSource = totalsSource;
        this.topSymbols = topSymbols;
        this.refresh = refresh;
        this.windowSteps = (int) Math.max(1, (window.toMillis() + refresh.toMillis() - 1) / refresh.toMillis());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder("stacktrace.samples", service, StacktraceService::sampleCount)
                .description("Stack samples taken").register(registry);
        for (SampleError reason : SampleError.values()) {
            FunctionCounter.builder("stacktrace.sample.errors", service, s -> s.errorsByReason().getOrDefault(reason, 0L))
                    .description("Samples not recorded, by reason").tag("reason", reason.key()).register(registry);
        }
        FunctionCounter.builder("stacktrace.sample.incomplete", service, StacktraceService::incompleteCount)
                .description("Samples recorded with a marker frame: the stack walk stopped early").register(registry);
        FunctionTimer.builder("stacktrace.sample.duration", service, StacktraceService::sampleCount,
                        s -> s.sampleTime().toNanos(), TimeUnit.NANOSECONDS)
                .description("Time one sample costs inside the sampled thread").register(registry);
        TimeGauge.builder("stacktrace.sample.duration.max", service, TimeUnit.NANOSECONDS,
                        s -> s.maxSampleTime().toNanos())
                .description("The longest sample").register(registry);
        Gauge.builder("stacktrace.profiling.active", service, s -> s.isProfiling() ? 1 : 0)
                .description("1 while profiling runs").register(registry);
        FunctionCounter.builder(SYMBOL_METRIC, this, m -> m.published.other())
                .description(SYMBOL_DESCRIPTION).tags("symbol", OTHER, "library", OTHER).register(registry);
        synchronized (refreshLock) {
            if (series.containsKey(registry)) return;
            series.put(registry, new HashMap<>());
            updateSeries();
            if (refresher != null) return;
        }
        refreshQuietly();
        synchronized (refreshLock) {
            if (refresher != null) return;
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "stacktrace-metrics");
                t.setDaemon(true);
                return t;
            });
            refresher.scheduleWithFixedDelay(this::refreshQuietly, refresh.toMillis(), refresh.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // a failed refresh leaves the counts as they were; the next one catches up
        }
    }

    /**
     * Reads the totals (the slow part: the live profile is read and symbolized), ranks the symbols over
     * the window, books the new samples to their symbol's series or to [other], and publishes.
     */
    void refresh() {
        Map<StacktraceService.Symbol, Long> totals = totalsSource.get();
        synchronized (refreshLock) {
            Map<StacktraceService.Symbol, Long> gained = new HashMap<>();
            totals.forEach((symbol, n) -> {
                long delta = n - lastTotals.getOrDefault(symbol, 0L);
                if (delta > 0) gained.put(symbol, delta);
            });
            lastTotals = totals;
            recent.addLast(gained);
            gained.forEach((symbol, n) -> inWindow.merge(symbol, n, Long::sum));
            while (recent.size() > windowSteps) {
                recent.removeFirst().forEach((symbol, n) -> inWindow.computeIfPresent(symbol, (s, m) -> m - n > 0 ? m - n : null));
            }
            top = top();
            gained.forEach((symbol, n) -> {
                if (top.contains(symbol)) own.merge(symbol, n, Long::sum);
                else other += n;
            });
            published = new Counts(Map.copyOf(own), other);
            updateSeries();
        }
    }

    /** The symbols with the most samples in the window; on a tie, one that has a series keeps it. */
    private Set<StacktraceService.Symbol> top() {
        List<Map.Entry<StacktraceService.Symbol, Long>> ranked = new ArrayList<>();
        for (Map.Entry<StacktraceService.Symbol, Long> e : inWindow.entrySet()) {
            if (e.getValue() >= MIN_SAMPLES) ranked.add(e);
        }
        ranked.sort(Comparator.comparingLong((Map.Entry<StacktraceService.Symbol, Long> e) -> e.getValue()).reversed()
                .thenComparing(e -> !top.contains(e.getKey()))
                .thenComparing(e -> e.getKey().name()).thenComparing(e -> e.getKey().library()));
        Set<StacktraceService.Symbol> best = new HashSet<>();
        for (int i = 0; i < Math.min(topSymbols, ranked.size()); i++) best.add(ranked.get(i).getKey());
        return best;
    }

    /** In every registry: a series for each symbol of the top, none for the others. */
    private void updateSeries() {
        series.forEach((registry, symbols) -> {
            symbols.entrySet().removeIf(e -> {
                if (top.contains(e.getKey())) return false;
                registry.remove(e.getValue());
                return true;
            });
            for (StacktraceService.Symbol symbol : top) {
                symbols.computeIfAbsent(symbol, s -> FunctionCounter.builder(SYMBOL_METRIC, this,
                                m -> m.published.own().getOrDefault(s, 0L))
                        .description(SYMBOL_DESCRIPTION).tags("symbol", s.name(), "library", s.library())
                        .register(registry));
            }
        });
    }

    @Override
    public void close() {
        synchronized (refreshLock) {
            if (refresher != null) refresher.shutdownNow();
            refresher = null;
        }
    }
}
