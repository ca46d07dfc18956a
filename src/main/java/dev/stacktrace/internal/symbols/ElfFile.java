package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The headers of an ELF64 little-endian image: sections, PT_LOAD segments, build-id and
 * .gnu_debuglink. Section contents are read on demand through {@link #contents}.
 */
final class ElfFile {

    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;
    static final int SHT_NOTE = 7;
    static final int SHT_NOBITS = 8;
    static final int SHT_DYNSYM = 11;
    static final long SHF_EXECINSTR = 0x4;
    static final long SHF_COMPRESSED = 0x800;
    /** sizeof(Elf64_Sym) */
    static final int SYM_SIZE = 24;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int NT_GNU_BUILD_ID = 3;
    private static final int EHDR_SIZE = 64;
    private static final int SHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    /** Guards against absurd header counts in corrupt files. */
    private static final int MAX_HEADERS = 65_536;

    record Section(int index, String name, int type, long flags, long addr, long offset, long size, int link,
                   long entsize) {
        boolean executable() {
            return (flags & SHF_EXECINSTR) != 0;
        }
    }

    record Segment(long offset, long vaddr, long filesz, long memsz, int flags) {}

    record DebugLink(String fileName, int crc) {}

    private final ElfBytes bytes;
    private final List<Section> sections;
    private final List<Segment> loads;
    private final byte[] buildId;
    private final DebugLink debugLink;

    private ElfFile(ElfBytes bytes) throws IOException {
        this.bytes = bytes;
        ByteBuffer eh = bytes.read(0, Math.min(EHDR_SIZE, bytes.size()));
        if (eh.limit() < 16 || eh.getInt(0) != 0x464c457f) {
            throw new ElfFormatException("not an ELF file");
        }
        if (eh.get(4) != 2) {
            throw new ElfFormatException("not a 64-bit ELF file");
        }
        if (eh.get(5) != 1) {
            throw new ElfFormatException("not a little-endian ELF file");
        }
        if (eh.limit() < EHDR_SIZE) {
            throw new ElfFormatException("truncated ELF header");
        }
        this.loads = readLoads(eh);
        this.sections = readSections(eh);
        this.buildId = findBuildId();
        this.debugLink = readDebugLink();
    }

    /** Parses the headers; throws {@link ElfFormatException} for anything not ELF64 LE or truncated. */
    static ElfFile parse(ElfBytes bytes) throws IOException {
        return new ElfFile(bytes);
    }

    private List<Segment> readLoads(ByteBuffer eh) throws IOException {
        long phoff = eh.getLong(0x20);
        int phentsize = Short.toUnsignedInt(eh.getShort(0x36));
        int phnum = Short.toUnsignedInt(eh.getShort(0x38));
        if (phoff == 0 || phnum == 0) {
            return List.of();
        }
        if (phentsize < PHDR_SIZE) {
            throw new ElfFormatException("bad program header size " + phentsize);
        }
        ByteBuffer ph = bytes.read(phoff, (long) phentsize * phnum);
        List<Segment> out = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int base = i * phentsize;
            if (ph.getInt(base) == PT_LOAD) {
                out.add(new Segment(ph.getLong(base + 8), ph.getLong(base + 0x10), ph.getLong(base + 0x20),
                        ph.getLong(base + 0x28), ph.getInt(base + 4)));
            }
        }
        return List.copyOf(out);
    }

    private List<Section> readSections(ByteBuffer eh) throws IOException {
        long shoff = eh.getLong(0x28);
        int shentsize = Short.toUnsignedInt(eh.getShort(0x3a));
        long shnum = Short.toUnsignedInt(eh.getShort(0x3c));
        int shstrndx = Short.toUnsignedInt(eh.getShort(0x3e));
        if (shoff == 0) {
            return List.of();
        }
        if (shentsize < SHDR_SIZE) {
            throw new ElfFormatException("bad section header size " + shentsize);
        }
        if (shnum == 0 || shstrndx == 0xffff) {
            // Extended numbering: the real values live in section header 0.
            ByteBuffer first = bytes.read(shoff, SHDR_SIZE);
            if (shnum == 0) {
                shnum = first.getLong(0x20);
            }
            if (shstrndx == 0xffff) {
                shstrndx = first.getInt(0x28);
            }
        }
        if (shnum <= 0 || shnum > MAX_HEADERS) {
            throw new ElfFormatException("bad section count " + shnum);
        }
        int n = (int) shnum;
        ByteBuffer sh = bytes.read(shoff, (long) shentsize * n);
        ByteBuffer names = null;
        if (shstrndx > 0 && shstrndx < n) {
            int b = shstrndx * shentsize;
            names = bytes.read(sh.getLong(b + 0x18), sh.getLong(b + 0x20));
        }
        List<Section> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int b = i * shentsize;
            String name = names == null ? "" : cString(names, sh.getInt(b));
            out.add(new Section(i, name, sh.getInt(b + 4), sh.getLong(b + 8), sh.getLong(b + 0x10),
                    sh.getLong(b + 0x18), sh.getLong(b + 0x20), sh.getInt(b + 0x28), sh.getLong(b + 0x38)));
        }
        return List.copyOf(out);
    }

    private byte[] findBuildId() throws IOException {
        for (Section s : sections) {
            if (s.type() == SHT_NOTE) {
                byte[] id = buildIdIn(contents(s));
                if (id != null) {
                    return id;
                }
            }
        }
        if (sections.isEmpty()) {
            return buildIdFromProgramNotes();
        }
        return null;
    }

    private byte[] buildIdFromProgramNotes() throws IOException {
        ByteBuffer eh = bytes.read(0, EHDR_SIZE);
        long phoff = eh.getLong(0x20);
        int phentsize = Short.toUnsignedInt(eh.getShort(0x36));
        int phnum = Short.toUnsignedInt(eh.getShort(0x38));
        if (phoff == 0 || phnum == 0) {
            return null;
        }
        ByteBuffer ph = bytes.read(phoff, (long) phentsize * phnum);
        for (int i = 0; i < phnum; i++) {
            int b = i * phentsize;
            if (ph.getInt(b) == PT_NOTE) {
                byte[] id = buildIdIn(bytes.read(ph.getLong(b + 8), ph.getLong(b + 0x20)));
                if (id != null) {
                    return id;
                }
            }
        }
        return null;
    }

    /** Notes: namesz, descsz, type, then name and desc each padded to 4 bytes. */
    private static byte[] buildIdIn(ByteBuffer notes) {
        int p = 0;
        while (p + 12 <= notes.limit()) {
            long namesz = Integer.toUnsignedLong(notes.getInt(p));
            long descsz = Integer.toUnsignedLong(notes.getInt(p + 4));
            int type = notes.getInt(p + 8);
            long nameAt = p + 12L;
            long descAt = nameAt + align4(namesz);
            long next = descAt + align4(descsz);
            if (next > notes.limit()) {
                return null;
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && notes.getInt((int) nameAt) == 0x00554e47 /* "GNU\0" */
                    && descsz > 0) {
                byte[] id = new byte[(int) descsz];
                notes.get((int) descAt, id);
                return id;
            }
            p = (int) next;
        }
        return null;
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    /** .gnu_debuglink: a NUL-terminated file name, padding to 4 bytes, then a CRC32 of the debug file. */
    private DebugLink readDebugLink() throws IOException {
        Section s = section(".gnu_debuglink");
        if (s == null || s.type() == SHT_NOBITS) {
            return null;
        }
        ByteBuffer b = contents(s);
        String name = cString(b, 0);
        int crcAt = (int) align4(name.getBytes(StandardCharsets.UTF_8).length + 1L);
        if (name.isEmpty() || name.contains("/") || crcAt + 4 > b.limit()) {
            return null;
        }
        return new DebugLink(name, b.getInt(crcAt));
    }

    /** The NUL-terminated string at {@code offset}, or "" when the offset is outside the table. */
    static String cString(ByteBuffer table, int offset) {
        if (offset < 0 || offset >= table.limit()) {
            return "";
        }
        int end = offset;
        while (end < table.limit() && table.get(end) != 0) {
            end++;
        }
        byte[] out = new byte[end - offset];
        table.get(offset, out);
        return new String(out, StandardCharsets.UTF_8);
    }

    /** Contents of a section; empty for NOBITS (debug files keep only headers of code sections). */
    ByteBuffer contents(Section s) throws IOException {
        if (s.type() == SHT_NOBITS || s.size() == 0) {
            return ByteBuffer.allocate(0);
        }
        return bytes.read(s.offset(), s.size());
    }

    /**
     * A piece of {@code s} for a scan that reads a big table once (symbols, relocations, a string
     * table searched): its bytes from {@code from}, as many whole {@code entrySize}-byte entries as
     * {@code buffer} holds, copied into {@code buffer}, which comes back flipped (empty at the end).
     * A copy through one small buffer, where a mapping would stay resident until the collector
     * frees it.
     */
    ByteBuffer piece(Section s, long from, ByteBuffer buffer, int entrySize) throws IOException {
        buffer.clear();
        long size = s.type() == SHT_NOBITS ? 0 : s.size();
        long left = from < size ? size - from : 0;
        int length = (int) Math.min(left, buffer.capacity() / entrySize * entrySize);
        buffer.limit(length);
        bytes.readFully(s.offset() + from, buffer);
        return buffer.flip();
    }

    /**
     * The string section of the symbol section {@code symbols} (SYMTAB or DYNSYM), or null when
     * either cannot be read as it is: absent, without contents, compressed, or linked to no string table.
     */
    Section stringsOf(Section symbols) {
        if (symbols == null || symbols.type() == SHT_NOBITS || (symbols.flags() & SHF_COMPRESSED) != 0
                || symbols.link() <= 0 || symbols.link() >= sections.size()) {
            return null;
        }
        Section strings = sections.get(symbols.link());
        return strings.type() == SHT_STRTAB && (strings.flags() & SHF_COMPRESSED) == 0 ? strings : null;
    }

    /** The size of one entry of a symbol section: its sh_entsize when plausible, else ELF64's 24. */
    static int symbolSize(Section symbols) {
        return symbols.entsize() >= SYM_SIZE && symbols.entsize() < 1024 ? (int) symbols.entsize() : SYM_SIZE;
    }

    /** Fails unless the section's bytes lie inside the image (a corrupt header can claim any size). */
    void requireInImage(Section s) throws ElfFormatException {
        if (s.type() != SHT_NOBITS && (s.offset() < 0 || s.size() < 0 || s.offset() > bytes.size()
                || s.size() > bytes.size() - s.offset())) {
            throw new ElfFormatException("section " + s.name() + " at " + s.offset() + "+" + s.size()
                    + " outside image of " + bytes.size() + " bytes");
        }
    }

    /** A buffer for {@link #piece}: little-endian, big enough for long runs of reads, small enough to stay young. */
    static ByteBuffer pieceBuffer() {
        return pieceBuffer(64 * 1024);
    }

    static ByteBuffer pieceBuffer(int capacity) {
        return ByteBuffer.allocate(capacity).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    Section section(String name) {
        for (Section s : sections) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** First section of the given type (SHT_SYMTAB, SHT_DYNSYM), or null. */
    Section sectionOfType(int type) {
        for (Section s : sections) {
            if (s.type() == type) {
                return s;
            }
        }
        return null;
    }

    List<Section> sections() {
        return sections;
    }

    List<Segment> loadSegments() {
        return loads;
    }

    byte[] buildId() {
        return buildId == null ? null : buildId.clone();
    }

    boolean sameBuildId(ElfFile other) {
        return buildId != null && other.buildId != null && Arrays.equals(buildId, other.buildId);
    }

    DebugLink debugLink() {
        return debugLink;
    }

    long imageSize() {
        return bytes.size();
    }
}
