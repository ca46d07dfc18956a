package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The samples between two calls, across a session that ends and another that starts in between. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProfileDeltaTest {
    @Test
    void everySampleOnceAcrossSessions() throws Exception {
        StacktraceService service = StacktraceService.get();
        Thread sleeper = new Thread(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                // done
            }
        }, "delta-sleeper");
        sleeper.setDaemon(true);
        sleeper.start();
        service.stopProfiling();  // a session an earlier test of this JVM left running
        ProfileDelta delta = new ProfileDelta(service);
        try {
            delta.next();  // the last session an earlier test of this JVM ran, if any: all of it, once
            assertEquals(List.of(), delta.next(), "nothing new while no session runs");
            service.startProfiling(sleeper, Profiler.Mode.WALL, Duration.ofMillis(5));
            Profiler first = service.profile();
            awaitSamples(first, 20);
            List<ProfileSnapshot> one = delta.next();
            assertEquals(1, one.size());
            long firstPart = one.get(0).totalCount();
            awaitSamples(first, firstPart + 20);
            service.stopProfiling();
            long firstTotal = first.snapshot().totalCount();

            service.startProfiling(sleeper, Profiler.Mode.WALL, Duration.ofMillis(5));
            Profiler second = service.profile();
            awaitSamples(second, 20);
            List<ProfileSnapshot> two = delta.next();
            long secondSoFar = second.snapshot().totalCount();
            assertEquals(2, two.size(), "the ended session's last part, then the new session");
            assertEquals(firstTotal - firstPart, two.get(0).totalCount(), "the first session's rest, once");
            assertTrue(two.get(0).end().compareTo(two.get(1).start()) <= 0, "in order");
            assertTrue(two.get(1).totalCount() >= 20 && two.get(1).totalCount() <= secondSoFar,
                    two.get(1).totalCount() + " of " + secondSoFar);
            long before = two.get(1).totalCount();
            awaitSamples(second, before + 10);
            List<ProfileSnapshot> three = delta.next();
            assertEquals(1, three.size());
            assertEquals(second.snapshot().totalCount() - before, three.get(0).totalCount(), 10.0,
                    "what the session gained since");
        } finally {
            service.stopProfiling();
            sleeper.interrupt();
        }
    }

    private static void awaitSamples(Profiler p, long n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.snapshot().totalCount() < n && System.nanoTime() < end) Thread.sleep(20);
        assertTrue(p.snapshot().totalCount() >= n, "waited for " + n + " samples, got " + p.snapshot().totalCount());
    }
}
