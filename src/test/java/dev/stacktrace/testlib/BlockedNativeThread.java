package dev.stacktrace.testlib;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import java.time.Duration;
import java.util.List;

/**
 * A Java thread that calls into the test library, recurses {@code depth} native frames and blocks
 * in read(2) on a pipe until closed. The stack it shows is known exactly.
 */
public final class BlockedNativeThread implements AutoCloseable {
    public static final String LEAF = "stt::Recurser::leaf_read(int)";
    public static final String DESCEND = "stt::Recurser::descend_read(int, int)";
    public static final String ENTRY = "stt_recurse_then_read";

    private final Pipe pipe = new Pipe();
    private final Thread thread;
    private volatile int result = Integer.MIN_VALUE;
    private volatile int tid;

    public BlockedNativeThread(String name, int depth) {
        thread = new Thread(() -> {
            tid = Stacktrace.currentNativeThreadId();
            result = TestNative.stt_recurse_then_read(depth, pipe.readFd());
        }, name);
        thread.setDaemon(true);
        thread.start();
        awaitBlocked(thread, LEAF, Duration.ofSeconds(10));
    }

    public Thread thread() {
        return thread;
    }

    public int tid() {
        return tid;
    }

    /** What read(2) returned once released, or Integer.MIN_VALUE while blocked. */
    public int result() {
        return result;
    }

    /** Releases the read with this byte and waits for the thread to end. */
    public int release(int value) throws InterruptedException {
        pipe.write(new byte[] {(byte) value});
        thread.join(10_000);
        if (thread.isAlive()) throw new AssertionError("thread did not return from read(2)");
        return result;
    }

    @Override
    public void close() throws InterruptedException {
        if (thread.isAlive()) release(1);
        pipe.close();
    }

    /** Waits until the thread's native stack shows the named frame. */
    public static void awaitBlocked(Thread thread, String frame, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (thread.isAlive()) {
                try {
                    List<StackEntry> stack = Stacktrace.getThreadStack(thread, 200, true);
                    if (stack.stream().anyMatch(e -> e.name().equals(frame))) return;
                } catch (StacktraceException e) {
                    // a test JVM may run with a deadline short enough to miss; try again
                    if (e.reason() != StacktraceException.Reason.TIMEOUT) throw e;
                }
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("thread " + thread.getName() + " never reached " + frame);
    }
}
