package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Merges the symbol tables of an object (.symtab, .dynsym, a separate debug file's .symtab, its PLT
 * entries) into one {@link SymbolTable}: code symbols only, one entry per start address, the best name winning.
 */
final class SymbolTableBuilder {

    private static final int STT_NOTYPE = 0;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;
    private static final int STB_GLOBAL = 1;
    private static final int STB_WEAK = 2;
    private static final int STB_GNU_UNIQUE = 10;
    private static final int SHN_LORESERVE = 0xff00;

    // Rank bits: a function beats a sized data/label symbol; an exported name (.dynsym) beats an
    // internal alias (__GI___getpid). Ties are broken in compareAliases.
    private static final int RANK_FUNC = 2;
    private static final int RANK_EXPORTED = 1;

    private final List<ByteBuffer> stringTables = new ArrayList<>();
    private final ByteBuffer piece = ElfFile.pieceBuffer();
    private int count;
    private long[] starts = new long[0];
    private long[] sizes = new long[0];
    /** Bytes from the start to the end of the symbol's section: the reach of a symbol without a size. */
    private int[] sectionRooms = new int[0];
    private int[] nameOffsets = new int[0];
    private byte[] nameTables = new byte[0];
    private byte[] ranks = new byte[0];
    private byte[] bindScores = new byte[0];

    /**
     * Adds the code symbols of {@code table} (a SYMTAB or DYNSYM section of {@code elf}).
     * {@code exported} marks .dynsym, whose names are the ones callers link against.
     */
    void add(ElfFile elf, ElfFile.Section table, boolean exported) throws IOException {
        ElfFile.Section strSection = elf.stringsOf(table);
        if (strSection == null || stringTables.size() >= Byte.MAX_VALUE) {
            return;
        }
        List<ElfFile.Section> sections = elf.sections();
        // The string table stays mapped for names decoded on lookup; the symbols are read once, in pieces.
        ByteBuffer strings = elf.contents(strSection);
        int entsize = ElfFile.symbolSize(table);
        elf.requireInImage(table);
        ensureCapacity(count + (int) Math.min(table.size() / entsize, Integer.MAX_VALUE - 8 - count));
        byte tableId = (byte) stringTables.size();
        boolean used = false;
        long at = entsize; // entry 0 is the reserved null symbol
        for (ByteBuffer syms; (syms = elf.piece(table, at, piece, entsize)).hasRemaining(); at += syms.limit()) {
            for (int b = 0; b + entsize <= syms.limit(); b += entsize) {
                int info = syms.get(b + 4) & 0xff;
                int type = info & 0xf;
                int bind = info >>> 4;
                int shndx = Short.toUnsignedInt(syms.getShort(b + 6));
                int nameOffset = syms.getInt(b);
                long value = syms.getLong(b + 8);
                long size = syms.getLong(b + 16);
                if (shndx == 0 || shndx >= SHN_LORESERVE || shndx >= sections.size()) {
                    continue; // undefined, absolute or common: no code address
                }
                ElfFile.Section section = sections.get(shndx);
                boolean function = type == STT_FUNC || type == STT_GNU_IFUNC;
                if (!function && !((type == STT_NOTYPE || type == STT_OBJECT) && size > 0 && section.executable())) {
                    continue;
                }
                if (nameOffset <= 0 || nameOffset >= strings.limit() || strings.get(nameOffset) == 0) {
                    continue;
                }
                int rank = (function ? RANK_FUNC : 0) | (exported ? RANK_EXPORTED : 0);
                append(value, size, section.addr() + section.size() - value, nameOffset, tableId, rank, bindScore(bind));
                used = true;
            }
        }
        if (used) {
            stringTables.add(strings);
        }
    }

    /** Adds PLT entries ({@code malloc@plt}): synthetic functions with their own string table. */
    void addPlt(List<PltEntries.Entry> entries) {
        if (entries.isEmpty() || stringTables.size() >= Byte.MAX_VALUE) {
            return;
        }
        int[] offsets = new int[entries.size()];
        ByteBuffer strings = PltEntries.stringTable(entries, offsets);
        byte tableId = (byte) stringTables.size();
        stringTables.add(strings);
        ensureCapacity(count + entries.size());
        for (int i = 0; i < entries.size(); i++) {
            PltEntries.Entry e = entries.get(i);
            append(e.address(), e.size(), e.size(), offsets[i], tableId, RANK_FUNC, bindScore(STB_GLOBAL));
        }
    }

    private static byte bindScore(int bind) {
        return switch (bind) {
            case STB_GLOBAL, STB_GNU_UNIQUE -> (byte) 2;
            case STB_WEAK -> (byte) 1;
            default -> (byte) 0; // STB_LOCAL and anything unknown
        };
    }

