package dev.stacktrace.internal.stacks;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.binding.LibStacktrace;
import org.junit.jupiter.api.Test;

/** The cache of named Java frames answers only for the very raw frame it was given. */
class JavaFrameEntriesTest {
    private static final int COMPILED = LibStacktrace.FRAME_COMPILED;
    private static final int INLINED = LibStacktrace.FRAME_INLINED;

    private static StackEntry entry(long pc, int line) {
        return StackEntry.javaFrame(pc, StackEntry.Kind.JAVA_COMPILED, "a.B", "c", "B.java", line);
    }

    @Test
    void aFrameMetAgainIsTheSameEntry() {
        long id = 0x7f00_1234_5670L, pc = 0x7f00_0000_1000L;
        StackEntry e = JavaFrameEntries.put(COMPILED, id, 7, pc, false, entry(pc, 12));
        assertSame(e, JavaFrameEntries.get(COMPILED, id, 7, pc, false));
    }

    @Test
    void anyDifferenceInTheRawFrameIsAMiss() {
        long id = 0x7f00_2234_5670L, pc = 0x7f00_0000_2000L;
        StackEntry e = JavaFrameEntries.put(COMPILED, id, 7, pc, false, entry(pc, 12));
        assertNotSame(e, JavaFrameEntries.get(COMPILED, id, 8, pc, false), "another bci");
        assertNotSame(e, JavaFrameEntries.get(COMPILED, id, 7, pc + 1, false), "another pc");
        assertNotSame(e, JavaFrameEntries.get(COMPILED, id + 8, 7, pc, false), "another method");
        assertNotSame(e, JavaFrameEntries.get(INLINED, id, 7, pc, false), "another kind");
        assertNotSame(e, JavaFrameEntries.get(COMPILED, id, 7, pc, true), "hidden frames counted otherwise");
    }

    @Test
    void aFrameNeverPutIsNotFound() {
        assertNull(JavaFrameEntries.get(COMPILED, 0x7f00_3234_5670L, 3, 0x7f00_0000_3000L, false));
    }
}
