package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.testlib.PerfEventsSetting;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * cpu mode's clocks: with perf_events on, a task-clock per thread delivers the interval asked
 * (POSIX CPU timers fire on the scheduler tick), threads started later get theirs, every file
 * descriptor is closed at stop; with timers the effective interval says what they deliver.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CpuClockTest {
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    static volatile boolean spin;

    static void busyClock(AtomicLong sink) {
        long x = 1;
        while (spin) {
            for (int i = 0; i < 100_000; i++) x = x * 31 + i;
        }
        sink.addAndGet(x);
    }

    private static long samplesOf(Profiler p, String marker) {
        long n = 0;
        for (Map.Entry<List<StackEntry>, Long> e : p.getStacks().entrySet()) {
            if (e.getKey().stream().anyMatch(f -> f.name().contains(marker))) n += e.getValue();
        }
        return n;
    }

    /** This process's open perf_events file descriptors. */
    private static int perfFds() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().contains("perf_event")) n++;
                } catch (IOException gone) {
                    // closed meanwhile (the directory stream's own fd, or another thread's)
                }
            }
        }
        return n;
    }

    /** Waits until the sampler has clocked at least this many threads (its control thread does it), 10 s at most. */
    private static NativeSampler.Clock clocked(int threads) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        NativeSampler.Clock c = NativeSampler.clock();
        while (c.perfThreads() + c.timerThreads() < threads && System.nanoTime() < deadline) {
            Thread.sleep(10);
            c = NativeSampler.clock();
        }
        return c;
    }

    /** Waits until the thread has used this much CPU since cpuStart, 30 s at most; returns what it used. */
    private static long awaitCpu(Thread t, long cpuStart, long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long used;
        do {
            Thread.sleep(50);
            used = THREADS.getThreadCpuTime(t.getId()) - cpuStart;
        } while (used < nanos && System.nanoTime() < deadline);
        return used;
    }

    @Test
    void aBusyThreadAtOneMillisecondGetsTheRateAskedOrTheFallbackSaysWhatItGets() throws Exception {
        PerfEventsSetting.with("true", CpuClockTest::oneMillisecond);
    }

    private static void oneMillisecond() throws Exception {
        AtomicLong sink = new AtomicLong();
        spin = true;
        Thread busy = new Thread(() -> busyClock(sink), "busy-clock");
        busy.start();
        try {
            Profiler p = Profiler.builder().thread(busy).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(1)).build()
                    .start();
            NativeSampler.Clock clock = clocked(1);
            assertEquals(1, clock.perfThreads() + clock.timerThreads(), "one clock for the one thread: " + clock);
            long cpuStart = THREADS.getThreadCpuTime(busy.getId());
            long samplesStart = p.sampleCount();
            long walksStart = p.walkCount();
            long used = awaitCpu(busy, cpuStart, 1_000_000_000L);
            long samples = p.sampleCount() - samplesStart;
            long walks = p.walkCount() - walksStart;
            p.join();
            double perCpuSecond = walks * 1e9 / used;
            if (clock.perfThreads() == 1) {
                // a task-clock counts the thread's own CPU time, so load elsewhere does not lower this;
                // the time between an overflow and the handler's re-arm is not counted (a few %).
                // Timers would give at most 1e9 / tick (250 at CONFIG_HZ=250).
                assertTrue(perCpuSecond > 600, perCpuSecond + " stacks walked per CPU-second at 1 ms (" + walks + " in "
                        + used / 1_000_000 + " ms of CPU)");
                // and the samples stand for the thread's CPU time, one per interval of it
                double perInterval = samples * 1e6 / used;
                assertTrue(perInterval > 0.9 && perInterval < 1.1, perInterval + " samples per ms of CPU (" + samples
                        + " in " + used / 1_000_000 + " ms, " + walks + " walks)");
                assertEquals(Duration.ofMillis(1), p.effectiveInterval());
            } else {
                // this kernel refuses perf_events: the profiler must say what it delivers instead
                assertEquals(Duration.ofNanos(Math.max(1_000_000, clock.tickNanos())), p.effectiveInterval(),
                        clock.toString());
            }
        } finally {
            spin = false;
            busy.join();
        }
    }

    /**
     * A task-clock overflows only in user mode, so a thread that spends most of its CPU time in
     * system calls is walked less often than a thread of pure user code; each of its samples then
     * stands for the intervals of CPU time since its last one. Both threads' shares of the samples
     * must be their shares of the CPU time, whichever clock they have (timers: the tick).
     */
    @Test
    void timeInSystemCallsCountsAsMuchAsTimeInUserCode() throws Exception {
        AtomicLong sink = new AtomicLong();
        spin = true;
        Thread busy = new Thread(() -> busyClock(sink), "busy-user");
        Thread reader = new Thread(CpuClockTest::readZeros, "busy-kernel");
        busy.start();
        reader.start();
        try {
            Profiler p = Profiler.builder().thread(busy).thread(reader).mode(Profiler.Mode.CPU)
                    .interval(Duration.ofMillis(1)).build().start();
            NativeSampler.Clock clock = clocked(2);
            long busyStart = THREADS.getThreadCpuTime(busy.getId());
            long readerStart = THREADS.getThreadCpuTime(reader.getId());
            long readerUserStart = THREADS.getThreadUserTime(reader.getId());
            awaitCpu(reader, readerStart, 1_000_000_000L);
            p.join();
            long busyCpu = THREADS.getThreadCpuTime(busy.getId()) - busyStart;
            long readerCpu = THREADS.getThreadCpuTime(reader.getId()) - readerStart;
            long readerUser = THREADS.getThreadUserTime(reader.getId()) - readerUserStart;
            long busySamples = samplesOf(p, "busyClock");
            long readerSamples = samplesOf(p, "readZeros");
            double truth = readerCpu / (double) (busyCpu + readerCpu);
            double measured = readerSamples / (double) (busySamples + readerSamples);
            String what = String.format("reader's share of the samples %.3f, of the CPU time %.3f (%.0f%% of its own in user"
                    + " mode); samples %d + %d, walks %d; %s", measured, truth, 100.0 * readerUser / readerCpu, busySamples,
                    readerSamples, p.walkCount(), clock);
            System.out.println(what);
            assertTrue(readerUser < readerCpu * 0.7, "the reader must spend most of its time in the kernel: " + what);
            assertTrue(Math.abs(measured - truth) < 0.05, what);
        } finally {
            spin = false;
            busy.join();
            reader.join();
        }
    }

    /** Reads /dev/zero into native memory while {@link #spin}: the kernel's copy is most of its time. */
    private static void readZeros() {
        try (java.nio.channels.FileChannel zero = java.nio.channels.FileChannel.open(Path.of("/dev/zero"))) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 16);
            while (spin) {
                buffer.clear();
                zero.read(buffer);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void withTimersOnlyTheEffectiveIntervalIsTheTick() throws Exception {
        AtomicLong sink = new AtomicLong();
        spin = true;
        Thread busy = new Thread(() -> busyClock(sink), "busy-timer");
        busy.start();
        try {
            PerfEventsSetting.with("false", () -> timersOnly(busy));
        } finally {
            spin = false;
            busy.join();
        }
    }

    private static void timersOnly(Thread busy) throws Exception {
        Profiler p = Profiler.builder().thread(busy).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(1)).build()
                .start();
        assertEquals(Duration.ofNanos(Math.max(1_000_000, NativeSampler.clock().tickNanos())), p.effectiveInterval(),
                "known at start, before the thread has its timer");
        NativeSampler.Clock clock = clocked(1);
        assertEquals(0, clock.perfThreads(), clock.toString());
        assertEquals(1, clock.timerThreads(), clock.toString());
        assertTrue(clock.tickNanos() > 0, clock.toString());
        assertEquals(Duration.ofNanos(Math.max(1_000_000, clock.tickNanos())), p.effectiveInterval());
        assertEquals(0, perfFds(), "no perf_events file descriptor with timers only");
        long cpuStart = THREADS.getThreadCpuTime(busy.getId());
        long used = awaitCpu(busy, cpuStart, 300_000_000L);
        p.join();
        assertTrue(samplesOf(p, "busyClock") > 0, "sampled by its timer in " + used / 1_000_000 + " ms of CPU");
        assertEquals(p.effectiveInterval(), Duration.ofNanos(Math.max(1_000_000, clock.tickNanos())),
                "kept after stop");
    }

    @Test
    void threadsStartedLaterGetTheirClockAndNoDescriptorOutlivesAStop() throws Exception {
        PerfEventsSetting.with("true", CpuClockTest::restarts);
    }

    private static void restarts() throws Exception {
        int perfBefore = perfFds();
        AtomicLong sink = new AtomicLong();
        for (int round = 0; round < 10; round++) {
            Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(Duration.ofMillis(1)).build()
                    .start();
            NativeSampler.Clock clock = clocked(2);
            // the control thread may clock a new thread between two looks: compare a steady pair
            int fds = perfFds();
            for (int look = 0; look < 20 && clock.perfThreads() != NativeSampler.clock().perfThreads(); look++) {
                clock = NativeSampler.clock();
                fds = perfFds();
            }
            assertEquals(perfBefore + clock.perfThreads(), fds, "one descriptor a perf-clocked thread: " + clock);
            if (round == 0) {
                spin = true;
                Thread late = new Thread(() -> busyClock(sink), "late-busy");
                late.start();
                try {
                    long used = awaitCpu(late, 0, 400_000_000L);
                    assertTrue(samplesOf(p, "busyClock") > 0, "a thread started after start was sampled ("
                            + used / 1_000_000 + " ms of CPU)");
                } finally {
                    spin = false;
                    late.join();
                }
            } else {
                Thread.sleep(30);
            }
            p.join();
            assertEquals(perfBefore, perfFds(), "round " + round + ": every descriptor closed at stop");
        }
    }
}
