package dev.stacktrace.internal.stacks;

import dev.stacktrace.internal.symbols.MappedFile;
import dev.stacktrace.internal.symbols.Symbolizer;

/**
 * The file mapping that holds a native frame's address, as profile formats describe a library
 * (pprof's Mapping): for the tools, which do not reach the symbolizer themselves.
 *
 * @param start      first address of the mapping
 * @param limit      the address just past it
 * @param fileOffset offset in the file of {@code start}
 * @param path       the file's path as the process mapped it
 * @param buildId    the object's GNU build-id as lower-case hex, or null
 */
public record LibraryMapping(long start, long limit, long fileOffset, String path, String buildId) {

    /** The mapping of a file that covers {@code address} in this process, or null (code cache, vdso, unmapped). */
    public static LibraryMapping of(long address) {
        MappedFile m = Symbolizer.shared().mappingOf(address);
        return m == null ? null : new LibraryMapping(m.start(), m.limit(), m.fileOffset(), m.path(), m.buildId());
    }
}
