package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BadInputTest {

    @Test
    void zeroOrNegativeTidIsRejected() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> Stacktrace.getNativeThreadStack(0, 10, true));
        assertTrue(zero.getMessage().contains("positive OS thread id"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Stacktrace.getNativeThreadStack(-5, 10, true));
        assertThrows(IllegalArgumentException.class, () -> Stacktrace.printNativeThreadStack(-1));
    }

    @Test
    void aTidOutsideThisProcessIsNoSuchThread() {
        // pid 1 is another process (init, or the container's first process), never one of our threads.
        StacktraceException e = assertThrows(StacktraceException.class, () -> Stacktrace.getNativeThreadStack(1, 10, true));
        assertEquals(StacktraceException.Reason.NO_SUCH_THREAD, e.reason());
        assertTrue(e.getMessage().contains("no thread with native id 1 in this process"), e.getMessage());
        // A tid far beyond pid_max.
        StacktraceException big = assertThrows(StacktraceException.class,
                () -> Stacktrace.getNativeThreadStack(Integer.MAX_VALUE, 10, true));
        assertEquals(StacktraceException.Reason.NO_SUCH_THREAD, big.reason());
    }

    @Test
    void negativeOrHugeDepthIsRejected() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("depth-checks", 3)) {
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> Stacktrace.getThreadStack(t.thread(), -1, true));
            assertTrue(negative.getMessage().contains("maxDepth must be between 0 and " + Stacktrace.MAX_DEPTH));
            assertThrows(IllegalArgumentException.class, () -> Stacktrace.getThreadStack(t.thread(), Integer.MAX_VALUE, true));
            assertThrows(IllegalArgumentException.class, () -> Stacktrace.getNativeThreadStack(t.tid(), Stacktrace.MAX_DEPTH + 1, true));
            assertThrows(IllegalArgumentException.class, () -> Stacktrace.getStack(-3, false));
            assertEquals(Stacktrace.MAX_DEPTH >= 1000, true);
        }
    }

    @Test
    void nullsAreRejectedWithTheirName() throws Exception {
        NullPointerException stream = assertThrows(NullPointerException.class, () -> Stacktrace.printStack(null, 10, true));
        assertTrue(stream.getMessage().contains("out"));
        assertThrows(NullPointerException.class, () -> Stacktrace.printThreadStack(Thread.currentThread(), null, 10, true));
        assertThrows(NullPointerException.class, () -> Stacktrace.printNativeThreadStack(Stacktrace.currentNativeThreadId(), null));
        NullPointerException thread = assertThrows(NullPointerException.class, () -> Stacktrace.getThreadStack(null, 10, true));
        assertTrue(thread.getMessage().contains("thread"));
        assertThrows(NullPointerException.class, () -> Stacktrace.nativeThreadId(null));
    }

    @Test
    void aThreadThatHasNotStartedOrHasEndedIsNotAlive() throws Exception {
        Thread unstarted = new Thread(() -> { }, "never-started");
        StacktraceException e = assertThrows(StacktraceException.class, () -> Stacktrace.getThreadStack(unstarted, 10, true));
        assertEquals(StacktraceException.Reason.NO_SUCH_THREAD, e.reason());
        assertTrue(e.getMessage().contains("never-started"), e.getMessage());

        Thread ended = new Thread(() -> { }, "ended");
        ended.start();
        ended.join();
        assertThrows(StacktraceException.class, () -> Stacktrace.nativeThreadId(ended));
    }
}
