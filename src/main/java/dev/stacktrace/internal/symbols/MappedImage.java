package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * An object's dynamic symbols read from its image in this process's memory, for a mapped file that
 * can be reached no other way (deleted, and /proc/self/map_files/ closed to an unprivileged
 * process). The loaded image holds the ELF and program headers and, through PT_DYNAMIC, .dynsym
 * and .dynstr (.symtab and section headers are not loaded). They are copied into a small ELF image
 * of their own (headers, one code section, .dynsym, .dynstr) that the ordinary parser reads; only
 * function symbols are kept, all in that code section.
 */
final class MappedImage {

    private static final Path SELF_MEM = Path.of("/proc/self/mem");
    private static final int PT_DYNAMIC = 2;
    private static final int PT_LOAD = 1;
    private static final long DT_NULL = 0;
    private static final long DT_HASH = 4;
    private static final long DT_STRTAB = 5;
    private static final long DT_SYMTAB = 6;
    private static final long DT_STRSZ = 10;
    private static final long DT_GNU_HASH = 0x6ffffef5L;
    private static final int SYM_SIZE = 24;
    private static final int SHN_LORESERVE = 0xff00;
    private static final int SHN_ABS = 0xfff1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;
    /** Bounds on what a real object has, against a corrupt or foreign image. */
    private static final int MAX_SYMBOLS = 1 << 21;
    private static final int MAX_STRINGS = 64 << 20;
    private static final int MAX_PHDRS = 256;
    private static final int MAX_DYNAMIC = 4096;

    private MappedImage() {}

    /**
     * The synthetic ELF image of the object whose mappings are {@code mappings} (one file's, any
     * order). Throws IOException when the image cannot be read or is not what a loaded ELF object is.
     */
    static ByteBuffer rebuild(List<Mapping> mappings) throws IOException {
        long base = -1;
        for (Mapping m : mappings) {
            if (m.fileOffset() == 0 && (base == -1 || Long.compareUnsigned(m.start(), base) < 0)) base = m.start();
        }
        if (base == -1) throw new ElfFormatException("no mapping of the file's first page");
        try (FileChannel mem = FileChannel.open(SELF_MEM, StandardOpenOption.READ)) {
            ByteBuffer eh = read(mem, base, 64);
            if (eh.getInt(0) != 0x464c457f || eh.get(4) != 2 || eh.get(5) != 1) throw new ElfFormatException("not ELF64 LE in memory");
            long phoff = eh.getLong(0x20);
            int phentsize = Short.toUnsignedInt(eh.getShort(0x36));
            int phnum = Short.toUnsignedInt(eh.getShort(0x38));
            if (phentsize != 56 || phnum == 0 || phnum > MAX_PHDRS) throw new ElfFormatException("bad program headers");
            ByteBuffer ph = read(mem, base + phoff, phnum * 56);
            long dynamic = -1;
            long dynamicSize = 0;
            long textStart = Long.MAX_VALUE;
            long textEnd = 0;
            int loads = 0;
            for (int i = 0; i < phnum; i++) {
                int b = i * 56;
                int type = ph.getInt(b);
                if (type == PT_DYNAMIC) {
                    dynamic = ph.getLong(b + 0x10);
                    dynamicSize = ph.getLong(b + 0x28);
                } else if (type == PT_LOAD) {
                    loads++;
                    if ((ph.getInt(b + 4) & 1) != 0) {  // PF_X
                        textStart = Math.min(textStart, ph.getLong(b + 0x10));
                        textEnd = Math.max(textEnd, ph.getLong(b + 0x10) + ph.getLong(b + 0x28));
                    }
                }
            }
            if (dynamic < 0 || loads == 0 || textEnd == 0) throw new ElfFormatException("no PT_DYNAMIC or code segment");
            int entries = (int) Math.min(dynamicSize / 16, MAX_DYNAMIC);
            ByteBuffer dyn = read(mem, base + dynamic, entries * 16);
            long symtab = -1, strtab = -1, strsz = -1, hash = -1, gnuHash = -1;
            for (int i = 0; i < entries; i++) {
                long tag = dyn.getLong(i * 16);
                long value = dyn.getLong(i * 16 + 8);
                if (tag == DT_NULL) break;
                // glibc rewrites these to run-time addresses in place; the file has link-time ones
                long vaddr = Long.compareUnsigned(value, base) >= 0 ? value - base : value;
                if (tag == DT_SYMTAB) symtab = vaddr;
                else if (tag == DT_STRTAB) strtab = vaddr;
                else if (tag == DT_STRSZ) strsz = value;
                else if (tag == DT_HASH) hash = vaddr;
                else if (tag == DT_GNU_HASH) gnuHash = vaddr;
            }
            if (symtab < 0 || strtab < 0 || strsz <= 0 || strsz > MAX_STRINGS) throw new ElfFormatException("no dynamic symbols");
            int count = gnuHash >= 0 ? gnuHashCount(mem, base + gnuHash) : hash >= 0 ? hashCount(mem, base + hash) : -1;
            if (count <= 0 || count > MAX_SYMBOLS) throw new ElfFormatException("no symbol count in the hash tables");
            ByteBuffer syms = read(mem, base + symtab, count * SYM_SIZE);
            ByteBuffer strings = read(mem, base + strtab, (int) strsz);
            return image(ph, phnum, syms, count, strings, textStart, textEnd);
        }
    }

