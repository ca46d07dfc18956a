package dev.stacktrace.internal.capture;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import org.junit.jupiter.api.Test;

/** The buffer kept between captures: big enough, reused, never shared by two captures at once. */
class SpareBufferTest {
    @Test
    void aBufferGivenBackIsTakenAgain() {
        SpareBuffer buffers = new SpareBuffer();
        Memory first = buffers.take(4000);
        assertTrue(first.size() >= 4000, "size " + first.size());
        buffers.giveBack(first);
        assertSame(first, buffers.take(4000));
    }

    @Test
    void twoCapturesAtOnceGetTwoBuffers() {
        SpareBuffer buffers = new SpareBuffer();
        Memory a = buffers.take(100);
        Memory b = buffers.take(100);
        assertNotSame(a, b);
        buffers.giveBack(a);
        buffers.giveBack(b);
        assertSame(a, buffers.take(100), "one is kept: the first given back");
        assertNotSame(b, buffers.take(100));
    }

    @Test
    void aLargerRequestGetsALargerBuffer() {
        SpareBuffer buffers = new SpareBuffer();
        Memory small = buffers.take(100);
        buffers.giveBack(small);
        Memory large = buffers.take(small.size() + 1);
        assertTrue(large.size() > small.size(), large.size() + " after " + small.size());
    }
}
