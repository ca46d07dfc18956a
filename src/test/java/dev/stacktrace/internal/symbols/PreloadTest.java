package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@link Symbolizer#preload}: the library is parsed then, once, and lookups use that parse. */
class PreloadTest {

    @Test
    void preloadParsesTheLibraryOnceForLaterLookups() {
        ElfObjectCache cache = new ElfObjectCache();
        AddressSpace space = new AddressSpace(ProcessMaps::readSelf, cache,
                new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), 0, AddressSpace.DEFAULT_REREAD_BURST);
        Symbolizer symbols = new Symbolizer(space, UnaryOperator.identity());
        assertEquals(0, cache.size());
        symbols.preload("libjvm.so");
        assertEquals(1, cache.size(), "libjvm parsed");
        symbols.preload("libjvm.so");
        symbols.preload("no-such-library.so");
        assertEquals(1, cache.size(), "nothing more parsed");
        long agct = symbols.addressOf("libjvm.so", "AsyncGetCallTrace").orElseThrow();
        assertEquals("AsyncGetCallTrace", symbols.resolve(agct + 1, false).name());
        assertEquals("libjvm.so", symbols.resolve(agct + 1, false).library());
        assertEquals(1, cache.size(), "the lookup used the preloaded parse");
    }
}
