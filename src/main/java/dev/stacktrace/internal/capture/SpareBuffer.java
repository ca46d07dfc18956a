package dev.stacktrace.internal.capture;

import com.sun.jna.Memory;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Native memory for the answers of captures, kept from one capture to the next. The native side
 * writes a stack's words straight into it and only the words written are copied to the Java heap:
 * a Java array handed to a JNA call is copied in and out whole, at the capacity asked for, and the
 * garbage of a few kilobytes a stack makes a young JVM grow its heap while stacks are taken.
 *
 * <p>One buffer is kept: callers that capture at the same moment get buffers of their own, and
 * only one of them is kept afterwards (the others are freed with their {@link Memory}).
 */
final class SpareBuffer {
    /** The least a buffer holds, so that depths asked for near the default share one. */
    private static final long MIN_BYTES = 16 * 1024;

    private final AtomicReference<Memory> spare = new AtomicReference<>();

    /** A buffer of at least {@code bytes}, the caller's alone until {@link #giveBack}. */
    Memory take(long bytes) {
        Memory m = spare.getAndSet(null);
        return m != null && m.size() >= bytes ? m : new Memory(Math.max(bytes, MIN_BYTES));
    }

    /** Keeps {@code m} for the next capture, unless another is kept already. */
    void giveBack(Memory m) {
        spare.compareAndSet(null, m);
    }
}
