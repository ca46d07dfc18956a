package dev.stacktrace;

/**
 * One frame of a stack, innermost first.
 *
 * @param address the instruction address: the interrupted pc for the innermost frame, the return
 *                address for the others
 * @param name    the demangled symbol, or "?" when the address has no symbol
 * @param offset  bytes from the symbol's start (0 when the name is "?")
 * @param library the mapped object's file name (e.g. "libc.so.6"); "[jit]" for the JVM's code cache
 *                (JIT-compiled code, the interpreter, stubs), "[unknown]" for memory that maps no object
 * @param isJvm   the frame belongs to the JVM itself: libjvm, the interpreter, JIT code, stubs
 */
public record StackEntry(long address, String name, long offset, String library, boolean isJvm) {

    public StackEntry {
        if (name == null) throw new NullPointerException("name");
        if (library == null) throw new NullPointerException("library");
    }

    /** True when the address resolved to a symbol. */
    public boolean hasName() {
        return !"?".equals(name);
    }

    /** The printed form: {@code [0x00007f03f93eff16] __futex_abstimed_wait_common+0xc6 (libc.so.6)}. */
    public String format() {
        String symbol = hasName() ? name + "+0x" + Long.toHexString(offset) : "?";
        return String.format("[0x%016x] %s (%s)", address, symbol, library);
    }

    @Override
    public String toString() {
        return format();
    }
}
