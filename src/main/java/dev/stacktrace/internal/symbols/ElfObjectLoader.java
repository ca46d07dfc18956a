package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Supplier;

/** Reads an ELF object (a mapped file, or the vdso from this process's memory) into an {@link ElfObject}. */
final class ElfObjectLoader {

    private static final Path SELF_MEM = Path.of("/proc/self/mem");
    static final Path SELF_MAP_FILES = Path.of("/proc/self/map_files");
    /** The vdso is a few pages; anything bigger is not what we expect. */
    private static final long MAX_VDSO = 1 << 20;

    private final DebugFileLocator debugFiles;
    private final Path mapFiles;

    ElfObjectLoader(DebugFileLocator debugFiles) {
        this(debugFiles, SELF_MAP_FILES);
    }

    /** @param mapFiles the directory of mapped files by address range (/proc/self/map_files) */
    ElfObjectLoader(DebugFileLocator debugFiles, Path mapFiles) {
        this.debugFiles = debugFiles;
        this.mapFiles = mapFiles;
    }

    /**
     * Loads the object mapped by {@code m}. Its symbols come from the file on disk while that is
     * still the mapped file (the same inode); a file deleted or replaced since it was mapped
     * (JNI libraries extracted to a temporary file and removed at once) is read through
     * /proc/self/map_files/, which reaches the mapped file itself, else from its image in memory
     * ({@link MappedImage}: dynamic symbols only). {@code sameFile}: every mapping of that file.
     * Never throws: failures come back as {@link ElfObject#failed}.
     */
    ElfObject load(Mapping m, Supplier<List<Mapping>> sameFile) {
        Path onDisk = Path.of(m.path());
        if (!m.deleted() && isMappedFile(onDisk, m)) {
            return loadFile(onDisk, onDisk);
        }
        ElfObject mapped = loadFile(mapFiles.resolve(Long.toHexString(m.start()) + "-" + Long.toHexString(m.end())), onDisk);
        if (mapped.failure() == null) {
            return mapped;
        }
        // Opening map_files needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN: otherwise what the
        // loader put in memory, the dynamic symbols, is all there is.
        try {
            return build(m.path(), ElfFile.parse(ElfBytes.of(MappedImage.rebuild(sameFile.get()))), null);
        } catch (IOException | RuntimeException e) {
            String why = m.deleted() ? "file deleted" : "file replaced on disk since it was mapped";
            return ElfObject.failed(m.path(), why + "; /proc/self/map_files/ unreadable (" + mapped.failure()
                    + "); in-memory image: " + describe(e));
        }
    }

    /**
     * True unless the file at {@code path} is provably another file than the one mapped: another
     * inode. The device is not compared: on overlayfs (containers) the maps give the underlying
     * file system's device while stat gives the overlay's, for the very same file.
     */
    private static boolean isMappedFile(Path path, Mapping m) {
        try {
            return !(Files.getAttribute(path, "unix:ino") instanceof Long ino) || ino == m.inode();
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            return true; // no unix attribute view: trust the path rather than lose the symbols
        }
    }

    /** Loads the ELF file at {@code file} as it is now. */
    ElfObject loadFile(Path file) {
        return loadFile(file, file);
    }

    /**
     * Parses the ELF image readable at {@code image}; {@code original} is the object's own path
     * (reports, and the directory its .gnu_debuglink is looked up in).
     */
    private ElfObject loadFile(Path image, Path original) {
        String name = original.toString();
        try (ElfBytes bytes = ElfBytes.open(image)) {
            ElfFile elf = ElfFile.parse(bytes);
            DebugFileLocator.Found debug = debugFiles.find(original, elf);
            try {
                return build(name, elf, debug);
            } finally {
                if (debug != null) {
                    DebugFileLocator.closeQuietly(debug.bytes());
                }
            }
        } catch (IOException | RuntimeException e) {
            return ElfObject.failed(name, describe(e));
        }
    }

    /** Copies the vdso out of this process's memory and parses that copy. */
    ElfObject loadVdso(Mapping vdso) {
        long length = vdso.end() - vdso.start();
        if (length <= 0 || length > MAX_VDSO) {
            return ElfObject.failed("[vdso]", "unexpected vdso size " + length);
        }
        ByteBuffer image = ByteBuffer.allocate((int) length);
        try (FileChannel mem = FileChannel.open(SELF_MEM, StandardOpenOption.READ)) {
            while (image.hasRemaining()) {
                if (mem.read(image, vdso.start() + image.position()) <= 0) {
                    break;
                }
            }
            image.flip();
            return build("[vdso]", ElfFile.parse(ElfBytes.of(image)), null);
        } catch (IOException | RuntimeException e) {
            return ElfObject.failed("[vdso]", describe(e));
        }
    }

    private static ElfObject build(String name, ElfFile elf, DebugFileLocator.Found debug) throws IOException {
        SymbolTableBuilder symbols = new SymbolTableBuilder();
        symbols.add(elf, elf.sectionOfType(ElfFile.SHT_DYNSYM), true);
        symbols.add(elf, elf.sectionOfType(ElfFile.SHT_SYMTAB), false);
        try {
            symbols.addPlt(PltEntries.of(elf));
        } catch (IOException | RuntimeException e) {
            // A PLT that does not decode costs its stubs' names, never the object's symbols.
        }
        String debugPath = null;
        if (debug != null) {
            symbols.add(debug.elf(), debug.elf().sectionOfType(ElfFile.SHT_SYMTAB), false);
            debugPath = debug.path().toString();
        }
        return new ElfObject(name, elf.loadSegments(), symbols.build(), debugPath, null, hex(elf.buildId()));
    }

    private static String hex(byte[] bytes) {
        if (bytes == null || bytes.length == 0) return null;
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        return sb.toString();
    }

    private static String describe(Exception e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
