package dev.stacktrace.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.ThrowingSupplier;

/** The symbol series through Micrometer's Prometheus registry, fed by a real profile of a real workload. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StacktraceMetricsTest {
    private static final String A = StacktraceMetricsTest.class.getName() + ".hotA";
    private static final String B = StacktraceMetricsTest.class.getName() + ".hotB";
    private static volatile long sink;
    /** 1: only hotA; 2: hotB 80% of the time, hotA 20%; 0: stop. */
    private static volatile int phase = 1;

    static long hotA(long x) {
        for (int i = 0; i < 20_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        return x;
    }

    static long hotB(long x) {
        for (int i = 0; i < 20_000; i++) x = (x ^ (x >>> 7)) * 0x9E3779B97F4A7C15L + i;
        return x;
    }

    private static void work() {
        long x = 1;
        while (phase != 0) {
            long slice = System.nanoTime();
            if (phase == 1) {
                while (System.nanoTime() - slice < 10_000_000) x = hotA(x);
            } else {
                while (System.nanoTime() - slice < 8_000_000) x = hotB(x);
                slice = System.nanoTime();
                while (System.nanoTime() - slice < 2_000_000) x = hotA(x);
            }
        }
        sink = x;
    }

    @Test
    void theSeriesFollowTheHotSymbolAndNeverGoDown() throws Exception {
        StacktraceService service = StacktraceService.get();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Thread worker = new Thread(StacktraceMetricsTest::work, "metrics-workload");
        worker.setDaemon(true);
        phase = 1;
        worker.start();
        Monotonic watch = new Monotonic(registry);
        service.startProfiling(worker, Profiler.Mode.WALL, Duration.ofMillis(5));
        try (StacktraceMetrics metrics = new StacktraceMetrics(service, 1, Duration.ofMillis(200), Duration.ofSeconds(2))) {
            metrics.bindTo(registry);

            await(watch, () -> watch.value(A) >= 20, "hotA gets the one series");
            phase = 2;
            await(watch, () -> watch.value(B) >= 20 && watch.value(A) < 0, "hotB takes the series from hotA");

            // hotA is still sampled (a fifth of the time): from now on its samples count in [other]
            double other = watch.value(StacktraceMetrics.OTHER);
            long aTotal = service.symbolTotals(Duration.ZERO).entrySet().stream()
                    .filter(e -> e.getKey().name().equals(A)).mapToLong(Map.Entry::getValue).sum();
            await(watch, () -> watch.value(StacktraceMetrics.OTHER) >= other + 20, "[other] grows with hotA's samples");
            long aLater = service.symbolTotals(Duration.ZERO).entrySet().stream()
                    .filter(e -> e.getKey().name().equals(A)).mapToLong(Map.Entry::getValue).sum();
            assertTrue(aLater > aTotal, "hotA went on being sampled: " + aTotal + " -> " + aLater);
            assertTrue(watch.value(A) < 0, "hotA has no series of its own while out of the top");

            String scrape = registry.scrape();
            assertTrue(scrape.contains("symbol=\"" + B + "\""), scrape);
            assertTrue(scrape.contains("symbol=\"[other]\""), scrape);
        } finally {
            phase = 0;
            service.stopProfiling();
            worker.join(10_000);
        }
        assertEquals(List.of(), watch.decreases, "counters never go down");
        assertTrue(watch.maxSeries <= 2, "top=1: one symbol series and [other], not " + watch.maxSeries);
        // the session has ended: the counts stand still, and the timer counts walks, not samples
        double walks = registry.get("stacktrace.sample.walks").functionCounter().count();
        double samples = registry.get("stacktrace.samples").functionCounter().count();
        assertEquals(service.walkCount(), walks, 0.0);
        assertTrue(walks > 0 && walks <= samples, walks + " walks, " + samples + " samples");
        assertEquals(walks, registry.get("stacktrace.sample.duration").functionTimer().count(), 0.0);
        assertTrue(registry.scrape().contains("stacktrace_sample_walks_total"));
    }

    @Test
    void aScrapeDoesNotWaitForASlowRefresh() throws Exception {
        StacktraceService.Symbol symbol = new StacktraceService.Symbol("slowly_read", "libslow.so");
        CountDownLatch inSecondRefresh = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        int[] calls = {0};
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (StacktraceMetrics metrics = StacktraceMetrics.ofSymbols(StacktraceService.get(), () -> {
            if (calls[0]++ > 0) {
                inSecondRefresh.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);  // a refresh stuck reading the profile
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Map.of(symbol, 10L);
        }, 5, Duration.ofMillis(100), Duration.ofSeconds(1))) {
            metrics.bindTo(registry);
            assertTrue(inSecondRefresh.await(20, TimeUnit.SECONDS), "the refresher started its second refresh");
            String scrape = assertTimeoutPreemptively(Duration.ofSeconds(10), (ThrowingSupplier<String>) registry::scrape,
                    "a scrape waited for the refresh");
            assertTrue(scrape.contains("stacktrace_symbol_samples_total{library=\"libslow.so\",symbol=\"slowly_read\"} 10.0"),
                    scrape);
            assertTrue(scrape.contains("stacktrace_samples_total"), scrape);
        } finally {
            release.countDown();
        }
    }

    @Test
    void oneBinderServesEveryRegistryItIsBoundTo() {
        StacktraceService.Symbol symbol = new StacktraceService.Symbol("counted_twice", "libtwice.so");
        PrometheusMeterRegistry first = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PrometheusMeterRegistry second = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (StacktraceMetrics metrics = StacktraceMetrics.ofSymbols(StacktraceService.get(), () -> Map.of(symbol, 10L), 5,
                Duration.ofMillis(100), Duration.ofSeconds(1))) {
            metrics.bindTo(first);
            metrics.bindTo(second);
            for (PrometheusMeterRegistry registry : List.of(first, second)) {
                String scrape = registry.scrape();
                assertTrue(scrape.contains(
                        "stacktrace_symbol_samples_total{library=\"libtwice.so\",symbol=\"counted_twice\"} 10.0"), scrape);
                assertTrue(scrape.contains("stacktrace_samples_total"), scrape);
            }
        }
    }

    /** A known Java method that calls into zlib (through the JDK's native Deflater methods). */
    static long compressLoop(byte[] input, byte[] output) {
        return dev.stacktrace.testlib.ZlibWork.deflateWhile(() -> phase != 0, input, output);
    }

    @Test
    void librariesAndJniCallersOfARealZlibWorkload() throws Exception {
        byte[] input = new byte[1 << 20];
        new Random(7).nextBytes(input);
        for (int i = 0; i < input.length; i += 3) input[i] = 'a';
        byte[] output = new byte[input.length + 1024];
        phase = 1;
        Thread worker = new Thread(() -> sink = compressLoop(input, output), "zlib-workload");
        worker.setDaemon(true);
        worker.start();
        StacktraceService service = StacktraceService.get();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        service.startProfiling(worker, Profiler.Mode.CPU, Duration.ofMillis(5));
        try (StacktraceMetrics metrics = new StacktraceMetrics(service, 5, Duration.ofMillis(200), Duration.ofSeconds(5))) {
            metrics.bindTo(registry);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            FunctionCounter zlibSite = null;
            while (zlibSite == null) {
                assertTrue(System.nanoTime() < deadline, "no jni series with a Deflater caller within 40 s:\n" + registry.scrape());
                Thread.sleep(100);
                for (FunctionCounter c : registry.find("stacktrace.jni.samples").functionCounters()) {
                    String caller = c.getId().getTag("caller");
                    if (caller.startsWith("java.util.zip.Deflater.") && c.count() >= 20) zlibSite = c;
                }
            }
            String library = zlibSite.getId().getTag("library");
            assertTrue(library.startsWith("libz") || library.startsWith("libzip"), "zlib's library: " + library);
            // the same library has a series of its own in library.samples, counting at least as many samples
            FunctionCounter byLibrary = registry.find("stacktrace.library.samples").tag("library", library).functionCounter();
            assertTrue(byLibrary != null && byLibrary.count() >= zlibSite.count() * 0.5,
                    "library " + library + ": " + (byLibrary == null ? "no series" : byLibrary.count()));
            String scrape = registry.scrape();
            assertTrue(scrape.contains("stacktrace_library_samples_total{library=\"[other]\"}"), scrape);
            assertTrue(scrape.contains("stacktrace_jni_samples_total{caller=\"[other]\",library=\"[other]\"}"), scrape);
        } finally {
            phase = 0;
            service.stopProfiling();
            worker.join(10_000);
        }
    }

    @Test
    void libraryAndJniSeriesAreBoundedToTheTopAndOther() {
        Map<String, Long> libraries = Map.of("liba.so", 100L, "libb.so", 50L, "libc.so", 10L, "[java]", 5L);
        Map<StacktraceService.JniSite, Long> sites = Map.of(
                new StacktraceService.JniSite("liba.so", "p.A.call"), 100L,
                new StacktraceService.JniSite("liba.so", "p.B.call"), 60L,
                new StacktraceService.JniSite("libb.so", "p.C.call"), 7L);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (StacktraceMetrics metrics = new StacktraceMetrics(StacktraceService.get(),
                () -> new StacktraceService.SampleTotals(Map.of(), libraries, sites), 2, Duration.ofMillis(100),
                Duration.ofSeconds(1))) {
            metrics.bindTo(registry);
            String scrape = registry.scrape();
            assertTrue(scrape.contains("stacktrace_library_samples_total{library=\"liba.so\"} 100.0"), scrape);
            assertTrue(scrape.contains("stacktrace_library_samples_total{library=\"libb.so\"} 50.0"), scrape);
            assertTrue(scrape.contains("stacktrace_library_samples_total{library=\"[other]\"} 15.0"), scrape);
            assertEquals(3, registry.find("stacktrace.library.samples").functionCounters().size(), scrape);
            assertTrue(scrape.contains("stacktrace_jni_samples_total{caller=\"p.A.call\",library=\"liba.so\"} 100.0"), scrape);
            assertTrue(scrape.contains("stacktrace_jni_samples_total{caller=\"p.B.call\",library=\"liba.so\"} 60.0"), scrape);
            assertTrue(scrape.contains("stacktrace_jni_samples_total{caller=\"[other]\",library=\"[other]\"} 7.0"), scrape);
            assertEquals(3, registry.find("stacktrace.jni.samples").functionCounters().size(), scrape);
        }
    }

    private static void await(Monotonic watch, BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (true) {
            watch.poll();
            if (condition.getAsBoolean()) return;
            if (System.nanoTime() > deadline) throw new AssertionError("not within 40 s: " + what + "; series " + watch.last);
            Thread.sleep(50);
        }
    }

    /** Reads every symbol series at each poll and notes any that went down. */
    private static final class Monotonic {
        final PrometheusMeterRegistry registry;
        final Map<String, Double> last = new HashMap<>();
        final Map<String, Double> now = new HashMap<>();
        final List<String> decreases = new ArrayList<>();
        int maxSeries;

        Monotonic(PrometheusMeterRegistry registry) {
            this.registry = registry;
        }

        void poll() {
            now.clear();
            for (FunctionCounter c : registry.find("stacktrace.symbol.samples").functionCounters()) {
                String symbol = c.getId().getTag("symbol");
                double v = c.count();
                Double before = last.get(symbol);
                if (before != null && v < before) decreases.add(symbol + ": " + before + " -> " + v);
                last.put(symbol, v);
                now.put(symbol, v);
            }
            maxSeries = Math.max(maxSeries, now.size());
        }

        /** The series' value at the last poll, -1 when it has none. */
        double value(String symbol) {
            return now.getOrDefault(symbol, -1.0);
        }
    }
}
