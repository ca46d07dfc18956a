package dev.stacktrace.internal.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Finds the separate debug file of an object, the way gdb does: by build-id under
 * /usr/lib/debug/.build-id/, then by the .gnu_debuglink name next to the object, in its .debug/
 * directory, and under /usr/lib/debug/ + its directory. A candidate is used only when its build-id
 * equals the object's, or (without build-ids on both sides) when its CRC32 matches the debuglink's.
 */
final class DebugFileLocator {

    static final Path DEFAULT_ROOT = Path.of("/usr/lib/debug");
    /** Checksumming a bigger file than this costs more than a missing name is worth. */
    private static final long MAX_CRC_BYTES = 512L << 20;
    private static final long CRC_CHUNK = 64L << 20;

    /** An opened debug file; the caller closes it once its symbols are read. */
    record Found(Path path, ElfBytes bytes, ElfFile elf) {}

    private final Path root;

    DebugFileLocator(Path root) {
        this.root = root;
    }

    /** The verified debug file for {@code object} (already parsed as {@code elf}), or null. */
    Found find(Path object, ElfFile elf) {
        byte[] id = elf.buildId();
        if (id != null && id.length >= 2) {
            String hex = HexFormat.of().formatHex(id);
            Path p = root.resolve(".build-id").resolve(hex.substring(0, 2)).resolve(hex.substring(2) + ".debug");
            Found f = open(p, object, elf, null);
            if (f != null) {
                return f;
            }
        }
        ElfFile.DebugLink link = elf.debugLink();
        if (link == null) {
            return null;
        }
        for (Path dir : directoriesOf(object)) {
            for (Path p : new Path[] {dir.resolve(link.fileName()), dir.resolve(".debug").resolve(link.fileName()),
                    underRoot(dir).resolve(link.fileName())}) {
                Found f = open(p, object, elf, link);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    /** The object's directory as mapped and as resolved through symlinks (/lib vs /usr/lib). */
    private static Set<Path> directoriesOf(Path object) {
        Set<Path> dirs = new LinkedHashSet<>();
        Path parent = object.toAbsolutePath().getParent();
        if (parent != null) {
            dirs.add(parent);
        }
        try {
            Path real = object.toRealPath().getParent();
            if (real != null) {
                dirs.add(real);
            }
        } catch (IOException | RuntimeException e) {
            // Keep the mapped directory only.
        }
        return dirs;
    }

    private Path underRoot(Path dir) {
        return root.resolve(dir.toString().substring(1)); // drop the leading '/'
    }

    private static Found open(Path candidate, Path object, ElfFile elf, ElfFile.DebugLink link) {
        if (!Files.isRegularFile(candidate)) {
            return null;
        }
        ElfBytes bytes = null;
        try {
            if (Files.isSameFile(candidate, object)) {
                return null; // a debuglink naming the object itself
            }
            bytes = ElfBytes.open(candidate);
            ElfFile debug = ElfFile.parse(bytes);
            boolean matches = elf.buildId() != null && debug.buildId() != null
                    ? elf.sameBuildId(debug)
                    : link != null && crcMatches(candidate, link.crc());
            if (matches) {
                return new Found(candidate, bytes, debug);
            }
        } catch (IOException | RuntimeException e) {
            // Unreadable or not ELF: not our debug file.
        }
        closeQuietly(bytes);
        return null;
    }

    static boolean crcMatches(Path file, int expected) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_CRC_BYTES) {
                return false;
            }
            CRC32 crc = new CRC32();
            for (long pos = 0; pos < size; pos += CRC_CHUNK) {
                ByteBuffer chunk = ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.min(CRC_CHUNK, size - pos));
                crc.update(chunk);
            }
            return (int) crc.getValue() == expected;
        }
    }

    static void closeQuietly(ElfBytes bytes) {
        if (bytes != null) {
            try {
                bytes.close();
            } catch (IOException e) {
                // Nothing to do: the file was only read.
            }
        }
    }
}
