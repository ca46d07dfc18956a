package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import dev.stacktrace.testlib.BlockedNativeThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TimerTest {

    @Test
    void handsEachStackToTheCallbackAtTheIntervalUntilJoined() throws Exception {
        List<List<StackEntry>> stacks = new CopyOnWriteArrayList<>();
        try (BlockedNativeThread t = new BlockedNativeThread("timed", 5)) {
            Timer timer = new Timer(t.thread(), stacks::add, Duration.ofMillis(20), 100, false).start();
            Thread.sleep(500);
            timer.join();
            int taken = stacks.size();
            // 500 ms at 20 ms: about 25, give or take scheduling
            assertTrue(taken >= 5 && taken <= 40, "stacks: " + taken);
            assertEquals(taken, timer.sampleCount());
            assertTrue(stacks.stream().allMatch(s -> s.stream().anyMatch(e -> e.name().equals(BlockedNativeThread.LEAF))));
            Thread.sleep(100);
            assertEquals(taken, stacks.size(), "nothing after join");
            assertFalse(timer.isRunning());
        }
    }

    @Test
    void stopsByItselfWhenTheTargetEnds() throws Exception {
        java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
        Thread shortLived = new Thread(() -> {
            try {
                end.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // ends
            }
        }, "short");
        shortLived.start();
        try (Timer timer = new Timer(shortLived, s -> { }, Duration.ofMillis(10)).start()) {
            // the target lives until the timer has sampled it a few times (quickly, unless the machine is starved)
            long sampled = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (timer.sampleCount() <= 3 && System.nanoTime() < sampled) Thread.sleep(10);
            end.countDown();
            shortLived.join();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (timer.isRunning() && System.nanoTime() < deadline) Thread.sleep(10);
            assertFalse(timer.isRunning());
            assertTrue(timer.sampleCount() > 3);
        }
    }

    @Test
    void aFailingCallbackStopsTheTimerAndJoinSaysWhy() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("failing", 2)) {
            Timer timer = new Timer(t.thread(), s -> {
                throw new IllegalArgumentException("boom");
            }, Duration.ofMillis(5)).start();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                Thread.sleep(100);
                timer.join();
            });
            assertTrue(e.getMessage().contains("boom"));
        }
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(NullPointerException.class, () -> new Timer(null, s -> { }));
        assertThrows(IllegalArgumentException.class, () -> new Timer(Thread.currentThread(), s -> { }, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new Timer(-1, s -> { }, Duration.ofMillis(1), 10, true));
        assertThrows(IllegalArgumentException.class,
                () -> new Timer(Thread.currentThread(), s -> { }, Duration.ofMillis(1), -1, true));
    }
}
