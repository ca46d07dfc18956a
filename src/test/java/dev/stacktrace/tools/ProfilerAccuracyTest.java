package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.AccuracyWorkload;
import dev.stacktrace.testlib.AccuracyWorkloads;
import dev.stacktrace.testlib.EntryShares;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Accuracy: one thread alternates a native part (a JNI library) and a Java part in slices of 4-15 ms,
 * measuring each part's time around it; the profile of that thread must give each part's share of
 * the samples (those whose stack holds the part's entry frame, of all samples taken of the thread,
 * recorded or not) within 5 points of its share of the time.
 *
 * <p>The time is thread CPU time in CPU mode and wall time in wall mode (the thread never blocks,
 * so the two agree unless the machine takes the CPU away from it). In wall mode the share of the
 * wall intervals that were sampled is printed too: on an overloaded machine the sampler's own thread
 * misses intervals (it skips rather than bursts), and the samples it does take are clustered in the
 * stretches when it runs, so they vary more than the bound below.
 *
 * <p>What the bound holds for is the thread's time in user mode. With perf_event_paranoid at 2 a
 * task-clock may overflow only in user mode, so in CPU mode a stretch in the kernel (a system call,
 * a page fault) is counted on the thread's next sample, up to one interval later, which near the end
 * of a slice is the other part's. The test JVM pre-touches its heap (pom.xml): without that, in a
 * JVM whose eden had grown into untouched memory, the Java part's allocations took page faults (up
 * to 8.8% of the thread's time in the kernel), and the native part was measured up to 4.5 points
 * over its truth (the Java part up to 6.6 under). The line printed says how much of the run the
 * kernel had, and the samples minus the walks are the intervals that overflowed in it.
 * CpuClockTest checks that kernel time is counted.
 *
 * <p>Statistics: with N samples a share p has a standard error of at most sqrt(p(1-p)/N); the run
 * aims at 1200 samples (5 points = 3.5 standard errors at p = 0.5) and stops at 30 s if the machine
 * gives the thread too little CPU (CPU timers fire on the scheduler tick: 250 samples per second of the
 * thread's CPU time at most here, whatever the interval); below
 * 400 samples (5 points = 2 standard errors) the run says so and fails rather than guess.
 * Periodic sampling of slices of random length varies less than that bound.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfilerAccuracyTest {
    private static final Duration INTERVAL = Duration.ofMillis(2);
    private static final long TARGET_SAMPLES = 1200;
    private static final long MIN_SAMPLES = 400;
    private static final int MIN_SLICES = 300;
    private static final long MAX_RUN_NANOS = Duration.ofSeconds(30).toNanos();
    private static final double TOLERANCE = 0.05;

    private record Outcome(AccuracyWorkload.Split truth, EntryShares measured, long recorded, long walks,
                           double kernelShare, String errors, String topStacks) {}

    /** A thread's CPU time so far in user and in kernel mode, in clock ticks (/proc/thread-self/stat). */
    private record CpuTicks(long user, long kernel) {
        static CpuTicks ofThisThread() throws java.io.IOException {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");  // from field 3, state
            return new CpuTicks(Long.parseLong(fields[11]), Long.parseLong(fields[12]));
        }

        /** The kernel's share of the CPU time since {@code before}: its time lands on the next user-mode sample in CPU mode. */
        double kernelShareSince(CpuTicks before) {
            long u = user - before.user, k = kernel - before.kernel;
            return u + k > 0 ? (double) k / (u + k) : 0;
        }
    }

    @ParameterizedTest(name = "workload ({0}), {1} mode")
    @CsvSource({"a, CPU", "a, WALL", "b, CPU", "b, WALL"})
    void eachPartsShareOfTheSamplesIsWithinFivePointsOfItsShareOfTheTime(String workload, Profiler.Mode mode)
            throws Exception {
        FutureTask<Outcome> task = new FutureTask<>(() -> profileOnThisThread(workload, mode));
        Thread worker = new Thread(task, "accuracy-" + workload + "-" + mode);
        worker.setDaemon(true);
        worker.start();
        Outcome o;
        try {
            o = task.get(90, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("the workload failed", e.getCause());
        }

        boolean cpu = mode == Profiler.Mode.CPU;
        double nativeTruth = cpu ? o.truth().nativeCpuShare() : o.truth().nativeWallShare();
        double javaTruth = cpu ? o.truth().javaCpuShare() : o.truth().javaWallShare();
        EntryShares m = o.measured();
        String figures = String.format(Locale.ROOT,
                "accuracy (%s) %s mode: native part truth %.3f (cpu %.3f, wall %.3f) measured %.3f; "
                        + "java part truth %.3f (cpu %.3f, wall %.3f) measured %.3f; %d samples taken, %d recorded, "
                        + "%d walks, errors %s, %d slices, thread cpu %.2f s of wall %.2f s (%.0f%% in the kernel)%s",
                workload, mode, nativeTruth, o.truth().nativeCpuShare(), o.truth().nativeWallShare(), m.nativeShare(),
                javaTruth, o.truth().javaCpuShare(), o.truth().javaWallShare(), m.javaShare(), m.samples(),
                o.recorded(), o.walks(), o.errors(), o.truth().slices(), o.truth().totalCpu() / 1e9,
                o.truth().totalWall() / 1e9, 100 * o.kernelShare(),
                cpu ? "" : String.format(Locale.ROOT, ", %.0f%% of the %d wall intervals sampled", 100.0 * m.samples()
                        / (o.truth().totalWall() / INTERVAL.toNanos()), o.truth().totalWall() / INTERVAL.toNanos()));
        System.out.println(figures);
        String report = figures + "; most sampled stacks in neither part:" + o.topStacks();

        assertTrue(m.samples() >= MIN_SAMPLES, "too few samples to judge: " + report);
        assertTrue(nativeTruth > 0.2 && javaTruth > 0.2, "the workload should mix both parts: " + report);
        assertAll(
                () -> assertTrue(Math.abs(m.nativeShare() - nativeTruth) <= TOLERANCE, "native part: " + report),
                () -> assertTrue(Math.abs(m.javaShare() - javaTruth) <= TOLERANCE, "java part: " + report));
    }

    /** Warms the workload up, then profiles this thread while it runs slices, and measures both. */
    private static Outcome profileOnThisThread(String name, Profiler.Mode mode) throws Exception {
        try (AccuracyWorkload w = AccuracyWorkloads.create(name)) {
            w.warmUp(Duration.ofMillis(1500));
            Profiler p = Profiler.builder().thread(Thread.currentThread()).mode(mode).interval(INTERVAL).build();
            long end = System.nanoTime() + MAX_RUN_NANOS;
            AccuracyWorkload.Split truth;
            CpuTicks before = CpuTicks.ofThisThread();
            p.start();
            try {
                // at least MIN_SLICES slices too: a wall-mode sample of a thread starved of CPU stands for
                // every tick that came while it was queued, so few samples can cover much time
                int[] slices = {0};
                truth = w.run(() -> (p.sampleCount() < TARGET_SAMPLES || slices[0]++ < MIN_SLICES)
                        && System.nanoTime() < end);
            } finally {
                p.join();
            }
            double kernelShare = CpuTicks.ofThisThread().kernelShareSince(before);
            var stacks = p.getStacks();
            long recorded = stacks.values().stream().mapToLong(Long::longValue).sum();
            return new Outcome(truth, EntryShares.ofStacks(stacks, p.sampleCount()), recorded, p.walkCount(), kernelShare,
                    p.errorCounts().toString() + ", incomplete " + p.incompleteCount(), EntryShares.neither(stacks, 3)
                    + "\nmost sampled stacks of the native part:" + EntryShares.holding(stacks, 3, AccuracyWorkload.NATIVE_ENTRY)
                    + "\nmost sampled stacks of the Java part:" + EntryShares.holding(stacks, 3, AccuracyWorkload.JAVA_ENTRY));
        }
    }
}
