package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Addresses named lately are named again without a look-up, and never after the maps, the
 * demangler or a library's name changed.
 */
class RecentNamesTest {
    private final AtomicInteger reads = new AtomicInteger();
    private final AddressSpace space = new AddressSpace(() -> {
        reads.incrementAndGet();
        return ProcessMaps.readSelf();
    }, new ElfObjectCache(), new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), 0, 0);
    private final Symbolizer symbolizer = new Symbolizer(space, UnaryOperator.identity());
    private final long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");

    @BeforeEach
    void readTheMaps() {
        symbolizer.isCode(getpid);  // an answer given before the maps' first read is not kept
    }

    @Test
    void anAddressNamedAgainIsTheSameAnswer() {
        ResolvedAddress first = symbolizer.resolve(getpid + 4, true);
        assertEquals("getpid", first.name());
        assertSame(first, symbolizer.resolve(getpid + 4, true));
        assertNotSame(first, symbolizer.resolve(getpid + 4, false), "the exact pc is another question");
    }

    @Test
    void aLibraryNamedAfterwardsIsShownByItsNewName() {
        ResolvedAddress before = symbolizer.resolve(getpid, false);
        assertSame(before, symbolizer.resolve(getpid, false));
        symbolizer.nameLibrary(before.path(), "the-c-library");
        ResolvedAddress after = symbolizer.resolve(getpid, false);
        assertEquals("the-c-library", after.library());
        assertEquals("getpid", after.name());
    }

    @Test
    void aNewDemanglerNamesAgain() {
        symbolizer.resolve(getpid, false);
        symbolizer.setDemangler(name -> "never used: getpid is not mangled");
        ResolvedAddress after = symbolizer.resolve(getpid, false);
        assertEquals("getpid", after.name());
        assertSame(after, symbolizer.resolve(getpid, false));
    }

    @Test
    void mapsReadAgainAreLookedUpAgain() {
        ResolvedAddress before = symbolizer.resolve(getpid, false);
        int readsBefore = reads.get();
        symbolizer.resolve(0x10, false);  // in no mapping: the maps are read again
        assertEquals(readsBefore + 1, reads.get());
        ResolvedAddress after = symbolizer.resolve(getpid, false);
        assertNotSame(before, after, "named from the maps read before");
        assertEquals(before, after);
    }
}
