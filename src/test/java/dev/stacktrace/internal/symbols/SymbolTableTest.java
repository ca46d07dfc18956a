package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Lookup rules of the sorted table, on a hand-built table. */
class SymbolTableTest {

    // String table: "\0sized\0unsized\0outer\0inner\0"
    private static final ByteBuffer STRINGS = ByteBuffer.wrap("\0sized\0unsized\0outer\0inner\0".getBytes(StandardCharsets.US_ASCII));
    private static final int SIZED = 1;
    private static final int UNSIZED = 7;
    private static final int OUTER = 15;
    private static final int INNER = 21;

    private final SymbolTable table = new SymbolTable(
            new long[] {0x1000, 0x2000, 0x3000, 0x3010},
            new int[] {0x10, -0x800, 0x100, 0x8}, // unsized symbol: its section ends 0x800 later
            new int[] {SIZED, UNSIZED, OUTER, INNER},
            new byte[4],
            new ByteBuffer[] {STRINGS});

    private String nameAt(long vaddr) {
        int i = table.indexOf(vaddr);
        return i < 0 ? "?" : table.name(i);
    }

    @Test
    void sizedSymbolCoversExactlyItsRange() {
        assertEquals("?", nameAt(0xfff));
        assertEquals("sized", nameAt(0x1000));
        assertEquals("sized", nameAt(0x100f));
        assertEquals("?", nameAt(0x1010)); // beyond its size, before the next symbol
        assertEquals("?", nameAt(0x1fff));
    }

    @Test
    void unsizedSymbolReachesTheNextSymbolWithinItsSection() {
        assertEquals("unsized", nameAt(0x2000));
        assertEquals("unsized", nameAt(0x27ff));
        assertEquals("?", nameAt(0x2800)); // past the end of its section
        assertTrue(table.unsized(table.indexOf(0x2000)));
        assertFalse(table.unsized(table.indexOf(0x1000)));
    }

    @Test
    void enclosingSymbolWinsAfterANestedOneEnds() {
        assertEquals("outer", nameAt(0x3000));
        assertEquals("inner", nameAt(0x3010));
        assertEquals("inner", nameAt(0x3017));
        assertEquals("outer", nameAt(0x3018));
        assertEquals("outer", nameAt(0x30ff));
        assertEquals("?", nameAt(0x3100));
        assertEquals(0x3000, table.start(table.indexOf(0x3050)));
    }

    @Test
    void namesAreDecodedOnceAndShared() {
        int i = table.indexOf(0x1004);
        assertTrue(table.name(i) == table.name(i), "cached String instance");
        assertEquals(0, SymbolTable.EMPTY.size());
        assertEquals(-1, SymbolTable.EMPTY.indexOf(0));
    }
}
