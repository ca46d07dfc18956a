package dev.stacktrace.internal.stacks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.binding.LibStacktrace;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A mixed stack read from the front of a longer, reused array is the stack of those frames only. */
class RawStackTest {
    private static final int W = LibStacktrace.MIXED_WORDS;

    /** Three frames (kind, id, bci, pc, sp), then the leftovers of an earlier, deeper stack. */
    private static long[] reusedArray() {
        long[] words = new long[W * 8];
        Arrays.fill(words, 0x5eed_5eedL);
        long[][] frames = {
            {LibStacktrace.FRAME_NATIVE, 0x7f00_0000_1000L, 0, 0x7f00_0000_1000L, 0x7ffc_0000_0100L},
            {LibStacktrace.FRAME_COMPILED, 0x7f00_1234_5670L, 17, 0x7f00_0000_2000L, 0x7ffc_0000_0200L},
            {LibStacktrace.FRAME_INTERPRETED, 0x7f00_1234_5680L, 3, 0x7f00_0000_3000L, 0x7ffc_0000_0300L},
        };
        for (int f = 0; f < frames.length; f++) System.arraycopy(frames[f], 0, words, f * W, W);
        return words;
    }

    @Test
    void theFramesGivenAreTheStackAndNothingAfterThem() {
        long[] words = reusedArray();
        RawStack front = RawStack.mixed(words, 3);
        RawStack exact = RawStack.mixed(Arrays.copyOf(words, 3 * W));
        assertEquals(3, front.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(exact.kind(i), front.kind(i));
            assertEquals(exact.id(i), front.id(i));
            assertEquals(exact.bci(i), front.bci(i));
            assertEquals(exact.pc(i), front.pc(i));
        }
        assertEquals(LibStacktrace.FRAME_COMPILED, front.kind(1));
        assertEquals(17, front.bci(1));
        assertEquals(exact, front);
        assertEquals(exact.hashCode(), front.hashCode());
        assertNotEquals(RawStack.mixed(words, 2), front);
        assertNotEquals(RawStack.mixed(words), front, "the whole array is a longer stack");
    }

    @Test
    void noFramesIsAnEmptyStack() {
        assertEquals(0, RawStack.mixed(reusedArray(), 0).size());
    }

    @Test
    void moreFramesThanTheArrayHoldsIsRefused() {
        long[] words = reusedArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RawStack.mixed(words, 9));
        assertTrue(e.getMessage().contains("9 frames"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RawStack.mixed(words, -1));
    }
}
