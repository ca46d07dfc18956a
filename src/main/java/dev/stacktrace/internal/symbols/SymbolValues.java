package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The link-time values of a few named symbols of an ELF file, found without building a
 * {@link SymbolTable}: for the handful of addresses needed before any stack is named. The string
 * table is searched for the names and the symbol table is scanned for those name offsets, both read
 * once in small pieces, so that nothing of libjvm's megabytes of tables is mapped or kept.
 */
public final class SymbolValues {
    private static final int SYM_SIZE = 24;
    /** Longer names are not looked for: a search piece must hold one whole. */
    private static final int MAX_NAME = 1024;

    private SymbolValues() {}

    /** Name to st_value of each of {@code names} defined in the file (those not found are absent). */
    public static Map<String, Long> find(Path file, String... names) throws IOException {
        return find(file, ElfFile.pieceBuffer(), names);
    }

    /** As {@link #find(Path, String...)}, reading through {@code piece} (whose size tests vary). */
    static Map<String, Long> find(Path file, ByteBuffer piece, String... names) throws IOException {
        Map<String, Long> found = new HashMap<>();
        try (ElfBytes bytes = ElfBytes.open(file)) {
            ElfFile elf = ElfFile.parse(bytes);
            for (int type : new int[] {ElfFile.SHT_SYMTAB, ElfFile.SHT_DYNSYM}) {
                ElfFile.Section table = elf.sectionOfType(type);
                if (table == null || table.type() == ElfFile.SHT_NOBITS || (table.flags() & ElfFile.SHF_COMPRESSED) != 0
                        || table.link() <= 0 || table.link() >= elf.sections().size()) continue;
                ElfFile.Section strSection = elf.sections().get(table.link());
                if (strSection.type() != ElfFile.SHT_STRTAB || (strSection.flags() & ElfFile.SHF_COMPRESSED) != 0) continue;
                Map<Integer, String> nameAt = offsetsOf(elf, strSection, names, found, piece);
                if (!nameAt.isEmpty()) scan(elf, table, nameAt, found, piece);
                if (found.size() == names.length) break;
            }
        }
        return found;
    }

    /**
     * Every offset of the string table where one of the names not yet found starts, NUL-terminated.
     * Any offset, not only after a NUL: a linker may point a name into the tail of a longer one.
     */
    private static Map<Integer, String> offsetsOf(ElfFile elf, ElfFile.Section strings, String[] names,
                                                  Map<String, Long> found, ByteBuffer piece) throws IOException {
        byte[][] wanted = new byte[names.length][];
        int longest = 0;
        for (int w = 0; w < names.length; w++) {
            byte[] name = names[w].getBytes(StandardCharsets.UTF_8);
            if (found.containsKey(names[w]) || name.length == 0 || name.length > Math.min(MAX_NAME, piece.capacity() - 1)) continue;
            wanted[w] = name;
            longest = Math.max(longest, name.length);
        }
        Map<Integer, String> nameAt = new HashMap<>();
        if (longest == 0) return nameAt;
        long size = strings.size();
        for (long from = 0; from < size; ) {
            ByteBuffer b = elf.piece(strings, from, piece, 1);
            if (!b.hasRemaining()) break;
            boolean last = from + b.limit() >= size;
            // a match must end (NUL included) inside the piece; the next piece starts at the first position not tried
            int end = last ? b.limit() : b.limit() - longest;
            for (int p = 0; p < end; p++) {
                byte first = b.get(p);
                for (int w = 0; w < wanted.length; w++) {
                    if (wanted[w] != null && wanted[w][0] == first && equalsAt(b, p, wanted[w])) {
                        nameAt.put((int) (from + p), names[w]);
                    }
                }
            }
            from += end;
        }
        return nameAt;
    }

    /** Records st_value of each defined symbol whose name offset is one of {@code nameAt}'s. */
    private static void scan(ElfFile elf, ElfFile.Section table, Map<Integer, String> nameAt, Map<String, Long> found,
                             ByteBuffer piece) throws IOException {
        // a few offsets, compared in place: a map lookup would box every symbol's offset
        int[] offsets = new int[nameAt.size()];
        String[] offsetNames = new String[nameAt.size()];
        int n = 0;
        for (Map.Entry<Integer, String> e : nameAt.entrySet()) {
            offsets[n] = e.getKey();
            offsetNames[n++] = e.getValue();
        }
        int step = table.entsize() >= SYM_SIZE && table.entsize() < 1024 ? (int) table.entsize() : SYM_SIZE;
        long at = step; // entry 0 is the reserved null symbol
        for (ByteBuffer syms; (syms = elf.piece(table, at, piece, step)).hasRemaining(); at += syms.limit()) {
            for (int b = 0; b + step <= syms.limit(); b += step) {
                int nameOffset = syms.getInt(b);
                int shndx = Short.toUnsignedInt(syms.getShort(b + 6));
                if (nameOffset <= 0 || shndx == 0) continue;
                for (int k = 0; k < offsets.length; k++) {
                    if (offsets[k] == nameOffset) found.putIfAbsent(offsetNames[k], syms.getLong(b + 8));
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
