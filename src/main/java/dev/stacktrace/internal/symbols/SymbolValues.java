package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The link-time values of a few named symbols of an ELF file, found by one pass over its .symtab and
 * .dynsym without building a {@link SymbolTable}: for the handful of addresses needed before any
 * stack is named (libjvm's table is tens of ms and megabytes, and a profile may never need it).
 */
public final class SymbolValues {
    private static final int SYM_SIZE = 24;

    private SymbolValues() {}

    /** Name to st_value of each of {@code names} defined in the file (those not found are absent). */
    public static Map<String, Long> find(Path file, String... names) throws IOException {
        byte[][] wanted = new byte[names.length][];
        for (int i = 0; i < names.length; i++) wanted[i] = names[i].getBytes(StandardCharsets.UTF_8);
        Map<String, Long> found = new HashMap<>();
        try (ElfBytes bytes = ElfBytes.open(file)) {
            ElfFile elf = ElfFile.parse(bytes);
            for (int type : new int[] {ElfFile.SHT_SYMTAB, ElfFile.SHT_DYNSYM}) {
                ElfFile.Section table = elf.sectionOfType(type);
                if (table == null || table.type() == ElfFile.SHT_NOBITS || (table.flags() & ElfFile.SHF_COMPRESSED) != 0
                        || table.link() <= 0 || table.link() >= elf.sections().size()) continue;
                ElfFile.Section strSection = elf.sections().get(table.link());
                if (strSection.type() != ElfFile.SHT_STRTAB || (strSection.flags() & ElfFile.SHF_COMPRESSED) != 0) continue;
                scan(elf.contents(table), table.entsize(), elf.contents(strSection), names, wanted, found);
                if (found.size() == names.length) break;
            }
        }
        return found;
    }

    private static void scan(ByteBuffer syms, long entsize, ByteBuffer strings, String[] names, byte[][] wanted,
                             Map<String, Long> found) {
        int step = entsize >= SYM_SIZE && entsize < 1024 ? (int) entsize : SYM_SIZE;
        int n = syms.limit() / step;
        for (int i = 1; i < n; i++) {
            int b = i * step;
            int nameOffset = syms.getInt(b);
            int shndx = Short.toUnsignedInt(syms.getShort(b + 6));
            if (nameOffset <= 0 || nameOffset >= strings.limit() || shndx == 0) continue;
            for (int w = 0; w < wanted.length; w++) {
                if (!found.containsKey(names[w]) && equalsAt(strings, nameOffset, wanted[w])) {
                    found.put(names[w], syms.getLong(b + 8));
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