    /** Grows the arrays once per table, to what it can add at most: no doubling garbage. */
    private void ensureCapacity(int capacity) {
        if (capacity <= starts.length) {
            return;
        }
        starts = Arrays.copyOf(starts, capacity);
        sizes = Arrays.copyOf(sizes, capacity);
        sectionRooms = Arrays.copyOf(sectionRooms, capacity);
        nameOffsets = Arrays.copyOf(nameOffsets, capacity);
        nameTables = Arrays.copyOf(nameTables, capacity);
        ranks = Arrays.copyOf(ranks, capacity);
        bindScores = Arrays.copyOf(bindScores, capacity);
    }

    private void append(long start, long size, long sectionRoom, int nameOffset, byte table, int rank, byte bindScore) {
        starts[count] = start;
        sizes[count] = size;
        sectionRooms[count] = (int) Math.max(1, Math.min(sectionRoom, Integer.MAX_VALUE));
        nameOffsets[count] = nameOffset;
        nameTables[count] = table;
        ranks[count] = (byte) rank;
        bindScores[count] = bindScore;
        count++;
    }

    /**
     * One entry per distinct start address. Sorting primitive starts and binary-searching each
     * symbol's slot avoids a boxed comparator sort (which took ~200 ms for libjvm's ~100k symbols).
     */
    SymbolTable build() {
        if (count == 0) {
            return SymbolTable.EMPTY;
        }
        ByteBuffer[] tables = stringTables.toArray(new ByteBuffer[0]);
        // Flipping the sign bit makes the signed sort order the unsigned address order.
        long[] unique = new long[count];
        for (int i = 0; i < count; i++) {
            unique[i] = starts[i] ^ Long.MIN_VALUE;
        }
        Arrays.sort(unique);
        int m = 0;
        for (int i = 0; i < count; i++) {
            if (m == 0 || unique[m - 1] != unique[i]) {
                unique[m++] = unique[i];
            }
        }
        int[] best = new int[m];
        Arrays.fill(best, -1);
        long[] aliasSize = new long[m]; // a size for a winner that lacks one
        for (int i = 0; i < count; i++) {
            int slot = Arrays.binarySearch(unique, 0, m, starts[i] ^ Long.MIN_VALUE);
            int current = best[slot];
            if (current < 0 || ranks[i] > ranks[current]
                    || (ranks[i] == ranks[current] && compareAliases(tables, i, current) < 0)) {
                best[slot] = i;
            }
            if (aliasSize[slot] == 0 && sizes[i] > 0) {
                aliasSize[slot] = sizes[i];
            }
        }
        long[] outStarts = new long[m];
        int[] outExtents = new int[m];
        int[] outNames = new int[m];
        byte[] outTables = new byte[m];
        for (int k = 0; k < m; k++) {
            int w = best[k];
            long size = sizes[w] > 0 ? sizes[w] : aliasSize[k];
            outStarts[k] = starts[w];
            outExtents[k] = size > 0 ? clampToInt(size) : -sectionRooms[w];
            outNames[k] = nameOffsets[w];
            outTables[k] = nameTables[w];
        }
        return new SymbolTable(outStarts, outExtents, outNames, outTables, tables);
    }

    private static int clampToInt(long v) {
        return (int) Math.min(v, Integer.MAX_VALUE);
    }

    /**
     * Among aliases of equal rank: fewer leading underscores (glibc's public names are weak aliases
     * of "__" names: getpid over __getpid), then GLOBAL > WEAK > LOCAL, then shorter, then alphabetical.
     */
    private int compareAliases(ByteBuffer[] tables, int a, int b) {
        ByteBuffer ta = tables[nameTables[a]];
        ByteBuffer tb = tables[nameTables[b]];
        int oa = nameOffsets[a];
        int ob = nameOffsets[b];
        int c = Integer.compare(leading(ta, oa), leading(tb, ob));
        if (c != 0) {
            return c;
        }
        c = Integer.compare(bindScores[b], bindScores[a]);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(length(ta, oa), length(tb, ob));
        if (c != 0) {
            return c;
        }
        for (int k = 0; ; k++) {
            int x = byteAt(ta, oa + k);
            int y = byteAt(tb, ob + k);
            if (x != y || x == 0) {
                return Integer.compare(x, y);
            }
        }
    }

    private static int byteAt(ByteBuffer t, int i) {
        return i < t.limit() ? t.get(i) & 0xff : 0;
    }

    private static int leading(ByteBuffer t, int offset) {
        int k = 0;
        while (byteAt(t, offset + k) == '_') {
            k++;
        }
        return k;
    }

    private static int length(ByteBuffer t, int offset) {
        int k = 0;
        while (byteAt(t, offset + k) != 0) {
            k++;
        }
        return k;
    }
}
