package dev.stacktrace.metrics;

import dev.stacktrace.service.StacktraceService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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
 *       symbol was at the top of the stack, for the first {@code topSymbols} symbols with a few samples
 *       (the most sampled first); every other symbol counts under {@code symbol="[other]"}.
 * </ul>
 *
 * Every counter only grows, across profiling sessions too, so rate() over it is meaningful. A symbol
 * that gets its own series keeps it; what it had counted before goes on counting in [other], so
 * that neither series ever goes down. New symbol series are added by a daemon thread every
 * {@code refresh}; {@link #close()} stops it.
 */
public final class StacktraceMetrics implements MeterBinder, AutoCloseable {
    public static final int DEFAULT_TOP_SYMBOLS = 20;
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(2);
    static final String OTHER = "[other]";
    /** A symbol gets a series of its own once it has this many samples. */
    static final long MIN_SAMPLES = 5;
    private static final List<String> REASONS = List.of("table_full", "busy", "thread_gone");

    private final StacktraceService service;
    private final int topSymbols;
    private final Duration refresh;
    /** Symbols with a series of their own, and their total when they got it. */
    private final Map<StacktraceService.Symbol, Long> admitted = new LinkedHashMap<>();
    private long othersFrozen;
    private volatile Map<StacktraceService.Symbol, Long> totals = Map.of();
    private MeterRegistry registry;
    private ScheduledExecutorService refresher;

    public StacktraceMetrics() {
        this(StacktraceService.get(), DEFAULT_TOP_SYMBOLS, DEFAULT_REFRESH);
    }

    public StacktraceMetrics(int topSymbols) {
        this(StacktraceService.get(), topSymbols, DEFAULT_REFRESH);
    }

    public StacktraceMetrics(StacktraceService service, int topSymbols, Duration refresh) {
        if (topSymbols < 0) throw new IllegalArgumentException("topSymbols must be 0 or more, not " + topSymbols);
        this.service = service;
        this.topSymbols = topSymbols;
        this.refresh = refresh;
    }

    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        this.registry = registry;
        FunctionCounter.builder("stacktrace.samples", service, StacktraceService::sampleCount)
                .description("Stack samples taken").register(registry);
        for (String reason : REASONS) {
            FunctionCounter.builder("stacktrace.sample.errors", service, s -> s.errorCounts().getOrDefault(reason, 0L))
                    .description("Samples not recorded, by reason").tag("reason", reason).register(registry);
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
        FunctionCounter.builder("stacktrace.symbol.samples", this, StacktraceMetrics::otherCount)
                .description("Samples with the symbol on top of the stack").tags("symbol", OTHER, "library", OTHER)
                .register(registry);
        refreshSymbols();
        if (refresher == null) {
            refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "stacktrace-metrics");
                t.setDaemon(true);
                return t;
            });
            long millis = Math.max(100, refresh.toMillis());
            refresher.scheduleWithFixedDelay(this::refreshSymbolsQuietly, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    private void refreshSymbolsQuietly() {
        try {
            refreshSymbols();
        } catch (RuntimeException e) {
            // a failed refresh leaves the series as they were; the next one tries again
        }
    }

    /** Reads the totals (unlocked: scrapes never wait for it), then gives new symbols a series while there is room. */
    void refreshSymbols() {
        Map<StacktraceService.Symbol, Long> now = service.symbolTotals(Duration.ZERO);
        synchronized (this) {
            admitNew(now);
        }
    }

    private void admitNew(Map<StacktraceService.Symbol, Long> now) {
        totals = now;
        if (registry == null || admitted.size() >= topSymbols) return;
        // the most sampled first, and only symbols with a few samples: no series for one-off noise
        now.entrySet().stream()
                .filter(e -> !admitted.containsKey(e.getKey()) && e.getValue() >= MIN_SAMPLES)
                .sorted(Map.Entry.<StacktraceService.Symbol, Long>comparingByValue().reversed())
                .limit(topSymbols - admitted.size())
                .forEach(e -> admit(e.getKey(), e.getValue()));
    }

    private void admit(StacktraceService.Symbol symbol, long totalSoFar) {
        admitted.put(symbol, totalSoFar);
        othersFrozen += totalSoFar;
        FunctionCounter.builder("stacktrace.symbol.samples", this, m -> m.ownCount(symbol))
                .description("Samples with the symbol on top of the stack")
                .tags("symbol", symbol.name(), "library", symbol.library()).register(registry);
    }

    private synchronized double ownCount(StacktraceService.Symbol symbol) {
        return totals.getOrDefault(symbol, 0L) - admitted.getOrDefault(symbol, 0L);
    }

    private synchronized double otherCount() {
        long others = othersFrozen;
        for (Map.Entry<StacktraceService.Symbol, Long> e : totals.entrySet()) {
            if (!admitted.containsKey(e.getKey())) others += e.getValue();
        }
        return others;
    }

    @Override
    public synchronized void close() {
        if (refresher != null) refresher.shutdownNow();
        refresher = null;
    }
}
