package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A stack the walk cannot follow to the thread's start ends with a marker frame that says so. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MarkerFrameTest {
    /** Deeper than the walker follows Java frames (256 physical frames). */
    private static final int DEPTH = 400;

    static void recurse(int depth, CountDownLatch deep, CountDownLatch release) throws InterruptedException {
        if (depth == 0) {
            deep.countDown();
            release.await(50, TimeUnit.SECONDS);
            return;
        }
        recurse(depth - 1, deep, release);
    }

    @Test
    void aStackTooDeepToWalkEndsWithATruncatedMarker() throws Exception {
        CountDownLatch deep = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                recurse(DEPTH, deep, release);
            } catch (InterruptedException e) {
                // done
            }
        }, "deep-recursion");
        t.start();
        try {
            assertTrue(deep.await(20, TimeUnit.SECONDS));
            List<StackEntry> stack = Stacktrace.getThreadStack(t, Stacktrace.MAX_DEPTH, true);
            StackEntry last = stack.get(stack.size() - 1);
            assertEquals(StackEntry.Kind.MARKER, last.kind(), Stacktrace.format(stack));
            assertEquals("[truncated]", last.name());
            assertEquals("[truncated]", last.format());
            assertTrue(stack.stream().filter(e -> e.isJava() && "recurse".equals(e.methodName())).count() > 100,
                    "the frames found are kept: " + stack.size() + " frames");
            assertTrue(stack.stream().filter(StackEntry::isMarker).count() <= 2, Stacktrace.format(stack));

            // a shallow stack reaches the thread's start: no marker
            List<StackEntry> self = Stacktrace.getThreadStack(Thread.currentThread(), Stacktrace.MAX_DEPTH, true);
            assertFalse(self.stream().anyMatch(StackEntry::isMarker), Stacktrace.format(self));
        } finally {
            release.countDown();
            t.join();
        }
    }
}
