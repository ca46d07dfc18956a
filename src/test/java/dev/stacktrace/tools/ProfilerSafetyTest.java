package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.testlib.ChildJvm;
import dev.stacktrace.testlib.Pipe;
import dev.stacktrace.testlib.ProcessStatus;
import dev.stacktrace.testlib.TestNative;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The sampler never crashes, hangs or fills the signal queue, whatever its caller does. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ProfilerSafetyTest {

    /** Reading the table while another thread stops and restarts with other table sizes: no crash. */
    @Test
    void readingWhileRestartingWithOtherTableSizesNeverCrashes() throws Exception {
        ChildJvm.Result result = ChildJvm.run(ReadWhileRestart.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("restarts="), result.output());
    }

    /** Runs in the child JVM. */
    public static final class ReadWhileRestart {
        static volatile Profiler current;
        static volatile boolean done;

        public static void main(String[] args) throws Exception {
            Thread spinner = new Thread(() -> {
                long x = 0;
                while (!done) x = x * 31 + System.nanoTime();
                if (x == 42) System.out.print("");
            }, "spinner");
            spinner.start();
            current = Profiler.builder().allThreads().mode(Profiler.Mode.WALL).interval(Duration.ofMillis(1))
                    .tableSize(16).build().start();
            long[] reads = new long[2];
            Thread viaProfiler = new Thread(() -> {
                while (!done) {
                    current.getResult();
                    reads[0]++;
                }
            }, "reader-profiler");
            Thread viaSampler = new Thread(() -> {
                while (!done) {
                    NativeSampler.read();
                    reads[1]++;
                }
            }, "reader-sampler");
            viaProfiler.start();
            viaSampler.start();
            int[] sizes = {16, 4096, 64, 65536, 256, 1024};
            int restarts = 0;
            // at least 4 s and 11 restarts (a starved machine needs longer for them), at most 60 s
            long start = System.nanoTime();
            while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(restarts > 10 ? 4 : 60)) {
                Thread.sleep(20);
                current.close();
                current = Profiler.builder().allThreads().mode(restarts % 2 == 0 ? Profiler.Mode.CPU : Profiler.Mode.WALL)
                        .interval(Duration.ofMillis(1)).tableSize(sizes[restarts % sizes.length]).build().start();
                restarts++;
            }
            done = true;
            viaProfiler.join(10_000);
            viaSampler.join(10_000);
            current.close();
            System.out.println("restarts=" + restarts + " reads=" + reads[0] + "+" + reads[1]);
            System.exit(restarts > 10 && reads[0] > 0 && reads[1] > 0 ? 0 : 1);
        }
    }

    @Test
    void theBuilderRejectsIntervalsOver60Seconds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Profiler.builder().interval(Duration.ofSeconds(61)));
        assertTrue(e.getMessage().contains("60 s"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().interval(Duration.ofMillis(Long.MAX_VALUE)));
        assertThrows(IllegalArgumentException.class, () -> Profiler.builder().interval(Duration.ofNanos(99_999)));
        assertEquals(Profiler.MAX_INTERVAL,
                Profiler.builder().interval(Profiler.MAX_INTERVAL).allThreads().build().interval());
    }

    /** The native API itself refuses huge intervals; at the largest allowed one a sleeping thread is barely sampled and stop returns. */
    @Test
    void theNativeApiRejectsHugeIntervalsAndTheLargestOneStopsPromptly() throws Exception {
        ChildJvm.Result result = ChildJvm.run(HugeInterval.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("huge=-22 over=-22 max=0"), result.output());
    }

    /** Runs in the child JVM. */
    public static final class HugeInterval {
        public static void main(String[] args) throws Exception {
            NativeCapture.get().javaFramesUnavailable();  // hands the VM layout to the native side
            int[] none = new int[0];
            int huge = LibStacktrace.st_profile_start(LibStacktrace.PROFILE_WALL, Long.MAX_VALUE, none, 0, 64, 1024);
            int over = LibStacktrace.st_profile_start(LibStacktrace.PROFILE_WALL,
                    LibStacktrace.PROFILE_MAX_INTERVAL_NANOS + 1, none, 0, 64, 1024);
            int max = LibStacktrace.st_profile_start(LibStacktrace.PROFILE_WALL,
                    LibStacktrace.PROFILE_MAX_INTERVAL_NANOS, none, 0, 64, 1024);
            Thread.sleep(1000);
            long samples = NativeSampler.counters().samples();
            long start = System.nanoTime();
            int stopped = LibStacktrace.st_profile_stop();
            long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            int threads = Thread.activeCount() + 64;  // at most one tick each (the first), whatever the JVM runs
            System.out.println("huge=" + huge + " over=" + over + " max=" + max + " samples=" + samples
                    + " stop=" + stopped + " in " + stopMillis + " ms");
            System.exit(stopped == 0 && samples <= threads ? 0 : 1);
        }
    }

    /**
     * Wall mode at 1 ms with threads that block the signal: the signals queued for this user stay
     * bounded (one per thread at most, never a tick per interval) and drop back after stop. SigQ
     * counts every process of this user, so the bounds leave room for others; a queue filled per
     * tick would exceed them by thousands. The ticks not sent are counted, as signal_blocked. Half
     * the threads block before profiling starts, half once they are being ticked.
     */
    @Test
    void wallModeNeverFillsTheSignalQueue() throws Exception {
        int signal = NativeCapture.get().signal();
        int blockers = 8;
        List<Pipe> pipes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch later = new CountDownLatch(1);
        int before = ProcessStatus.queuedSignals();
        try {
            for (int i = 0; i < blockers; i++) {
                Pipe pipe = new Pipe();
                pipes.add(pipe);
                boolean waits = i % 2 == 1;
                Thread t = new Thread(() -> {
                    try {
                        if (waits) later.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    TestNative.stt_read_with_signal_blocked(signal, pipe.readFd());
                }, "blocker-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            int threadsNow = Thread.activeCount();
            // one per thread and the JVM's own threads, plus room for other processes of this user;
            // a tick per interval per blocking thread passes this within a quarter of a second
            int bound = threadsNow + 64 + 2000;
            int highWater = 0;
            Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.WALL).interval(Duration.ofMillis(1)).build().start();
            try {
                Thread.sleep(300);
                later.countDown();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < end && highWater - before <= bound) {
                    highWater = Math.max(highWater, ProcessStatus.queuedSignals());
                    Thread.sleep(10);
                }
            } finally {
                p.close();
            }
            assertTrue(p.sampleCount() > 0, "no samples");
            long blocked = p.errorsByReason().get(SampleError.SIGNAL_BLOCKED);
            assertTrue(blocked >= blockers * 10L, "ticks not sent to the " + blockers + " blocking threads were counted "
                    + blocked + " times");
            assertTrue(highWater - before <= bound, "signals queued for this user rose from " + before + " to "
                    + highWater + " (bound " + bound + " above the start)");
        } finally {
            for (Pipe pipe : pipes) pipe.write(new byte[] {1});
            for (Thread t : threads) t.join(10_000);
            pipes.forEach(Pipe::close);
        }
        int after = ProcessStatus.queuedSignals();
        assertTrue(after - before <= 2000, "after stop " + after + " signals are queued for this user, " + before
                + " before");
    }

    /**
     * Wall mode on more busy threads than cores: a thread preempted inside the handler has the signal
     * masked by the kernel, and /proc shows that mask as if the thread blocked it. Such a thread is
     * slow, not blocking: its ticks must come back as samples, none counted as signal_blocked.
     */
    @Test
    void wallModeDoesNotTakeABusyThreadForOneThatBlocks() throws Exception {
        int spinners = 8 * Runtime.getRuntime().availableProcessors();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < spinners; i++) {
            Thread t = new Thread(() -> spinDeep(stop, 300), "spinner-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        try {
            Profiler p = profileFor(Profiler.builder().threads(threads), 3000);
            long blocked = p.errorsByReason().get(SampleError.SIGNAL_BLOCKED);
            assertTrue(p.sampleCount() > spinners * 100L, "only " + p.sampleCount() + " samples");
            assertEquals(0, blocked, "ticks counted as signal_blocked for threads that never block it ("
                    + p.sampleCount() + " samples)");
        } finally {
            stop.set(true);
            for (Thread t : threads) t.join(10_000);
        }
    }

    private static long spinDeep(AtomicBoolean stop, int depth) {
        if (depth > 0) return spinDeep(stop, depth - 1) + 1;
        long x = 0;
        while (!stop.get()) x += x * 31 + 7;
        return x;
    }

    /**
     * The library's own threads (the profiler's control thread, the unwind table's refresher) block
     * every signal by design: a wall profile of all threads leaves them out instead of counting a
     * signal_blocked error for each of their ticks (about 1,000 a second each at 1 ms).
     */
    @Test
    void wallModeLeavesTheLibrarysOwnThreadsOut() throws Exception {
        ChildJvm.Result result = ChildJvm.run(60, AllThreadsWall.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
    }

    public static final class AllThreadsWall {
        public static void main(String[] args) throws Exception {
            CountDownLatch end = new CountDownLatch(1);
            Thread other = new Thread(() -> {
                try {
                    end.await();
                } catch (InterruptedException e) {
                    // ends
                }
            }, "waiting");
            other.start();
            Stacktrace.getThreadStack(other);  // starts the unwind table's refresher
            Profiler p = profileFor(Profiler.builder().allThreads(), 1500);
            long blocked = p.errorsByReason().get(SampleError.SIGNAL_BLOCKED);
            end.countDown();
            boolean refresher = hasThreadNamed("stacktrace-cfi");
            System.out.println("samples " + p.sampleCount() + ", errors " + p.errorCounts() + ", refresher running " + refresher);
            System.exit(refresher && blocked == 0 && p.sampleCount() > 1000 ? 0 : 1);
        }
    }

    /** A wall profile at 1 ms of {@code threads}' threads for {@code millis} ms, stopped. */
    private static Profiler profileFor(Profiler.Builder threads, long millis) throws Exception {
        Profiler p = threads.mode(Profiler.Mode.WALL).interval(Duration.ofMillis(1)).build().start();
        try {
            Thread.sleep(millis);
        } finally {
            p.close();
        }
        return p;
    }

    /** Whether a thread of this process has this name in /proc (its comm). */
    static boolean hasThreadNamed(String comm) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).trim().equals(comm)) return true;
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return false;
    }

    /**
     * cpu mode's POSIX timers each hold an entry of the user's pending-signal queue for as long as
     * they exist. Under a low RLIMIT_SIGPENDING (1,000) a JVM of 600 threads must not fill that queue,
     * which every process of the user shares: the profile takes at most a quarter of the limit, says
     * how many threads it left unsampled, and still samples the threads it clocked.
     */
    @Test
    void cpuModeTimersLeaveTheUsersSignalQueueRoom() throws Exception {
        passesUnderLimit("--sigpending=1000:1000", ManyTimers.class);
    }

    /**
     * A task-clock's overflow signal that the user's pending-signal queue has no room for comes as a
     * plain SIGIO (fcntl F_SETSIG's fallback), whose default action ends the process. With the queue
     * full (another process of the user could do it), cpu mode must keep the JVM alive, and count the
     * samples it lost.
     */
    @Test
    void cpuModeSurvivesAFullSignalQueue() throws Exception {
        passesUnderLimit("--sigpending=300:300", FullSignalQueue.class);
    }

    public static final class FullSignalQueue {
        /** A realtime signal neither the JVM nor the capture (58) uses, kept pending to fill the queue. */
        private static final int FILLER = 50;

        public static void main(String[] args) throws Exception {
            AtomicBoolean stop = new AtomicBoolean();
            Thread spinner = new Thread(() -> spinDeep(stop, 10), "spinner");
            spinner.setDaemon(true);
            spinner.start();
            Profiler p = Profiler.builder().thread(spinner).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(1))
                    .build().start();
            long queued;
            long before = p.sampleCount();
            NativeSampler.Clock clock;
            try {
                Thread.sleep(300);  // sampled while the queue has room
                long sampledBefore = p.sampleCount() - before;
                clock = NativeSampler.clock();
                queued = TestNative.stt_fill_signal_queue(FILLER, 10_000);
                long full = p.sampleCount();
                Thread.sleep(1000);
                long drained = TestNative.stt_drain_signal_queue(FILLER);
                Thread.sleep(300);  // and again once it has room
                p.join();
                System.out.println("clock " + clock + "; sampled " + sampledBefore + " before, queued " + queued
                        + " fillers, samples while full " + (p.sampleCount() - full) + ", drained " + drained
                        + ", errors " + p.errorCounts() + ", samples in all " + p.sampleCount());
                boolean perf = clock.perfThreads() == 1;
                boolean ok = queued > 200 && drained == queued && sampledBefore > 0
                        && (!perf || p.errorCounts().get("busy") > 0);
                System.exit(ok ? 0 : 1);
            } finally {
                stop.set(true);
            }
        }
    }

    /**
     * A task-clock takes a file descriptor per thread from the application's table: a JVM of 300
     * threads under RLIMIT_NOFILE 400 must keep three quarters of it, the threads beyond getting
     * timers instead.
     */
    @Test
    void cpuModeLeavesTheFileDescriptorTableRoom() throws Exception {
        passesUnderLimit("--nofile=400:400", ManyDescriptors.class);
    }

    /** Runs main in a child JVM under this prlimit option, prints what it said, and wants exit 0. */
    private static void passesUnderLimit(String limit, Class<?> main) throws Exception {
        ChildJvm.Result result = ChildJvm.run(List.of("prlimit", limit, "--"), 120, main, List.of());
        System.out.print(result.output());
        assertEquals(0, result.exitCode(), result.output());
    }

    /** Starts n daemon threads that wait for end. */
    static void startSleepers(int n, CountDownLatch end) {
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                try {
                    end.await();
                } catch (InterruptedException e) {
                    // ends
                }
            }, "sleeper-" + i);
            t.setDaemon(true);
            t.start();
        }
    }

    public static final class ManyDescriptors {
        public static void main(String[] args) throws Exception {
            CountDownLatch end = new CountDownLatch(1);
            startSleepers(300, end);
            Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(Duration.ofMillis(10))
                    .build().start();
            try {
                NativeSampler.Clock clock = NativeSampler.clock();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (clock.perfThreads() + clock.timerThreads() < 300 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    clock = NativeSampler.clock();
                }
                int highest = 0, perf = 0;
                try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                    for (Path fd : fds.toList()) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().contains("perf_event")) {
                                perf++;
                                highest = Math.max(highest, Integer.parseInt(fd.getFileName().toString()));
                            }
                        } catch (IOException gone) {
                            // closed meanwhile
                        }
                    }
                }
                System.out.println(clock + "; perf_event descriptors " + perf + ", the highest " + highest);
                boolean ok = clock.perfThreads() + clock.timerThreads() >= 300 && highest < 100
                        && perf == clock.perfThreads() && (clock.perfThreads() == 0 || clock.timerThreads() > 0);
                System.exit(ok ? 0 : 1);
            } finally {
                p.close();
                end.countDown();
            }
        }
    }

    public static final class ManyTimers {
        public static void main(String[] args) throws Exception {
            System.setProperty(NativeSampler.PERF_EVENTS_PROPERTY, "false");  // the timers are what is tested
            AtomicBoolean stop = new AtomicBoolean();
            Thread spinner = new Thread(() -> spinDeep(stop, 10), "spinner");
            spinner.setDaemon(true);
            spinner.start();
            CountDownLatch end = new CountDownLatch(1);
            startSleepers(600, end);
            int before = ProcessStatus.queuedSignals();
            int high = before;
            Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(Duration.ofMillis(10))
                    .build().start();
            long unsampled;
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                do {
                    Thread.sleep(50);
                    high = Math.max(high, ProcessStatus.queuedSignals());
                } while ((p.sampleCount() < 20 || p.unsampledThreads() == 0) && System.nanoTime() < deadline);
                unsampled = p.unsampledThreads();
            } finally {
                p.close();
                stop.set(true);
                end.countDown();
            }
            System.out.println("SigQ before " + before + ", high-water " + high + "; unsampled threads " + unsampled
                    + ", samples " + p.sampleCount());
            // the profile's timers: at most 250 (a quarter of 1,000); the rest of the 600 go unsampled
            boolean ok = unsampled >= 600 - 250 && high - before <= 250 + 50 && p.sampleCount() >= 20;
            System.exit(ok ? 0 : 1);
        }
    }
}
