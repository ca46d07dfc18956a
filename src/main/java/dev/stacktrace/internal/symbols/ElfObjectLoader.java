package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Reads an ELF object (a file, or the vdso from this process's memory) into an {@link ElfObject}. */
final class ElfObjectLoader {

    private static final Path SELF_MEM = Path.of("/proc/self/mem");
    /** The vdso is a few pages; anything bigger is not what we expect. */
    private static final long MAX_VDSO = 1 << 20;

    private final DebugFileLocator debugFiles;

    ElfObjectLoader(DebugFileLocator debugFiles) {
        this.debugFiles = debugFiles;
    }

    /**
     * Loads the file at {@code path}. {@code expectedInode} (0 to skip the check) guards against a
     * file replaced on disk after it was mapped: its symbols would be wrong, so it gets none.
     * Never throws: failures come back as {@link ElfObject#failed}.
     */
    ElfObject loadFile(Path path, long expectedInode) {
        String name = path.toString();
        try {
            if (expectedInode != 0) {
                Object inode = Files.getAttribute(path, "unix:ino");
                if (inode instanceof Long ino && ino != expectedInode) {
                    return ElfObject.failed(name, "file replaced on disk since it was mapped");
                }
            }
        } catch (IOException | RuntimeException e) {
            // No unix attribute view: skip the check rather than lose the symbols.
        }
        try (ElfBytes bytes = ElfBytes.open(path)) {
            ElfFile elf = ElfFile.parse(bytes);
            DebugFileLocator.Found debug = debugFiles.find(path, elf);
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
        String debugPath = null;
        if (debug != null) {
            symbols.add(debug.elf(), debug.elf().sectionOfType(ElfFile.SHT_SYMTAB), false);
            debugPath = debug.path().toString();
        }
        return new ElfObject(name, elf.loadSegments(), symbols.build(), debugPath, null);
    }

    private static String describe(Exception e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
