package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A snapshot of the maps that shows a library's code as memory that cannot hold code must not
 * stay: every address in the library is found in some mapping, so no miss ever asks for a re-read,
 * and before, the library's frames were data (or {@code [unknown]}) for the life of the process.
 */
class StaleMapsTest {

    /**
     * Maps read while the dynamic loader is half-way through loading a library show it as one
     * read-only mapping of its whole extent (the loader's first mmap, before each segment is mapped
     * in place).
     */
    @Test
    void aSnapshotTakenWhileALibraryLoadsIsReadAgain() throws IOException {
        assertLibcFoundThrough(maps -> asIf(maps, "libc.so.6", f -> "r--p 00000000 " + f[3] + " " + f[4] + " " + f[5]));
    }

    /**
     * Maps read before a library was loaded where freed memory had been (an exited thread's stack)
     * show that memory, anonymous and not executable, where the library's code now is.
     */
    @Test
    void aSnapshotTakenBeforeALibraryLoadedIntoFreedMemoryIsReadAgain() throws IOException {
        assertLibcFoundThrough(maps -> asIf(maps, "libc.so.6", f -> "rw-p 00000000 00:00 0"));
    }

    /**
     * A garbage address asks for a re-read just before a library loads; the library's first address
     * must still get one, while a stream of garbage addresses gets no more than the ration.
     */
    @Test
    void aLibraryLoadedRightAfterAReadIsNamedAndGarbageIsRationed() throws IOException {
        List<String> real = Files.readAllLines(Path.of("/proc/self/maps"));
        List<String> before = real.stream().filter(l -> !l.endsWith("/libc.so.6")).toList();
        AtomicInteger reads = new AtomicInteger();
        long hour = 3_600_000_000_000L;
        AddressSpace space = new AddressSpace(() -> ProcessMaps.parse(reads.getAndIncrement() < 2 ? before : real),
                new ElfObjectCache(), new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), hour, 3);
        Symbolizer symbolizer = new Symbolizer(space, UnaryOperator.identity());

        assertEquals("[unknown]", symbolizer.resolve(0x10, false).library());
        assertEquals(2, reads.get(), "the first read, then one for the address in no mapping");
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        assertEquals("getpid", symbolizer.resolve(getpid, false).name(), "libc, loaded after that re-read");
        for (int i = 0; i < 1000; i++) {
            symbolizer.resolve(0x10 + 16L * i, false);
        }
        assertEquals(4, reads.get(), "three re-reads at once, then none within the hour");
    }

    private static void assertLibcFoundThrough(UnaryOperator<List<String>> staleOf) throws IOException {
        List<String> real = Files.readAllLines(Path.of("/proc/self/maps"));
        List<String> stale = staleOf.apply(real);
        AtomicInteger reads = new AtomicInteger();
        AddressSpace space = new AddressSpace(() -> ProcessMaps.parse(reads.getAndIncrement() == 0 ? stale : real),
                new ElfObjectCache(), new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), 0, 0);
        Symbolizer symbolizer = new Symbolizer(space, UnaryOperator.identity());

        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        assertTrue(symbolizer.isCode(getpid), "libc's text seen as data after " + reads.get() + " reads of the maps");
        assertEquals("getpid", symbolizer.resolve(getpid, false).name());
        assertEquals("libc.so.6", symbolizer.resolve(getpid, false).library());
        assertEquals(2, reads.get(), "the stale snapshot, then one re-read");
    }

    /**
     * The maps with every mapping of the library replaced by one mapping over its whole extent, whose
     * fields after the address range {@code fields} makes from the first one's (split on blanks).
     */
    private static List<String> asIf(List<String> maps, String library, Function<String[], String> fields) {
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
        out.add(Long.toHexString(start) + "-" + Long.toHexString(end) + " " + fields.apply(first.trim().split("\\s+", 6)));
        return out;
    }
}
