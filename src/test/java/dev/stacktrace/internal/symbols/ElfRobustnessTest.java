package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfRobustnessTest {

    @TempDir
    Path dir;

    private final ElfObjectLoader loader = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT));

    private static Path libc() {
        return Path.of(Symbolizer.shared().resolve(NativeOracle.address(NativeOracle.libc(), "getpid"), false).path());
    }

    private void assertNoSymbols(Path file, String expectedFailure) {
        ElfObject object = loader.loadFile(file);
        assertNotNull(object.failure(), "failure remembered for " + file);
        assertTrue(object.failure().contains(expectedFailure), object.failure());
        assertEquals(0, object.symbols().size());
        assertEquals(-1, object.symbols().indexOf(0x1000));
        assertEquals(ElfObject.NO_BIAS, object.biasFor(new Mapping(0x1000, 0x2000, "r-xp", 0, "00:00", 1, file.toString(), false)));
    }

    @Test
    void nonElfFile() throws IOException {
        Path text = Files.writeString(dir.resolve("text.so"), "hello, this is not an ELF file at all\n".repeat(100));
        assertNoSymbols(text, "not an ELF");
        assertThrows(ElfFormatException.class, () -> ElfFile.parse(ElfBytes.of(ByteBuffer.wrap(Files.readAllBytes(text)))));
    }

    @Test
    void emptyAndMissingFiles() throws IOException {
        assertNoSymbols(Files.createFile(dir.resolve("empty.so")), "not an ELF");
        assertNoSymbols(dir.resolve("missing.so"), "NoSuchFile");
    }

    @Test
    void truncatedElfFiles() throws IOException {
        byte[] whole = Files.readAllBytes(libc());
        for (int length : new int[] {4, 20, 63, 64, 200, 4096, whole.length / 2, whole.length - 100}) {
            Path cut = Files.write(dir.resolve("cut" + length + ".so"), Arrays.copyOf(whole, length));
            // Section headers sit at the end of the file, so every cut loses them.
            assertNoSymbols(cut, length < 64 ? "ELF" : "outside image");
        }
    }

    @Test
    void thirtyTwoBitAndBigEndianElf() throws IOException {
        byte[] header = Arrays.copyOf(Files.readAllBytes(libc()), 4096);
        header[4] = 1; // ELFCLASS32
        assertNoSymbols(Files.write(dir.resolve("elf32.so"), header), "64-bit");
        header[4] = 2;
        header[5] = 2; // ELFDATA2MSB
        assertNoSymbols(Files.write(dir.resolve("elfbe.so"), header), "little-endian");
    }

    @Test
    void intactCopyStillLoads() throws IOException {
        Path copy = Files.copy(libc(), dir.resolve("libc-copy.so.6"));
        ElfObject object = loader.loadFile(copy);
        assertEquals(null, object.failure());
        assertTrue(object.symbols().size() > 1000, "symbols: " + object.symbols().size());
        assertEquals(4, object.segments().size(), "libc has four PT_LOADs");
    }

    @Test
    void fileReplacedAfterMappingIsReadThroughTheMappedFile() throws IOException {
        // What was mapped: a copy of libc; what the path now holds: something else.
        Path mapFiles = Files.createDirectories(dir.resolve("map_files"));
        Files.copy(libc(), mapFiles.resolve("7f0000000000-7f0000001000"));
        Path path = Files.write(dir.resolve("libc-replaced.so.6"), new byte[] {1, 2, 3});
        long inode = (Long) Files.getAttribute(path, "unix:ino");
        Mapping mapped = new Mapping(0x7f0000000000L, 0x7f0000001000L, "r--p", 0, "00:00", inode + 1, path.toString(), false);

        ElfObject object = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT), mapFiles).load(mapped, () -> List.of(mapped));
        assertEquals(null, object.failure());
        assertTrue(object.symbols().size() > 1000, "symbols: " + object.symbols().size());
        assertEquals(path.toString(), object.path());

        ElfObject unreachable = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT),
                dir.resolve("no-map-files")).load(mapped, () -> List.of(mapped));
        assertTrue(unreachable.failure().contains("replaced"), unreachable.failure());
        assertEquals(0, unreachable.symbols().size());
    }
}
