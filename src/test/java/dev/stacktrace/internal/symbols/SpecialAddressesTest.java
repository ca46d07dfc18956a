package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecialAddressesTest {

    @TempDir
    Path dir;

    @Test
    void addressWithoutMappingIsUnknown() {
        for (long address : new long[] {0x10, 0, -1L, 0x10 + 1}) {
            ResolvedAddress r = Symbolizer.shared().resolve(address, address == 0x11);
            assertEquals("[unknown]@0x" + Long.toHexString(address), r.name());
            assertEquals(0, r.offset());
            assertEquals("[unknown]", r.library());
            assertNull(r.path());
            assertFalse(r.inJvm());
            assertFalse(r.hasName());
        }
    }

    @Test
    void anonymousExecutableMemoryIsTheJvmCodeCache() {
        Mapping codeCache = ProcessMaps.readSelf().all().stream()
                .filter(m -> m.anonymous() && m.executable())
                .findFirst().orElseThrow(() -> new AssertionError("no anonymous executable mapping in a JVM"));
        ResolvedAddress r = Symbolizer.shared().resolve(codeCache.start() + 16, false);
        assertEquals("[jit]", r.library());
        assertEquals("[jit]@0x" + Long.toHexString(codeCache.start() + 16), r.name());
        assertFalse(r.hasName());
        assertTrue(r.inJvm());
        assertNull(r.path());
    }

    /** glibc's own dlsym on the vdso is the oracle for the vdso image read from /proc/self/mem. */
    @Test
    void vdsoFunctionsResolveFromTheInMemoryImage() {
        Function dlopen = NativeOracle.libc().getFunction("dlopen");
        Function dlsym = NativeOracle.libc().getFunction("dlsym");
        Pointer handle = dlopen.invokePointer(new Object[] {"linux-vdso.so.1", 1 | 4 /* RTLD_LAZY | RTLD_NOLOAD */});
        assertNotNull(handle, "glibc knows the vdso");
        Pointer fn = dlsym.invokePointer(new Object[] {handle, "__vdso_clock_gettime"});
        assertNotNull(fn);
        long address = Pointer.nativeValue(fn);

        ResolvedAddress r = Symbolizer.shared().resolve(address, false);
        assertEquals("[vdso]", r.library());
        assertTrue(Set.of("__vdso_clock_gettime", "clock_gettime").contains(r.name()), r.toString());
        assertEquals(0, r.offset());
        assertNull(r.path());
        assertEquals(r.name(), Symbolizer.shared().resolve(address + 7, true).name());
        assertEquals(7, Symbolizer.shared().resolve(address + 7, true).offset());
    }

    @Test
    void mappedNonElfFileHasNoNamesButKeepsItsLibraryAndFailure() throws IOException {
        Path file = dir.resolve("not an elf.bin");
        Files.write(file, "just some text, not an ELF image\n".repeat(300).getBytes(StandardCharsets.US_ASCII));
        Symbolizer symbolizer = TestSymbolizers.fresh(0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, Files.size(file));
            long address = Pointer.nativeValue(Native.getDirectBufferPointer(mapped)) + 100;
            ResolvedAddress r = symbolizer.resolve(address, false);
            assertEquals("not an elf.bin+0x64", r.name());
            assertFalse(r.hasName());
            assertEquals("not an elf.bin", r.library());
            assertEquals(file.toRealPath().toString(), r.path());
            String failure = symbolizer.failureAt(address);
            assertNotNull(failure);
            assertTrue(failure.contains("not an ELF"), failure);
            Reference.reachabilityFence(mapped);
        }
    }

    /** A file deleted while mapped is read through /proc/self/map_files/ (libc's vaddrs equal its file offsets). */
    @Test
    void deletedFileIsNamedFromItsMapping() throws IOException {
        Path copy = dir.resolve("libcopy.so");
        Path libc = Path.of(Symbolizer.shared().resolve(NativeOracle.address(NativeOracle.libc(), "getpid"), false).path());
        Files.copy(libc, copy);
        long getpid = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)).loadFile(libc)
                .symbols().startOf("getpid");
        Symbolizer symbolizer = TestSymbolizers.fresh(0);
        try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, Files.size(copy));
            long base = Pointer.nativeValue(Native.getDirectBufferPointer(mapped));
            Files.delete(copy);
            ResolvedAddress r = symbolizer.resolve(base + getpid + 3, false);
            assertEquals("libcopy.so", r.library());
            assertEquals("getpid", r.name());
            assertEquals(3, r.offset());
            assertNull(symbolizer.failureAt(base + getpid));
            Reference.reachabilityFence(mapped);
        }
    }

    @Test
    void mappingsAreRereadForUncoveredAddressesButNotTooOften() throws IOException {
        Path file = dir.resolve("late.bin");
        Files.write(file, new byte[8192]);
        Symbolizer throttled = TestSymbolizers.fresh(Long.MAX_VALUE);
        Symbolizer eager = TestSymbolizers.fresh(0);
        throttled.resolve(0x10, false); // first read of the maps, before the file is mapped
        eager.resolve(0x10, false);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 8192);
            long address = Pointer.nativeValue(Native.getDirectBufferPointer(mapped));
            assertEquals("[unknown]", throttled.resolve(address, false).library(), "no re-read within the interval");
            assertEquals("late.bin", eager.resolve(address, false).library());
            Reference.reachabilityFence(mapped);
        }
    }
}
