package dev.stacktrace.testlib;

/** A pipe(2) made by the test library, so native code can block on its read end. */
public final class Pipe implements AutoCloseable {
    private final int[] fds = new int[2];
    private boolean closed;

    public Pipe() {
        if (TestNative.stt_pipe(fds) != 0) throw new IllegalStateException("pipe(2) failed");
    }

    public int readFd() {
        return fds[0];
    }

    public int writeFd() {
        return fds[1];
    }

    public void write(byte[] data) {
        long n = TestNative.stt_write(fds[1], data, data.length);
        if (n != data.length) throw new IllegalStateException("write(2) returned " + n);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        TestNative.stt_close(fds[0]);
        TestNative.stt_close(fds[1]);
    }
}
