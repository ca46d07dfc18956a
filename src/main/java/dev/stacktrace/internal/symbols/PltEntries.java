package dev.stacktrace.internal.symbols;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Names the entries of an x86-64 object's procedure linkage table ({@code .plt}, {@code .plt.sec},
 * {@code .plt.got}) {@code symbol@plt}, as objdump and gdb do: each entry jumps through a GOT slot
 * ({@code jmp *disp32(%rip)}, opcode ff 25, possibly after endbr64 and a bnd prefix), and the
 * dynamic relocation of that slot ({@code .rela.plt}, or {@code .rela.dyn} for {@code .plt.got})
 * names the symbol. The ELF files carry no symbols for these stubs.
 */
final class PltEntries {

    private static final int SHT_RELA = 4;
    private static final int RELA_SIZE = 24;
    private static final int SYM_SIZE = 24;
    private static final String[] PLT_SECTIONS = {".plt", ".plt.sec", ".plt.got"};
    /** Far more than any real object has; bounds the work on a corrupt file. */
    private static final int MAX_ENTRIES = 1 << 20;

    /** A PLT entry: its link-time address, size and name ("malloc@plt"). */
    record Entry(long address, long size, String name) {}

    private PltEntries() {}

    /** The named PLT entries of {@code elf}; empty when it has no PLT or no dynamic relocations. */
    static List<Entry> of(ElfFile elf) throws IOException {
        List<long[]> stubs = new ArrayList<>(); // {address, size, GOT slot}
        for (String name : PLT_SECTIONS) {
            ElfFile.Section plt = elf.section(name);
            if (plt == null || plt.type() == ElfFile.SHT_NOBITS || plt.size() == 0) continue;
            long entrySize = plt.entsize() >= 8 && plt.entsize() <= 32 ? plt.entsize() : 16;
            if (plt.size() / entrySize > MAX_ENTRIES) continue;
            ByteBuffer code = elf.contents(plt);
            for (int at = 0; at + entrySize <= code.limit(); at += (int) entrySize) {
                long slot = jumpSlot(code, at, (int) entrySize, plt.addr());
                if (slot != 0) stubs.add(new long[] {plt.addr() + at, entrySize, slot});
            }
        }
        if (stubs.isEmpty()) return List.of();
        long[] slots = new long[stubs.size()];
        for (int i = 0; i < slots.length; i++) slots[i] = stubs.get(i)[2];
        Arrays.sort(slots);
        int distinct = 0;
        for (int i = 0; i < slots.length; i++) {
            if (distinct == 0 || slots[distinct - 1] != slots[i]) slots[distinct++] = slots[i];
        }
        slots = Arrays.copyOf(slots, distinct);
        String[] slotNames = new String[slots.length];
        for (ElfFile.Section s : elf.sections()) {
            if (s.type() == SHT_RELA) readRelocations(elf, s, slots, slotNames);
        }
        List<Entry> entries = new ArrayList<>();
        for (long[] stub : stubs) {
            String symbol = slotNames[Arrays.binarySearch(slots, stub[2])];
            if (symbol != null) entries.add(new Entry(stub[0], stub[1], symbol + "@plt"));
        }
        return entries;
    }

    /** The GOT slot an entry jumps through: the first {@code ff 25 disp32} in it, rip-relative; 0 when none. */
    private static long jumpSlot(ByteBuffer code, int entry, int entrySize, long sectionAddress) {
        for (int i = entry; i + 6 <= entry + entrySize; i++) {
            if ((code.get(i) & 0xff) == 0xff && (code.get(i + 1) & 0xff) == 0x25) {
                long next = sectionAddress + i + 6;
                return next + code.getInt(i + 2);
            }
        }
        return 0;
    }

    /**
     * Names each of the sorted {@code slots} that a relocation of {@code rela} names a symbol for
     * (the first such relocation wins). The relocations, megabytes in a big C++ library, are read
     * once in pieces; only the few that hit a slot are looked up.
     */
    private static void readRelocations(ElfFile elf, ElfFile.Section rela, long[] slots, String[] slotNames)
            throws IOException {
        List<ElfFile.Section> sections = elf.sections();
        if (rela.link() <= 0 || rela.link() >= sections.size()) return;
        ElfFile.Section symbols = sections.get(rela.link());
        if (symbols.link() <= 0 || symbols.link() >= sections.size()) return;
        ByteBuffer syms = null;
        ByteBuffer strings = null;
        ByteBuffer piece = ElfFile.pieceBuffer();
        long read = 0;
        long limit = Math.min(rela.size(), (long) MAX_ENTRIES * RELA_SIZE);
        for (ByteBuffer relocations; read < limit && (relocations = elf.piece(rela, read, piece, RELA_SIZE)).hasRemaining();
             read += relocations.limit()) {
            for (int b = 0; b + RELA_SIZE <= relocations.limit(); b += RELA_SIZE) {
                long symbol = relocations.getLong(b + 8) >>> 32;
                if (symbol == 0) continue; // most relocations of a big library name none
                int slot = Arrays.binarySearch(slots, relocations.getLong(b));
                if (slot < 0 || slotNames[slot] != null) continue;
                if (syms == null) {
                    syms = elf.contents(symbols);
                    strings = elf.contents(sections.get(symbols.link()));
                }
                long at = symbol * SYM_SIZE;
                if (at + SYM_SIZE > syms.limit()) continue;
                String name = ElfFile.cString(strings, syms.getInt((int) at));
                if (!name.isEmpty()) slotNames[slot] = name;
            }
        }
    }

    /** The entries' names as one string table (NUL-terminated, in order) for {@link SymbolTableBuilder}. */
    static ByteBuffer stringTable(List<Entry> entries, int[] offsets) {
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        table.write(0);  // offset 0 is the empty name, as in ELF string tables
        for (int i = 0; i < entries.size(); i++) {
            offsets[i] = table.size();
            table.writeBytes(entries.get(i).name().getBytes(StandardCharsets.UTF_8));
            table.write(0);
        }
        return ByteBuffer.wrap(table.toByteArray());
    }
}
