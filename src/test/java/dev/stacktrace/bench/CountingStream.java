package dev.stacktrace.bench;

import java.io.OutputStream;

/** Counts and drops what is written: an encoder's own allocations are measured, not an output buffer's. */
final class CountingStream extends OutputStream {
    long count;

    @Override
    public void write(int b) {
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        count += len;
    }
}
