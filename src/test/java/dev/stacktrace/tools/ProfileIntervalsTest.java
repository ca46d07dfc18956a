package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Labels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A profile read one interval at a time: every sample once, and only what changed is named. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProfileIntervalsTest {
    private static volatile boolean spinning = true;

    @Test
    void nothingSampledSinceGivesAnEmptyIntervalAndNamesNothing() throws Exception {
        Thread sleeper = sleeper();
        try (Profiler p = Profiler.builder().thread(sleeper).mode(Profiler.Mode.WALL).interval(Duration.ofMillis(5))
                .build().start()) {
            awaitSamples(p, 20);
            p.join();  // no sample can be added after this
            ProfileIntervals intervals = p.intervals();
            ProfileSnapshot all = intervals.next();
            assertEquals(counts(p.snapshot()), counts(all), "the first interval is the whole profile");
            assertEquals(p.snapshot().start(), all.start());
            assertEquals(p.snapshot().end(), all.end());
            long named = intervals.resolvedEntries();
            assertTrue(named >= 1, "the stacks of the first interval are named: " + named);

            ProfileSnapshot none = intervals.next();
            assertEquals(List.of(), none.samples(), "nothing was sampled since");
            assertEquals(named, intervals.resolvedEntries(), "no stack looked up when no count changed");
            assertEquals(all.end(), none.start(), "intervals follow one another");
        } finally {
            sleeper.interrupt();
        }
    }

    @Test
    void intervalsAddUpToTheWholeProfile() throws Exception {
        Thread sleeper = sleeper();
        AtomicLong sink = new AtomicLong();
        spinning = true;
        Thread spinner = new Thread(() -> Labels.run(Map.of("part", "spin"), () -> sink.addAndGet(spin())), "intervals-spin");
        spinner.setDaemon(true);
        spinner.start();
        try (Profiler p = Profiler.builder().thread(sleeper).thread(spinner).mode(Profiler.Mode.WALL)
                .interval(Duration.ofMillis(2)).build().start()) {
            ProfileIntervals intervals = p.intervals();
            List<ProfileSnapshot> parts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Thread.sleep(100);
                long namedBefore = intervals.resolvedEntries();
                ProfileSnapshot part = intervals.next();
                assertTrue(intervals.resolvedEntries() - namedBefore >= part.samples().size(),
                        "each stack of an interval comes from an entry whose count grew");
                assertEquals(part.end(), p.snapshot().since(part).start(), "since() takes it as the profiler's own");
                if (!parts.isEmpty()) assertEquals(parts.get(parts.size() - 1).end(), part.start(), "no gap, no overlap");
                parts.add(part);
            }
            awaitSamples(p, 20);
            p.join();
            spinning = false;
            parts.add(intervals.next());
            Map<List<Object>, Long> sum = new HashMap<>();
            for (ProfileSnapshot part : parts) counts(part).forEach((k, n) -> sum.merge(k, n, Long::sum));
            ProfileSnapshot whole = p.snapshot();
            assertEquals(counts(whole), sum, "every sample in exactly one interval");
            assertEquals(whole.start(), parts.get(0).start());
            assertEquals(whole.end(), parts.get(parts.size() - 1).end());
            assertTrue(sum.keySet().stream().anyMatch(k -> k.get(1).equals(Map.of("part", "spin"))),
                    "the spinner's labels are carried: " + sum.keySet().stream().map(k -> k.get(1)).distinct().toList());
        } finally {
            spinning = false;
            sleeper.interrupt();
        }
    }

    /** Count per (frames, labels). */
    private static Map<List<Object>, Long> counts(ProfileSnapshot s) {
        Map<List<Object>, Long> m = new HashMap<>();
        for (ProfileSnapshot.Sample x : s.samples()) m.merge(List.of(x.frames(), x.labels()), x.count(), Long::sum);
        return m;
    }

    private static Thread sleeper() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                // done
            }
        }, "intervals-sleeper");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static long spin() {
        long x = 1;
        while (spinning) {
            for (int i = 0; i < 10_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }

    private static void awaitSamples(Profiler p, long n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.sampleCount() < n && System.nanoTime() < end) Thread.sleep(10);
        assertTrue(p.sampleCount() >= n, "waited for " + n + " samples, got " + p.sampleCount());
    }
}
