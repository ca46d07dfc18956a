package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.testlib.PerfEventsSetting;
import dev.stacktrace.testlib.TestNative;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Which blocking calls of a sampled thread return EINTR (measured, printed; docs/DESIGN.md quotes
 * it). The handler is installed with SA_RESTART, but the kernel never restarts some calls after a
 * handler (signal(7)): poll, epoll_wait, select, nanosleep, sockets with a timeout. cpu mode sends
 * a blocked thread nothing, so there it must be none at all.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InterruptedCallsTest {
    static final String[] CALLS = {"poll", "epoll_wait", "nanosleep", "recv(SO_RCVTIMEO)", "futex_wait",
            "select", "pthread_cond_timedwait"};
    static final int MILLIS = 1500;

    /** Runs every probe in its own thread while profiling them in this mode; EINTR counts per call. */
    private static long[] measure(Profiler.Mode mode) throws InterruptedException {
        return measure(mode, 20);
    }

    /** The same with each blocking call's timeout waitMillis. */
    private static long[] measure(Profiler.Mode mode, int waitMillis) throws InterruptedException {
        long[] eintr = new long[CALLS.length];
        long[][] calls = new long[CALLS.length][1];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < CALLS.length; c++) {
            int call = c;
            threads.add(new Thread(() -> eintr[call] = TestNative.stt_eintr_probe_waiting(call, MILLIS, waitMillis, calls[call]),
                    "probe-" + CALLS[c]));
        }
        threads.forEach(Thread::start);
        Thread.sleep(50);  // the probes are blocked in their calls before sampling starts
        Profiler p = Profiler.builder().threads(threads).mode(mode).interval(Duration.ofMillis(1)).build().start();
        Thread.sleep(300);
        NativeSampler.Clock clock = NativeSampler.clock();  // how the probes are clocked, while they run
        for (Thread t : threads) t.join(MILLIS + 10_000);
        p.close();
        StringBuilder line = new StringBuilder(mode + " mode, 1 ms, " + MILLIS + " ms, calls of " + waitMillis + " ms:");
        for (int c = 0; c < CALLS.length; c++) {
            line.append(' ').append(CALLS[c]).append(' ').append(eintr[c]).append('/').append(calls[c][0]);
        }
        System.out.println(line + " (EINTR/calls), " + p.sampleCount() + " samples, " + p.walkCount() + " walks, clock "
                + clock);
        return eintr;
    }

    /**
     * A blocked thread uses no CPU, so its CPU clock never fires. A running one's can, in the instant
     * it spends entering its next call: a POSIX timer's signal is raised on the way back to user code,
     * and a task-clock overflows only in user mode, so neither should interrupt the call (a task-clock
     * that overflowed in the kernel did, about once in three samples here). Calls of 1 ms make the
     * probes' own CPU time, and so their samples, twenty times what calls of 20 ms give.
     */
    @Test
    void cpuModeNeverInterruptsABlockedThread() throws Exception {
        for (String perfEvents : new String[] {"true", "false"}) {  // task-clocks where allowed, then timers
            PerfEventsSetting.with(perfEvents, () -> {
                long[] eintr = measure(Profiler.Mode.CPU, 1);
                long total = java.util.Arrays.stream(eintr).sum();
                assertTrue(total <= 3, total + " EINTR in cpu mode, perfEvents=" + perfEvents + ": "
                        + java.util.Arrays.toString(eintr));
            });
        }
    }

    @Test
    void wallModeInterruptsTheCallsTheKernelDoesNotRestart() throws Exception {
        long[] eintr = measure(Profiler.Mode.WALL);
        // the calls the kernel restarts after an SA_RESTART handler, or glibc retries, never show it
        assertEquals(0, eintr[3 + 3], "pthread_cond_timedwait returned EINTR");
        // the ones it does not restart do notice: a probe that saw none would not be measuring
        assertTrue(eintr[0] > 0 && eintr[2] > 0, "poll/nanosleep never saw EINTR: the probe measures nothing");
    }

    @Test
    void anOnDemandCaptureInterruptsAtMostOneCall() throws Exception {
        long[] eintr = new long[1];
        long[] calls = new long[1];
        Thread t = new Thread(() -> eintr[0] = TestNative.stt_eintr_probe(0, MILLIS, calls), "probe-poll");
        t.start();
        Thread.sleep(50);
        int captures = 20, late = 0;
        for (int i = 0; i < captures; i++) {
            try {
                Stacktrace.getThreadStack(t, 64, false);
            } catch (StacktraceException e) {
                // a thread starved of CPU may answer after the deadline: its signal was sent all the same
                if (e.reason() != StacktraceException.Reason.TIMEOUT) throw e;
                late++;
            }
            Thread.sleep(20);
        }
        t.join(MILLIS + 10_000);
        System.out.println("on demand: poll " + eintr[0] + "/" + calls[0] + " (EINTR/calls) for " + captures + " captures ("
                + late + " answered after the deadline)");
        assertTrue(eintr[0] <= captures, eintr[0] + " EINTR for " + captures + " captures");
    }
}
