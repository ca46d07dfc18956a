package dev.stacktrace.internal.symbols;

import java.util.function.UnaryOperator;

/** Symbolizers with their own address space and object cache, so tests see first-time behaviour. */
public final class TestSymbolizers {

    private TestSymbolizers() {
    }

    /** @param minRereadNanos 0: the maps are re-read whenever asked; {@code Long.MAX_VALUE}: never after the first read */
    static Symbolizer fresh(long minRereadNanos) {
        AddressSpace space = new AddressSpace(ProcessMaps::readSelf, new ElfObjectCache(),
                new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)), minRereadNanos,
                minRereadNanos == Long.MAX_VALUE ? 0 : AddressSpace.DEFAULT_REREAD_BURST);
        return new Symbolizer(space, UnaryOperator.identity());
    }

    /**
     * A symbolizer (names not demangled) that cannot open /proc/self/map_files/, as in a process
     * without CAP_CHECKPOINT_RESTORE: a deleted file is read from its image in memory.
     */
    public static Symbolizer withoutMapFiles() {
        AddressSpace space = new AddressSpace(ProcessMaps::readSelf, new ElfObjectCache(),
                new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT), java.nio.file.Path.of("/nonexistent-map-files")),
                0, 0);
        return new Symbolizer(space, UnaryOperator.identity());
    }
}
