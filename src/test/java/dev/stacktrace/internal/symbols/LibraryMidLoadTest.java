package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Maps read while the dynamic loader is half-way through loading a library show that library as
 * one read-only mapping of its whole extent (the loader's first mmap, before it maps each segment
 * in place). Such a snapshot must not stay: before, every address in the library was found in that
 * mapping, no re-read was ever asked, and its code counted as data (no frame there was code) for
 * the life of the process.
 */
class LibraryMidLoadTest {

    @Test
    void aSnapshotTakenWhileALibraryLoadsIsReadAgain() throws IOException {
        List<String> real = Files.readAllLines(Path.of("/proc/self/maps"));
        List<String> midLoad = asIfLoading(real, "libc.so.6");
        AtomicInteger reads = new AtomicInteger();
        AddressSpace space = new AddressSpace(() -> ProcessMaps.parse(reads.getAndIncrement() == 0 ? midLoad : real),
                new ElfObjectCache(), new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), 0);
        Symbolizer symbolizer = new Symbolizer(space, UnaryOperator.identity());

        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        assertTrue(symbolizer.isCode(getpid), "libc's text seen as data after " + reads.get() + " reads of the maps");
        assertEquals("getpid", symbolizer.resolve(getpid, false).name());
        assertEquals(2, reads.get(), "the half-loaded snapshot, then one re-read");
    }

    /** The maps with every mapping of the library replaced by one r--p mapping at offset 0 over its whole extent. */
    private static List<String> asIfLoading(List<String> maps, String library) {
        List<String> out = new ArrayList<>();
        String first = null;
        long start = Long.MAX_VALUE, end = 0;
        for (String line : maps) {
            Mapping m = ProcessMaps.parseLine(line);
            if (m != null && m.path() != null && m.path().endsWith("/" + library)) {
                if (first == null) first = line;
                start = Math.min(start, m.start());
                end = Math.max(end, m.end());
            } else {
                out.add(line);
            }
        }
        assertTrue(first != null, library + " not in /proc/self/maps");
        String[] f = first.trim().split("\\s+", 6);
        out.add(Long.toHexString(start) + "-" + Long.toHexString(end) + " r--p 00000000 " + f[3] + " " + f[4] + " " + f[5]);
        return out;
    }
}
