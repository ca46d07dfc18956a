package dev.stacktrace.internal.binding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;

/** st_peek (safe_access.c) reads memory that is there, and reports memory that is not instead of faulting. */
class SafePeekTest {
    private static final int EFAULT = 14;

    @Test
    void readsMappedWordsAndReportsUnmappedOnes() {
        try (Memory memory = new Memory(16)) {
            memory.setLong(0, 0x1122334455667788L);
            memory.setLong(8, -2L);
            long[] out = new long[2];
            assertEquals(2, LibStacktrace.st_peek(Pointer.nativeValue(memory), out, 2));
            assertArrayEquals(new long[] {0x1122334455667788L, -2L}, out);
        }
        long[] out = new long[1];
        assertEquals(-EFAULT, LibStacktrace.st_peek(8, out, 1), "page 0 is never mapped");
        assertEquals(-EFAULT, LibStacktrace.st_peek(-4096, out, 1), "nor the top of the address space");
    }
}