    /**
     * Headers, program headers, .dynsym (defined functions moved into section 1, the code), .dynstr,
     * and four section headers: null, code (flags AX), .dynsym, .dynstr.
     */
    private static ByteBuffer image(ByteBuffer ph, int phnum, ByteBuffer syms, int count, ByteBuffer strings,
                                    long textStart, long textEnd) {
        int phAt = 64;
        int symAt = phAt + phnum * 56;
        int strAt = symAt + count * SYM_SIZE;
        int shAt = (strAt + strings.limit() + 7) & ~7;
        ByteBuffer out = ByteBuffer.allocate(shAt + 4 * 64).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        out.putShort(0x10, (short) 3);  // ET_DYN
        out.putShort(0x12, (short) 62);  // EM_X86_64
        out.putLong(0x20, phAt).putLong(0x28, shAt);
        out.putShort(0x34, (short) 64).putShort(0x36, (short) 56).putShort(0x38, (short) phnum);
        out.putShort(0x3a, (short) 64).putShort(0x3c, (short) 4).putShort(0x3e, (short) 0);
        out.put(phAt, ph, 0, phnum * 56);
        out.put(symAt, syms, 0, count * SYM_SIZE);
        for (int i = 1; i < count; i++) {
            int sym = symAt + i * SYM_SIZE;
            int original = Short.toUnsignedInt(out.getShort(sym + 6));
            int type = out.get(sym + 4) & 0xf;
            boolean function = type == STT_FUNC || type == STT_GNU_IFUNC;
            // functions into the code section; other defined symbols (data) out of reach, as absolute
            if (original != 0 && original < SHN_LORESERVE) out.putShort(sym + 6, (short) (function ? 1 : SHN_ABS));
        }
        out.put(strAt, strings, 0, strings.limit());
        section(out, shAt + 64, 1, 0x6, textStart, textStart, textEnd - textStart, 0, 0);  // SHT_PROGBITS, AX
        section(out, shAt + 128, ElfFile.SHT_DYNSYM, 0x2, 0, symAt, (long) count * SYM_SIZE, 3, SYM_SIZE);
        section(out, shAt + 192, ElfFile.SHT_STRTAB, 0x2, 0, strAt, strings.limit(), 0, 0);
        return out;
    }

    private static void section(ByteBuffer out, int at, int type, long flags, long addr, long offset, long size,
                                int link, long entsize) {
        out.putInt(at + 4, type).putLong(at + 8, flags).putLong(at + 0x10, addr).putLong(at + 0x18, offset)
                .putLong(at + 0x20, size).putInt(at + 0x28, link).putLong(at + 0x38, entsize);
    }

    /** DT_HASH: nbucket, nchain, ...; nchain is the number of symbols. */
    private static int hashCount(FileChannel mem, long at) throws IOException {
        return read(mem, at, 8).getInt(4);
    }

    /**
     * DT_GNU_HASH has no count: the highest symbol is found from the buckets, then its chain is
     * followed to the entry whose low bit ends it.
     */
    private static int gnuHashCount(FileChannel mem, long at) throws IOException {
        ByteBuffer h = read(mem, at, 16);
        int nbuckets = h.getInt(0);
        int symoffset = h.getInt(4);
        int bloomSize = h.getInt(8);
        if (nbuckets <= 0 || nbuckets > MAX_SYMBOLS || bloomSize < 0 || bloomSize > MAX_SYMBOLS) return -1;
        long bucketsAt = at + 16 + 8L * bloomSize;
        ByteBuffer buckets = read(mem, bucketsAt, 4 * nbuckets);
        int last = 0;
        for (int i = 0; i < nbuckets; i++) last = Math.max(last, buckets.getInt(4 * i));
        if (last < symoffset) return symoffset;
        long chainsAt = bucketsAt + 4L * nbuckets;
        for (int i = last; i < MAX_SYMBOLS; i++) {
            if ((read(mem, chainsAt + 4L * (i - symoffset), 4).getInt(0) & 1) != 0) return i + 1;
        }
        return -1;
    }

    private static ByteBuffer read(FileChannel mem, long address, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (mem.read(buf, address + buf.position()) <= 0) throw new ElfFormatException("memory unreadable at 0x" + Long.toHexString(address));
        }
        return buf.flip();
    }
}
