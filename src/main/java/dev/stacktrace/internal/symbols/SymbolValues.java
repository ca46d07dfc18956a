package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The link-time values of a few named symbols of an ELF file, found without building a
 * {@link SymbolTable}: for the handful of addresses needed before any stack is named. Both sections
 * are read once in small pieces, so that nothing of libjvm's megabytes of tables is mapped or kept:
 * the symbol section for each defined symbol's name offset, then the string section window by window,
 * comparing the names of the symbols whose names start in that window.
 */
public final class SymbolValues {
    private SymbolValues() {}

    /** Name to st_value of each of {@code names} defined in the file (those not found are absent). */
    public static Map<String, Long> find(Path file, String... names) throws IOException {
        return find(file, ElfFile.pieceBuffer(), names);
    }

    /**
     * As {@link #find(Path, String...)}, reading through {@code piece} (whose size tests vary). A
     * name is looked for only if it fits in a piece: {@code piece} must hold it and its NUL twice.
     */
    static Map<String, Long> find(Path file, ByteBuffer piece, String... names) throws IOException {
        Map<String, Long> found = new HashMap<>();
        try (ElfBytes bytes = ElfBytes.open(file)) {
            ElfFile elf = ElfFile.parse(bytes);
            for (int type : new int[] {ElfFile.SHT_SYMTAB, ElfFile.SHT_DYNSYM}) {
                ElfFile.Section table = elf.sectionOfType(type);
                ElfFile.Section strSection = elf.stringsOf(table);
                if (strSection == null) continue;
                elf.requireInImage(table);
                search(elf, table, strSection, names, found, piece);
                if (found.size() == names.length) break;
            }
        }
        return found;
    }

    private static void search(ElfFile elf, ElfFile.Section table, ElfFile.Section strings, String[] names,
                               Map<String, Long> found, ByteBuffer piece) throws IOException {
        byte[][] wanted = new byte[names.length][];
        int longest = 0;
        for (int w = 0; w < names.length; w++) {
            byte[] name = names[w].getBytes(StandardCharsets.UTF_8);
            if (found.containsKey(names[w]) || name.length == 0) continue;
            wanted[w] = name;
            longest = Math.max(longest, name.length + 1);
        }
        // A window's names, NUL included, must fit in the piece read from the window's start.
        int window = piece.capacity() - longest;
        if (longest == 0 || window < longest) return;

        // The defined symbols: their name offsets and values.
        int step = ElfFile.symbolSize(table);
        int n = (int) Math.min(table.size() / step, Integer.MAX_VALUE - 8);
        int[] nameOffsets = new int[n];
        long[] values = new long[n];
        int count = 0;
        long at = step; // entry 0 is the reserved null symbol
        for (ByteBuffer syms; (syms = elf.piece(table, at, piece, step)).hasRemaining(); at += syms.limit()) {
            for (int b = 0; b + step <= syms.limit(); b += step) {
                int nameOffset = syms.getInt(b);
                if (nameOffset > 0 && Short.toUnsignedInt(syms.getShort(b + 6)) != 0 && count < n) {
                    nameOffsets[count] = nameOffset;
                    values[count++] = syms.getLong(b + 8);
                }
            }
        }

        // Symbols in the order of their names' windows (a counting sort), then each window read once.
        long windows = strings.size() / window + 1;
        if (windows > Integer.MAX_VALUE - 8) return;
        int[] starts = new int[(int) windows + 1];
        for (int i = 0; i < count; i++) {
            if (nameOffsets[i] < strings.size()) starts[nameOffsets[i] / window + 1]++;
        }
        for (int w = 0; w < windows; w++) starts[w + 1] += starts[w];
        int[] byWindow = new int[starts[(int) windows]];
        int[] next = starts.clone();
        for (int i = 0; i < count; i++) {
            if (nameOffsets[i] < strings.size()) byWindow[next[nameOffsets[i] / window]++] = i;
        }
        for (int w = 0; w < windows; w++) {
            if (starts[w] == starts[w + 1]) continue;
            long from = (long) w * window;
            ByteBuffer text = elf.piece(strings, from, piece, 1);
            for (int k = starts[w]; k < starts[w + 1]; k++) {
                int i = byWindow[k];
                int offset = (int) (nameOffsets[i] - from);
                for (int x = 0; x < wanted.length; x++) {
                    if (wanted[x] != null && equalsAt(text, offset, wanted[x])) found.putIfAbsent(names[x], values[i]);
                }
            }
        }
    }

    /** Whether the NUL-terminated string at {@code offset} is {@code name}. */
    private static boolean equalsAt(ByteBuffer strings, int offset, byte[] name) {
        if (offset + name.length >= strings.limit()) return false;
        for (int i = 0; i < name.length; i++) {
            if (strings.get(offset + i) != name[i]) return false;
        }
        return strings.get(offset + name.length) == 0;
    }
}
