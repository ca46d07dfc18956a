package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.TestBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrencyTest {

    /** 8 threads ask for the stacks of 8 others, in a loop: every answer is that target's own, whole. */
    @Test
    void eightCallersOnEightTargetsGetCorrectUntornStacks() throws Exception {
        int n = 8;
        int rounds = 400;
        List<BlockedNativeThread> targets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) targets.add(new BlockedNativeThread("target-" + i, 10 + 3 * i));
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            java.util.concurrent.atomic.AtomicInteger timeouts = new java.util.concurrent.atomic.AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                int caller = c;
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                        for (int r = 0; r < rounds; r++) {
                            int k = (caller + r) % n;
                            BlockedNativeThread target = targets.get(k);
                            List<StackEntry> stack;
                            try {
                                stack = (r % 2 == 0)
                                        ? Stacktrace.getThreadStack(target.thread(), 200, r % 4 == 0)
                                        : Stacktrace.getNativeThreadStack(target.tid(), 200, true);
                            } catch (StacktraceException e) {
                                // a target starved of CPU on a loaded machine answers late: a true error, not a wrong stack
                                if (e.reason() != StacktraceException.Reason.TIMEOUT) throw e;
                                timeouts.incrementAndGet();
                                continue;
                            }
                            String problem = check(stack, 10 + 3 * k);
                            if (problem != null) failures.add("caller " + caller + " target " + k + ": " + problem);
                        }
                    } catch (Throwable e) {
                        failures.add("caller " + caller + ": " + e);
                    }
                }, "caller-" + c);
                thread.start();
                callers.add(thread);
            }
            start.countDown();
            for (Thread thread : callers) thread.join();
            assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
            assertTrue(timeouts.get() <= n * rounds / 20, timeouts + " of " + n * rounds + " captures timed out");
            assertEquals(0, TestBinding.st_slots_in_use());
        } finally {
            for (BlockedNativeThread t : targets) t.close();
        }
    }

    /** The exact shape of a target of the given depth: read, leaf, `depth` descents, entry, in order. */
    private static String check(List<StackEntry> stack, int depth) {
        List<String> names = stack.stream().map(StackEntry::name).toList();
        int leaf = names.indexOf(BlockedNativeThread.LEAF);
        if (leaf < 1) return "no leaf frame: " + names;
        for (int i = 1; i <= depth; i++) {
            if (!BlockedNativeThread.DESCEND.equals(names.get(leaf + i))) return "frame " + (leaf + i) + " in " + names;
        }
        if (!BlockedNativeThread.ENTRY.equals(names.get(leaf + depth + 1))) return "no entry after " + depth + " frames";
        if (!names.contains("start_thread")) return "stack does not reach start_thread";
        return null;
    }
}
