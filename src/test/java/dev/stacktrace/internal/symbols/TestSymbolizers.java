package dev.stacktrace.internal.symbols;

import java.util.function.UnaryOperator;

/** Symbolizers with their own address space and object cache, so tests see first-time behaviour. */
final class TestSymbolizers {

    private TestSymbolizers() {
    }

    static Symbolizer fresh(long minRereadNanos) {
        AddressSpace space = new AddressSpace(ProcessMaps::readSelf, new ElfObjectCache(),
                new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), minRereadNanos);
        return new Symbolizer(space, UnaryOperator.identity());
    }
}
