package dev.stacktrace.bench;

import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The rate cpu mode delivers: one busy Java thread per core, the Profiler in cpu mode at each
 * interval, first with perf_events task-clocks (where the kernel allows them), then with POSIX CPU
 * timers only; prints stacks walked (signals handled) per CPU-second of the busy threads against
 * the rate asked, the samples (intervals of CPU time they stand for: a task-clock's sample stands
 * for the time since the last one), and the effective interval the Profiler reports. Per CPU-second, so other load on the machine does not
 * change the figure much (it only makes each run take longer).
 *
 * <p>Run through {@code bench/cpu-rate.sh [--cpu-seconds S] [--intervals-us 1000,4000,10000]}.
 */
public final class CpuRateBenchmark {
    private static volatile boolean spin;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        double cpuSeconds = 2;
        String intervals = "1000,2000,4000,10000";
        int threads = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cpu-seconds" -> cpuSeconds = Double.parseDouble(args[++i]);
                case "--intervals-us" -> intervals = args[++i];
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: CpuRateBenchmark [--cpu-seconds S] [--intervals-us N,N,...] [--threads N]");
                    System.exit(2);
                }
            }
        }
        int cores = threads;
        System.out.printf("CpuRateBenchmark: java %s, %d cpus, %d busy threads, %.1f CPU-seconds a thread a row, "
                        + "load average %s%n", System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), cores, cpuSeconds,
                java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim());
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        spin = true;
        Thread[] busy = new Thread[cores];
        for (int i = 0; i < cores; i++) {
            busy[i] = new Thread(CpuRateBenchmark::busyLoop, "busy-" + i);
            busy[i].setDaemon(true);
            busy[i].start();
        }
        Thread.sleep(300);
        System.out.printf("%-8s %-10s %10s %10s %10s %14s %10s %16s%n", "clock", "asked", "walks", "samples", "CPU s",
                "walks/CPU-s", "/asked", "effective");
        for (String clock : new String[] {"perf", "timer"}) {
            System.setProperty(NativeSampler.PERF_EVENTS_PROPERTY, clock.equals("perf") ? "true" : "false");
            for (String us : intervals.split(",")) {
                long intervalNanos = Long.parseLong(us.trim()) * 1000;
                Profiler.Builder b = Profiler.builder().mode(Profiler.Mode.CPU).interval(Duration.ofNanos(intervalNanos));
                for (Thread t : busy) b.thread(t);
                Profiler p = b.build().start();
                // counted from when every thread has its clock (the control thread gives them out)
                long armDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                for (NativeSampler.Clock armed = NativeSampler.clock();
                        armed.perfThreads() + armed.timerThreads() < cores && System.nanoTime() < armDeadline;
                        armed = NativeSampler.clock()) {
                    Thread.sleep(5);
                }
                long cpuBefore = 0;
                for (Thread t : busy) cpuBefore += mx.getThreadCpuTime(t.getId());
                long samplesBefore = p.sampleCount();
                long walksBefore = p.walkCount();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                long used;
                do {
                    Thread.sleep(100);
                    used = -cpuBefore;
                    for (Thread t : busy) used += mx.getThreadCpuTime(t.getId());
                } while (used < cpuSeconds * cores * 1e9 && System.nanoTime() < deadline);
                long samples = p.sampleCount() - samplesBefore;
                long walks = p.walkCount() - walksBefore;
                Duration effective = p.effectiveInterval();
                NativeSampler.Clock c = NativeSampler.clock();
                p.join();
                double rate = walks / (used / 1e9);
                double asked = 1e9 / intervalNanos;
                System.out.printf("%-8s %7.1f ms %10d %10d %10.2f %14.1f %10.2f %13.1f ms  (%d perf, %d timer threads)%n",
                        clock, intervalNanos / 1e6, walks, samples, used / 1e9, rate, rate / asked, effective.toNanos() / 1e6,
                        c.perfThreads(), c.timerThreads());
            }
        }
        spin = false;
        for (Thread t : busy) t.join(5_000);
    }

    private static void busyLoop() {
        long x = 1;
        while (spin) {
            for (int i = 0; i < 100_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        }
        sink += x;
    }
}
