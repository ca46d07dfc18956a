package dev.stacktrace.internal.symbols;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Code symbols of one ELF object, sorted by start address, for binary search.
 *
 * <p>Names are not copied at build time: each entry keeps an offset into one of the object's
 * string tables, which stay memory-mapped (off-heap, paged in on demand), and a name is decoded
 * once, on its first lookup. Heap cost is about 21 bytes an entry (8 start, 4 size, 4 name offset,
 * 1 table id, 4 name slot) plus the decoded names actually used: libjvm.so has 43.7k distinct
 * function starts on JDK 17 and 52.9k on JDK 25, so about 0.9-1.1 MB, while its 2.6-3.3 MB
 * .strtab stays mapped (page cache, not heap).
 *
 * <p>Thread-safe: all arrays are immutable after construction except the name slots, which are
 * filled racily with immutable Strings (a lost race only decodes a name twice).
 */
final class SymbolTable {

    static final SymbolTable EMPTY = new SymbolTable(new long[0], new int[0], new int[0], new byte[0], new ByteBuffer[0]);

    /** How many earlier entries a lookup inspects for an enclosing symbol (nested entry points). */
    private static final int ENCLOSING_SEARCH = 8;

    private final long[] starts;
    /** Positive: the symbol's size. Negative: a size-0 symbol, which reaches to the next symbol or -size bytes (its section's end). */
    private final int[] extents;
    private final int[] nameOffsets;
    private final byte[] nameTables;
    private final ByteBuffer[] stringTables;
    private final String[] names;

    SymbolTable(long[] starts, int[] extents, int[] nameOffsets, byte[] nameTables, ByteBuffer[] stringTables) {
        this.starts = starts;
        this.extents = extents;
        this.nameOffsets = nameOffsets;
        this.nameTables = nameTables;
        this.stringTables = stringTables;
        this.names = new String[starts.length];
    }

    int size() {
        return starts.length;
    }

    /** Index of the symbol covering {@code vaddr} (an address in the object's own link-time space), or -1. */
    int indexOf(long vaddr) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], vaddr) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return -1;
        }
        if (covers(hi, vaddr)) {
            return hi;
        }
        // A sized symbol may enclose later ones (assembly functions with inner entry points).
        for (int j = hi - 1; j >= 0 && j >= hi - ENCLOSING_SEARCH; j--) {
            if (extents[j] > 0 && covers(j, vaddr)) {
                return j;
            }
        }
        return -1;
    }

    private boolean covers(int i, long vaddr) {
        int e = extents[i];
        long extent = e > 0 ? e : -(long) e;
        return Long.compareUnsigned(vaddr - starts[i], extent) < 0;
    }

    long start(int index) {
        return starts[index];
    }

    /** True when the symbol had no size in the ELF file and covers up to the next symbol. */
    boolean unsized(int index) {
        return extents[index] < 0;
    }

    /** The raw (mangled) name; decoded from the string table on first use. */
    String name(int index) {
        String n = names[index];
        if (n == null) {
            n = decode(stringTables[nameTables[index]], nameOffsets[index]);
            names[index] = n;
        }
        return n;
    }

    /**
     * The link-time address of the symbol named {@code name}, or -1. A linear scan that compares
     * bytes in place (no names are decoded or cached): for rare look-ups by name.
     */
    long startOf(String name) {
        byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < starts.length; i++) {
            ByteBuffer table = stringTables[nameTables[i]];
            int offset = nameOffsets[i];
            if (offset + wanted.length >= table.limit() || table.get(offset + wanted.length) != 0) continue;
            boolean same = true;
            for (int k = 0; k < wanted.length && same; k++) same = table.get(offset + k) == wanted[k];
            if (same) return starts[i];
        }
        return -1;
    }

    private static String decode(ByteBuffer table, int offset) {
        int end = offset;
        int limit = table.limit();
        while (end < limit && table.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - offset];
        table.get(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
