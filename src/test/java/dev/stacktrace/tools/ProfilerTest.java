package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import dev.stacktrace.testlib.BlockedNativeThread;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfilerTest {
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Samples of one thread (those whose bottom frames include its name's run method). */
    private static long samplesOf(Profiler p, String marker) {
        long n = 0;
        for (Map.Entry<List<StackEntry>, Long> e : p.getStacks().entrySet()) {
            if (e.getKey().stream().anyMatch(f -> f.name().contains(marker))) n += e.getValue();
        }
        return n;
    }

    static volatile boolean spin;

    static void busyJava(AtomicLong sink) {
        long x = 1;
        while (spin) {
            for (int i = 0; i < 100_000; i++) x = x * 31 + i;
        }
        sink.addAndGet(x);
    }

    static void idleSleeper() {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            // done
        }
    }

    @Test
    void cpuModeSamplesRunningThreadsOnlyAndWallModeSamplesThemAll() throws Exception {
        AtomicLong sink = new AtomicLong();
        spin = true;
        Thread busy = new Thread(() -> busyJava(sink), "busy");
        Thread idle = new Thread(ProfilerTest::idleSleeper, "idle");
        busy.start();
        idle.start();
        try {
            Thread.sleep(200);
            Profiler cpu = Profiler.builder().thread(busy).thread(idle).mode(Profiler.Mode.CPU)
                    .interval(Duration.ofMillis(5)).build().start();
            // until the busy thread has had 0.6 s of CPU (however loaded the machine is), 20 s at most
            long cpuStart = THREADS.getThreadCpuTime(busy.getId());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long used;
            do {
                Thread.sleep(100);
                used = THREADS.getThreadCpuTime(busy.getId()) - cpuStart;
            } while (used < 600_000_000L && System.nanoTime() < deadline);
            cpu.join();
            long busyCpu = samplesOf(cpu, "busyJava");
            long idleCpu = samplesOf(cpu, "idleSleeper");
            // one sample per 5 ms of its CPU time (at most 250 a second: the timers fire on the scheduler
            // tick), so 0.6 s gives about 120; none for a sleeping thread
            long expected = Math.min(used / 5_000_000L, used * 250 / 1_000_000_000L);
            assertTrue(busyCpu >= expected / 2, "busy thread, cpu mode: " + busyCpu + " samples for " + used / 1_000_000
                    + " ms of CPU (about " + expected + " expected)");
            assertEquals(0, idleCpu, "a sleeping thread uses no CPU budget");

            Profiler wall = Profiler.builder().thread(busy).thread(idle).mode(Profiler.Mode.WALL)
                    .interval(Duration.ofMillis(5)).build().start();
            // 1.5 s gives each thread about 300 ticks; a loaded machine may delay the ticker: 15 s at most
            long wallDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            Thread.sleep(1500);
            while ((samplesOf(wall, "idleSleeper") <= 100 || samplesOf(wall, "busyJava") <= 100)
                    && System.nanoTime() < wallDeadline) {
                Thread.sleep(200);
            }
            wall.join();
            long idleWall = samplesOf(wall, "idleSleeper");
            assertTrue(idleWall > 100, "sleeping thread, wall mode: " + idleWall);
            assertTrue(samplesOf(wall, "busyJava") > 100, "busy thread, wall mode: " + samplesOf(wall, "busyJava"));
            assertEquals(0, wall.errorCounts().get("table_full"));
        } finally {
            spin = false;
            idle.interrupt();
            busy.join();
            idle.join();
        }
    }

    @Test
    void aSymbolCountsOncePerSampleHoweverDeepItRecurses() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("recursing", 30)) {
            Profiler p = Profiler.builder().thread(t.thread()).mode(Profiler.Mode.WALL)
                    .interval(Duration.ofMillis(2)).build().start();
            // 600 ms give ~300 ticks on a quiet machine; a loaded one gets more time, never unbounded
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            Thread.sleep(600);
            while (p.sampleCount() <= 50 && System.nanoTime() < deadline) Thread.sleep(50);
            p.join();
            long samples = p.sampleCount();
            assertTrue(samples > 50, "samples: " + samples);
            Profiler.SymbolCount descend = p.getResult().values().stream()
                    .filter(c -> c.name().equals(BlockedNativeThread.DESCEND)).findFirst().orElseThrow();
            assertEquals(samples, descend.total(), "30 frames deep, counted once per sample");
            assertEquals(0, descend.self());
            Map.Entry<Long, Profiler.SymbolCount> top = p.getSorted().get(0);
            assertEquals(samples, top.getValue().total());
            // read(2) is on top of every sample: all its count is self.
            Profiler.SymbolCount read = p.getResult().values().stream()
                    .filter(c -> c.library().equals("libc.so.6") && c.self() > 0).findFirst().orElseThrow();
            assertEquals(samples, read.self());
            // getSorted: totals never increase down the list.
            List<Map.Entry<Long, Profiler.SymbolCount>> sorted = p.getSorted();
            for (int i = 1; i < sorted.size(); i++) {
                assertTrue(sorted.get(i - 1).getValue().total() >= sorted.get(i).getValue().total());
            }
            String collapsed = p.collapsed();
            assertTrue(collapsed.lines().allMatch(l -> l.matches(".+ \\d+")), collapsed);
            assertTrue(collapsed.contains("stt_recurse_then_read;stt::Recurser::descend_read(int, int)"), collapsed);
            assertTrue(p.flameGraph("test").contains("stt::Recurser::leaf_read(int)"));
        }
    }

    @Test
    void threadsStartedWhileProfilingEveryThreadAreSampled() throws Exception {
        Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.WALL).interval(Duration.ofMillis(5)).build().start();
        try {
            Thread.sleep(100);
            Thread late = new Thread(ProfilerTest::idleSleeper, "late-comer");
            late.start();
            Thread.sleep(800);
            late.interrupt();
            late.join();
        } finally {
            p.join();
        }
        assertTrue(samplesOf(p, "idleSleeper") > 20, "the late thread was sampled");
    }

    @Test
    void aFullTableIsCountedNotHidden() throws Exception {
        spin = true;
        AtomicLong sink = new AtomicLong();
        Thread busy = new Thread(() -> busyJava(sink), "busy-small-table");
        busy.start();
        try {
            // every thread of the JVM, 16 distinct stacks at most: most samples cannot be recorded
            Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.WALL).interval(Duration.ofMillis(2))
                    .tableSize(16).build().start();
            Thread.sleep(500);
            p.join();
            long recorded = p.getStacks().values().stream().mapToLong(Long::longValue).sum();
            long full = p.errorCounts().get("table_full");
            assertTrue(full > 0, "table_full: " + p.errorCounts());
            assertTrue(p.getStacks().size() <= 16);
            assertTrue(recorded + full + p.errorCounts().get("busy") >= p.sampleCount(),
                    "every sample is recorded or counted: " + recorded + " + " + p.errorCounts() + " vs " + p.sampleCount());
        } finally {
            spin = false;
            busy.join();
        }
    }

    @Test
    void oneProfilerAtATimeAndClearErrorsForBadSettings() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().interval(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().interval(Duration.ofNanos(50_000)));
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().tableSize(1000));
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().maxDepth(0));
        assertThrows(IllegalStateException.class, () -> Profiler.builder().build());
        try (Profiler first = Profiler.builder().thread(Thread.currentThread()).build().start()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Profiler.builder().allThreads().build().start());
            assertTrue(e.getMessage().contains("already running"), e.getMessage());
            assertThrows(IllegalStateException.class, first::start);
        }
    }
}
