package dev.stacktrace.internal.symbols;

/**
 * One instruction address of this process, symbolized.
 *
 * @param address the address as given
 * @param name    demangled symbol name; for an address in no symbol its place name
 *                ({@link dev.stacktrace.StackEntry#placeName}, e.g. {@code libfoo.so+0x1a2b})
 * @param offset  {@code address - symbolStart}; 0 for an address in no symbol
 * @param library stable file name of the mapped object ({@code "libc.so.6"}, {@code "librocksdbjni.so"}), {@code "[jit]"} for anonymous
 *                executable memory (the JVM's code cache), {@code "[vdso]"}, or {@code "[unknown]"}
 *                when no mapping covers the address
 * @param path    full path of the mapped file, or null
 * @param inJvm   true for libjvm.so and for {@code "[jit]"}
 */
public record ResolvedAddress(long address, String name, long offset, String library, String path, boolean inJvm) {

    /** The name of a frame that has no symbol and no place either. */
    public static final String UNKNOWN_NAME = "?";

    /** True when a symbol name was found (the same rule as {@link dev.stacktrace.StackEntry#hasName()}). */
    public boolean hasName() {
        return toEntry().hasName();
    }

    /** This address as a native frame. */
    public dev.stacktrace.StackEntry toEntry() {
        return new dev.stacktrace.StackEntry(address, name, offset, library, inJvm, path);
    }
}
