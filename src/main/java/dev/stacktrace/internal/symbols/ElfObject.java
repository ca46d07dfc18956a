package dev.stacktrace.internal.symbols;

import java.util.List;

/**
 * What this package knows about one mapped ELF object: its load segments (to translate runtime
 * addresses) and its merged symbols. A failed load keeps the reason and has no symbols, so the
 * failure is remembered rather than retried on every lookup.
 *
 * @param debugFile the separate debug file whose symbols were merged in, or null
 * @param failure   why the object has no symbols, or null when it loaded
 * @param buildId   the GNU build-id note as lower-case hex, or null when the object has none
 */
record ElfObject(String path, List<ElfFile.Segment> segments, SymbolTable symbols, String debugFile, String failure,
                 String buildId) {

    /** {@link #biasFor} when no segment explains a mapping. */
    static final long NO_BIAS = Long.MIN_VALUE;
    private static final long PAGE_MASK = ~0xfffL;

    static ElfObject failed(String path, String failure) {
        return new ElfObject(path, List.of(), SymbolTable.EMPTY, null, failure, null);
    }

    /**
     * The value to add to a runtime address inside {@code m} to get the object's link-time address.
     * The mapping came from the PT_LOAD whose page-aligned file range holds the mapping's offset:
     * vaddr = address - start + fileOffset - p_offset + p_vaddr.
     */
    long biasFor(Mapping m) {
        for (ElfFile.Segment s : segments) {
            long fo = m.fileOffset();
            if (fo >= (s.offset() & PAGE_MASK) && fo < s.offset() + s.filesz()) {
                return fo - s.offset() + s.vaddr() - m.start();
            }
        }
        return NO_BIAS;
    }
}
