package dev.stacktrace.internal.symbols;

/**
 * One instruction address of this process, symbolized.
 *
 * @param address the address as given
 * @param name    demangled symbol name, or {@code "?"} when unknown
 * @param offset  {@code address - symbolStart}; 0 when {@code name} is {@code "?"}
 * @param library file name of the mapped object ({@code "libc.so.6"}), {@code "[jit]"} for anonymous
 *                executable memory (the JVM's code cache), {@code "[vdso]"}, or {@code "[unknown]"}
 *                when no mapping covers the address
 * @param path    full path of the mapped file, or null
 * @param inJvm   true for libjvm.so and for {@code "[jit]"}
 */
public record ResolvedAddress(long address, String name, long offset, String library, String path, boolean inJvm) {

    /** The name used when no symbol covers an address. */
    public static final String UNKNOWN_NAME = "?";

    /** True when a symbol name was found. */
    public boolean hasName() {
        return !UNKNOWN_NAME.equals(name);
    }
}
