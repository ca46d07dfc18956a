package dev.stacktrace.bench;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.tools.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run in a fresh JVM by {@link StartupBenchmark}: how soon the library gives a named stack, and how
 * many stacks a Timer at 5 ms delivers in its first second. Two targets, each started before the
 * library is first used: one sleeping (its top frames are in libc and libjvm), one spinning in Java
 * code. Prints one {@code RESULT} line.
 *
 * <p>{@code first}: mode "stack" takes one stack of the sleeping thread as the first use of the
 * library and times it (loading included), then the first stack that has a named native frame;
 * mode "timer" starts a Timer at 5 ms on the spinning thread as the first use of the library and
 * counts the stacks its callback got in the first second. Mode "stack" also gives the CPU time
 * its thread and the whole JVM spent until the named stack (what a loaded machine does not distort).
 * Mode "jna" is the floor of any first use through JNA: it calls one libc function by JNA direct
 * mapping, as the library's binding calls its own, and times that first call the same way.
 */
public final class FirstStackProbe {
    private static volatile long sink;

    private FirstStackProbe() {}

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "stack";
        CountDownLatch running = new CountDownLatch(2);
        Thread sleeper = new Thread(() -> {
            running.countDown();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // the end
            }
        }, "probe-sleeper");
        Thread spinner = new Thread(() -> {
            running.countDown();
            long h = 0;
            while (!Thread.currentThread().isInterrupted()) h = spin(h);
            sink = h;
        }, "probe-spinner");
        sleeper.setDaemon(true);
        spinner.setDaemon(true);
        sleeper.start();
        spinner.start();
        running.await();
        Thread.sleep(50);  // both in their loops

        if (mode.equals("stack")) {
            long t0 = System.nanoTime(), cpu0 = threadCpu(), process0 = processCpu();
            List<StackEntry> first = null;
            long firstNs = -1, namedNs = -1;
            int failures = 0;
            // a capture that times out on a loaded machine is retried: the clock keeps running
            while (namedNs < 0 && System.nanoTime() - t0 < 10_000_000_000L) {
                try {
                    List<StackEntry> stack = Stacktrace.getThreadStack(sleeper);
                    long at = System.nanoTime() - t0;
                    if (first == null) { first = stack; firstNs = at; }
                    if (named(stack)) namedNs = at;
                } catch (StacktraceException e) {
                    failures++;
                }
            }
            System.out.printf("RESULT first_stack_ms=%.1f first_named_stack_ms=%.1f first_frames=%d failures=%d "
                            + "thread_cpu_ms=%.1f process_cpu_ms=%.1f%n", firstNs / 1e6, namedNs / 1e6,
                    first == null ? 0 : first.size(), failures, (threadCpu() - cpu0) / 1e6, (processCpu() - process0) / 1e6);
        } else if (mode.equals("jna")) {
            long t0 = System.nanoTime(), cpu0 = threadCpu(), process0 = processCpu();
            int pid = StartupHello.Libc.getpid();
            System.out.printf("RESULT jna_first_call_ms=%.1f thread_cpu_ms=%.1f process_cpu_ms=%.1f pid=%d%n",
                    (System.nanoTime() - t0) / 1e6, (threadCpu() - cpu0) / 1e6, (processCpu() - process0) / 1e6, pid);
        } else {
            AtomicLong stacks = new AtomicLong(), named = new AtomicLong(), firstAt = new AtomicLong(-1);
            long t0 = System.nanoTime();
            Timer timer = new Timer(spinner, s -> {
                if (System.nanoTime() - t0 > 1_000_000_000L) return;
                firstAt.compareAndSet(-1, System.nanoTime() - t0);
                stacks.incrementAndGet();
                if (named(s)) named.incrementAndGet();
            }, Duration.ofMillis(5)).start();
            Thread.sleep(1000);
            timer.join();
            System.out.printf("RESULT timer_first_second_stacks=%d timer_named_stacks=%d timer_first_stack_ms=%.1f%n",
                    stacks.get(), named.get(), firstAt.get() / 1e6);
        }
    }

    private static long threadCpu() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** A stack with a named native frame (not a place name such as libc.so.6+0x1234). */
    private static boolean named(List<StackEntry> stack) {
        return stack.stream().anyMatch(e -> !e.isJava() && !e.isMarker() && e.hasName());
    }

    private static long spin(long h) {
        for (int i = 0; i < 1000; i++) h = h * 31 + i;
        return h;
    }
}
