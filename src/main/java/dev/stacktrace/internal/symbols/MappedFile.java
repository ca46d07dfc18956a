package dev.stacktrace.internal.symbols;

/**
 * The mapping of a file that covers an address: one line of /proc/self/maps with the identity of the
 * object mapped there, as profile formats describe a native library (pprof's Mapping).
 *
 * @param start      first address of the mapping
 * @param limit      the address just past it
 * @param fileOffset offset in the file of {@code start}
 * @param path       the file's path as the process mapped it
 * @param buildId    the object's GNU build-id as lower-case hex, or null when it has none or was not read
 */
public record MappedFile(long start, long limit, long fileOffset, String path, String buildId) {}
