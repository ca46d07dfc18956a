package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.ChildJvm;
import dev.stacktrace.testlib.Pipe;
import dev.stacktrace.testlib.TestBinding;
import dev.stacktrace.testlib.TestNative;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BoundedWaitTest {

    @Test
    void aThreadThatHasExitedFailsAtOnce() throws Exception {
        int[] tid = new int[1];
        Thread t = new Thread(() -> tid[0] = Stacktrace.currentNativeThreadId(), "short-lived");
        t.start();
        t.join();
        Thread.sleep(20);  // the task is reaped shortly after join returns
        // the first request also loads classes and reads the VM's layout (~0.5 s cold): not what is timed
        StacktraceException cold = assertThrows(StacktraceException.class,
                () -> Stacktrace.getNativeThreadStack(tid[0], 10, true));
        assertEquals(StacktraceException.Reason.NO_SUCH_THREAD, cold.reason());
        long start = System.nanoTime();
        StacktraceException e = assertThrows(StacktraceException.class, () -> Stacktrace.getNativeThreadStack(tid[0], 10, true));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(StacktraceException.Reason.NO_SUCH_THREAD, e.reason());
        assertTrue(millis < NativeCapture.get().timeoutMillis(), "waited " + millis + " ms for an exited thread");
    }

    @Test
    void aThreadBlockingTheSignalFailsAtTheTimeoutThenAtOnceAndNothingLeaks() throws Exception {
        int signal = NativeCapture.get().signal();
        try (Pipe pipe = new Pipe(); BlockedNativeThread witness = new BlockedNativeThread("witness", 6)) {
            int[] result = {Integer.MIN_VALUE};
            int[] tid = {0};
            Thread blocker = new Thread(() -> {
                tid[0] = Stacktrace.currentNativeThreadId();
                result[0] = TestNative.stt_read_with_signal_blocked(signal, pipe.readFd());
            }, "blocks-signal");
            blocker.start();
            awaitBlockedSignal(blocker, signal);

            StacktraceException first = assertThrows(StacktraceException.class,
                    () -> Stacktrace.getThreadStack(blocker, 50, true));
            assertEquals(StacktraceException.Reason.SIGNAL_BLOCKED, first.reason());
            assertTrue(first.getMessage().contains("blocks signal " + signal), first.getMessage());

            long start = System.nanoTime();
            StacktraceException again = assertThrows(StacktraceException.class,
                    () -> Stacktrace.getNativeThreadStack(tid[0], 50, true));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(StacktraceException.Reason.SIGNAL_BLOCKED, again.reason());
            assertTrue(millis < NativeCapture.get().timeoutMillis(), "second request waited " + millis + " ms");

            // The slot of the timed-out request is free and reused: other requests stay correct.
            for (int i = 0; i < 200; i++) assertWitness(witness);

            // Unblocking delivers the stale queued signal; its handler must touch nothing.
            pipe.write(new byte[] {42});
            blocker.join(10_000);
            assertEquals(42, result[0], "the blocked read returned normally");
            for (int i = 0; i < 200; i++) assertWitness(witness);
            assertEquals(0, TestBinding.st_slots_in_use());
        }
    }

    private static void assertWitness(BlockedNativeThread witness) {
        List<StackEntry> stack = null;
        // a starved machine may let a capture run past its deadline: that is a true TIMEOUT, not a broken
        // slot; any other failure, or a wrong stack, fails the test
        for (int attempt = 1; stack == null; attempt++) {
            try {
                stack = Stacktrace.getThreadStack(witness.thread(), 100, false);
            } catch (StacktraceException e) {
                if (e.reason() != StacktraceException.Reason.TIMEOUT || attempt == 3) throw e;
            }
        }
        List<StackEntry> captured = stack;
        long descents = stack.stream().filter(e -> e.name().equals(BlockedNativeThread.DESCEND)).count();
        assertEquals(6, descents, () -> Stacktrace.format(captured));
    }

    private static void awaitBlockedSignal(Thread thread, int signal) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (thread.getState() == Thread.State.RUNNABLE) {
                var status = dev.stacktrace.internal.capture.TaskStatus.read(Stacktrace.nativeThreadId(thread));
                if (status.isPresent() && status.get().blocks(signal) && status.get().state().startsWith("S")) return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("thread never blocked the signal");
    }

    /**
     * With a 1 ms deadline many requests give up, some while their handler is mid-unwind: every stack
     * that does come back must be whole and right, the JVM must not crash, and no slot may leak. No
     * target blocks the signal, so no requester may ever be told one does (the kernel masks the
     * signal while our handler runs: a slow handler is not a blocked thread). A busy loop per core
     * makes handlers slow, as CPU throttling does.
     */
    @Test
    void requestsThatGiveUpMidCaptureNeverTearOrLeakOrBlameTheTarget() throws Exception {
        ChildJvm.Result result = ChildJvm.run(TimeoutStress.class, List.of("-Ddev.stacktrace.timeoutMillis=1"));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("torn=0"), result.output());
        assertTrue(result.output().contains("slots=0"), result.output());
        assertTrue(result.output().contains("other=0"), result.output());
        assertTrue(result.output().contains("requesters-done=4"), result.output());
    }

    /** Runs in the child JVM. */
    public static final class TimeoutStress {
        static volatile boolean loading = true;

        public static void main(String[] args) throws Exception {
            int targets = 4;
            BlockedNativeThread[] threads = new BlockedNativeThread[targets];
            for (int i = 0; i < targets; i++) threads[i] = new BlockedNativeThread("t" + i, 40 + i);
            Thread[] load = new Thread[Runtime.getRuntime().availableProcessors()];
            for (int i = 0; i < load.length; i++) {
                load[i] = new Thread(() -> {
                    long x = 0;
                    while (loading) x += System.nanoTime() & 1;
                    if (x == 42) System.out.print("");
                }, "busy-" + i);
                load[i].setDaemon(true);
                load[i].start();
            }
            int[] ok = new int[1];
            int[] timeouts = new int[1];
            int[] torn = new int[1];
            int[] done = new int[1];
            java.util.Map<String, Integer> other = new java.util.TreeMap<>();
            Thread[] requesters = new Thread[4];
            for (int r = 0; r < requesters.length; r++) {
                int offset = r;
                requesters[r] = new Thread(() -> {
                    for (int i = 0; i < 1500; i++) {
                        BlockedNativeThread target = threads[(i + offset) % targets];
                        try {
                            List<StackEntry> stack = Stacktrace.getNativeThreadStack(target.tid(), 200, false);
                            long descents = stack.stream().filter(e -> e.name().equals(BlockedNativeThread.DESCEND)).count();
                            synchronized (ok) {
                                ok[0]++;
                                if (descents != 40 + (i + offset) % targets) torn[0]++;
                            }
                        } catch (StacktraceException e) {
                            synchronized (ok) {
                                if (e.reason() == StacktraceException.Reason.TIMEOUT
                                        || e.reason() == StacktraceException.Reason.BUSY) {
                                    timeouts[0]++;
                                } else {
                                    other.merge(e.reason() + ": " + e.getMessage(), 1, Integer::sum);
                                }
                            }
                        }
                    }
                    synchronized (ok) {
                        done[0]++;
                    }
                });
                requesters[r].start();
            }
            for (Thread r : requesters) r.join();
            loading = false;
            Thread.sleep(200);
            int others = other.values().stream().mapToInt(Integer::intValue).sum();
            System.out.println("ok=" + ok[0] + " timeouts=" + timeouts[0] + " torn=" + torn[0] + " slots="
                    + TestBinding.st_slots_in_use() + " other=" + others + " requesters-done=" + done[0]);
            other.forEach((reason, n) -> System.out.println(n + " x " + reason));
            for (BlockedNativeThread t : threads) t.close();
            System.exit(torn[0] == 0 && ok[0] > 0 && others == 0 && done[0] == requesters.length ? 0 : 1);
        }
    }
}
