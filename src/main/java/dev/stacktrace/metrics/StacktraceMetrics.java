package dev.stacktrace.metrics;

import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.SampleError;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
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
 *   <li>{@code stacktrace.samples} (counter), {@code stacktrace.sample.walks} (counter: stacks walked,
 *       each one sample or more), {@code stacktrace.sample.errors} (counter, tag reason:
 *       samples not recorded), {@code stacktrace.sample.incomplete} (counter: samples recorded with a
 *       marker frame, the walk having stopped early),
 *       {@code stacktrace.sample.duration} (timer, one count a walk: the time one walk costs in the sampled thread;
 *       {@code stacktrace.sample.duration.max} the longest), {@code stacktrace.profiling.active} (gauge);
 *   <li>{@code stacktrace.symbol.samples} (counter, tags symbol and library): samples in which the
 *       symbol was on top of the stack, for the {@code topSymbols} symbols with the most such samples
 *       over the last {@code window} (at least {@value #MIN_SAMPLES} there); every other sample counts
 *       under {@code symbol="[other]"}.
 *   <li>{@code stacktrace.library.samples} (counter, tag library): samples by the library of the top
 *       frame ({@code libzstd-jni.so}, {@code libz.so.1}, {@code libjvm.so}; stable names without the
 *       random part of extracted files), {@code library="[java]"} when Java code is on top;
 *       the {@code topSymbols} libraries with the most samples over the window, the rest under
 *       {@code library="[other]"}.
 *   <li>{@code stacktrace.jni.samples} (counter, tags library and caller): samples with native code on
 *       top, by that code's library and the Java method that called into it (the first Java frame below
 *       the native frames, e.g. {@code com.github.luben.zstd.Zstd.compressByteArray}); samples without
 *       a Java frame (GC, JIT compiler threads) or with Java on top are not counted here. Bounded the
 *       same way; the rest under {@code library="[other]",caller="[other]"}.
 * </ul>
 *
 * Every counter only grows, across profiling sessions too, so rate() over it is meaningful. A symbol
 * (library, JNI site) that enters the top gets a series that counts its samples from then on; one
 * that leaves it loses its series, and its later samples count in [other] (should it come back, its
 * series goes on from where it stopped). So each family has at most {@code topSymbols} + 1 series.
 * "How much of our CPU is zstd, and which Java call site drives it":
 * {@code sum by (caller) (rate(stacktrace_jni_samples_total{library="libzstd-jni.so"}[5m]))}.
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
    private static final List<String> LIBRARY_TAG = List.of("library");
    private static final List<String> JNI_TAGS = List.of("library", "caller");

    private final StacktraceService service;
    private final Supplier<StacktraceService.SampleTotals> totalsSource;
    private final Duration refresh;
    private final RankedSeries<StacktraceService.Symbol> symbols;
    private final RankedSeries<String> libraries;
    private final RankedSeries<StacktraceService.JniSite> jniSites;

    // Refresh state: guarded by refreshLock, which a scrape never takes.
    private final Object refreshLock = new Object();
    private final Set<MeterRegistry> bound = new HashSet<>();
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
        this(service, () -> service.sampleTotals(Duration.ZERO), topSymbols, refresh, window);
    }

    /** With symbol totals only (tests): the library and JNI families stay empty. */
    static StacktraceMetrics ofSymbols(StacktraceService service, Supplier<Map<StacktraceService.Symbol, Long>> symbolTotals,
                                       int topSymbols, Duration refresh, Duration window) {
        return new StacktraceMetrics(service, () -> new StacktraceService.SampleTotals(symbolTotals.get(), Map.of(), Map.of()),
                topSymbols, refresh, window);
    }

    StacktraceMetrics(StacktraceService service, Supplier<StacktraceService.SampleTotals> totalsSource,
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
        this.refresh = refresh;
        int windowSteps = (int) Math.max(1, (window.toMillis() + refresh.toMillis() - 1) / refresh.toMillis());
        this.symbols = new RankedSeries<>("stacktrace.symbol.samples", "Samples with the symbol on top of the stack",
                List.of("symbol", "library"), s -> List.of(s.name(), s.library()), topSymbols, windowSteps);
        this.libraries = new RankedSeries<>("stacktrace.library.samples",
                "Samples by the library of the top frame ([java]: Java code on top)", LIBRARY_TAG, List::of,
                topSymbols, windowSteps);
        this.jniSites = new RankedSeries<>("stacktrace.jni.samples",
                "Samples in native code by its library and the Java method that called into it", JNI_TAGS,
                j -> List.of(j.library(), j.caller()), topSymbols, windowSteps);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder("stacktrace.samples", service, StacktraceService::sampleCount)
                .description("Stack samples taken").register(registry);
        FunctionCounter.builder("stacktrace.sample.walks", service, StacktraceService::walkCount)
                .description("Stacks walked, each one sample or more: samples minus walks were counted on a later "
                        + "stack of their thread (in cpu mode, time in the kernel)").register(registry);
        for (SampleError reason : SampleError.values()) {
            FunctionCounter.builder("stacktrace.sample.errors", service, s -> s.errorsByReason().getOrDefault(reason, 0L))
                    .description("Samples not recorded, by reason").tag("reason", reason.key()).register(registry);
        }
        FunctionCounter.builder("stacktrace.sample.incomplete", service, StacktraceService::incompleteCount)
                .description("Samples recorded with a marker frame: the stack walk stopped early").register(registry);
        FunctionTimer.builder("stacktrace.sample.duration", service, StacktraceService::walkCount,
                        s -> s.sampleTime().toNanos(), TimeUnit.NANOSECONDS)
                .description("Time one stack walk costs inside the sampled thread").register(registry);
        TimeGauge.builder("stacktrace.sample.duration.max", service, TimeUnit.NANOSECONDS,
                        s -> s.maxSampleTime().toNanos())
                .description("The longest stack walk inside a sampled thread").register(registry);
        Gauge.builder("stacktrace.profiling.active", service, s -> s.isProfiling() ? 1 : 0)
                .description("1 while profiling runs").register(registry);
        Gauge.builder("stacktrace.profiling.unsampled.threads", service, StacktraceService::unsampledThreads)
                .description("Threads the running profile cannot sample: over 4,096, or no room in the user's "
                        + "pending-signal queue for their timers").register(registry);
        synchronized (refreshLock) {
            symbols.bindTo(registry);
            libraries.bindTo(registry);
            jniSites.bindTo(registry);
            if (!bound.add(registry)) return;
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
     * Reads the totals (the slow part: the live profile is read and symbolized), ranks each family's
     * keys over the window, books the new samples to their series or to [other], and publishes.
     */
    void refresh() {
        StacktraceService.SampleTotals totals = totalsSource.get();
        synchronized (refreshLock) {
            symbols.refresh(totals.symbols());
            libraries.refresh(totals.libraries());
            jniSites.refresh(totals.jniSites());
        }
    }

    @Override
    public void close() {
        synchronized (refreshLock) {
            if (refresher != null) refresher.shutdownNow();
            refresher = null;
        }
    }
}
