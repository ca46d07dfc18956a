package dev.stacktrace;

/**
 * One frame of a stack, innermost first: a native frame (C/C++ code, the JVM's own or a library's)
 * or a Java frame (interpreted, compiled, inlined into a compiled caller, or a native method's
 * stub).
 *
 * @param address    the instruction address: the interrupted pc for the innermost frame, the return
 *                   address for the others; for a Java frame the pc of its physical frame (inlined
 *                   frames share their compiled caller's), 0 when unknown
 * @param name       native: the demangled symbol ({@code symbol@plt} for a PLT entry); for an address
 *                   in no symbol, the place itself: {@code library+0x<offset in the file>}
 *                   ({@code librocksdbjni.so+0x1a2b3c}), or {@code library@0x<address>} in memory
 *                   that maps no file ({@code [jit]@0x7f3c2d001234}); such a name is unique per address,
 *                   so profiles never merge different unknown code into one entry, and
 *                   {@link #hasName()} is false for it. Java: {@code className.methodName}
 * @param offset     native: bytes from the symbol's start (0 when the address is in no symbol); Java: 0
 * @param library    native: the mapped object's file name (e.g. "libc.so.6"), with the random part
 *                   of a temporary file's name removed ({@code librocksdbjni6551293418448277001.so} is
 *                   {@code librocksdbjni.so}: see {@link #path()} for the file); "[jit]" for the JVM's
 *                   code cache (JIT code, the interpreter, stubs) when no Java method is known there,
 *                   "[unknown]" for memory that maps no object; Java: "[java]"; a marker: "[marker]"
 * @param isJvm      the frame belongs to the JVM itself: libjvm, the interpreter, JIT stubs
 * @param kind       what sort of frame this is
 * @param className  Java frames: the declaring class's binary name ({@code java.io.FileInputStream}); else null
 * @param methodName Java frames: the method's name; else null
 * @param fileName   Java frames: the source file, null when unknown; else null
 * @param lineNumber Java frames: the source line, -1 when unknown, -2 for a native method (as
 *                   {@link StackTraceElement#getLineNumber()}); else -1
 * @param path       native: the full path of the mapped file as the process mapped it
 *                   ({@code /tmp/librocksdbjni6551293418448277001.so}), null for memory that maps no
 *                   file; Java: null
 */
public record StackEntry(long address, String name, long offset, String library, boolean isJvm, Kind kind,
                         String className, String methodName, String fileName, int lineNumber, String path) {

    /** What sort of frame an entry is. */
    public enum Kind {
        /** C/C++ code outside the JVM: libc, the JDK's and the application's native libraries. */
        NATIVE,
        /** The JVM's own code: libjvm, and code-cache stubs that are no Java method. */
        JVM,
        /** A Java method run by the interpreter. */
        JAVA_INTERPRETED,
        /** A Java method compiled by C1 or C2. */
        JAVA_COMPILED,
        /** A Java method inlined into the compiled frame below it. */
        JAVA_INLINED,
        /** A Java method declared {@code native}: the frame of its JNI stub. */
        JAVA_NATIVE,
        /**
         * No frame: the stack walk lost its way here, and the name says why ({@code [truncated]},
         * {@code [unknown Java]}). Frames below a marker, if any, are Java frames known without the
         * native frames between them; a stack that does not reach the thread's start ends with one.
         */
        MARKER,
    }

    public StackEntry {
        if (name == null) throw new NullPointerException("name");
        if (library == null) throw new NullPointerException("library");
        if (kind == null) throw new NullPointerException("kind");
    }

    /** An entry without a file path. */
    public StackEntry(long address, String name, long offset, String library, boolean isJvm, Kind kind,
                      String className, String methodName, String fileName, int lineNumber) {
        this(address, name, offset, library, isJvm, kind, className, methodName, fileName, lineNumber, null);
    }

    /** A native frame: kind NATIVE, or JVM when {@code isJvm}. */
    public StackEntry(long address, String name, long offset, String library, boolean isJvm) {
        this(address, name, offset, library, isJvm, null);
    }

    /** A native frame of the file at {@code path}: kind NATIVE, or JVM when {@code isJvm}. */
    public StackEntry(long address, String name, long offset, String library, boolean isJvm, String path) {
        this(address, name, offset, library, isJvm, isJvm ? Kind.JVM : Kind.NATIVE, null, null, null, -1, path);
    }

    /** A Java frame. */
    public static StackEntry javaFrame(long address, Kind kind, String className, String methodName,
                                       String fileName, int lineNumber) {
        if (!kind.name().startsWith("JAVA_")) throw new IllegalArgumentException("not a Java kind: " + kind);
        return new StackEntry(address, className + "." + methodName, 0, "[java]", false, kind,
                className, methodName, fileName, lineNumber);
    }

    /** A marker frame: {@code name} says why the walk could not go on (see {@link Kind#MARKER}). */
    public static StackEntry marker(String name) {
        return new StackEntry(0, name, 0, "[marker]", false, Kind.MARKER, null, null, null, -1);
    }

    /** True for a {@link Kind#MARKER} entry. */
    public boolean isMarker() {
        return kind == Kind.MARKER;
    }

    /** True for the Java kinds. */
    public boolean isJava() {
        return kind.name().startsWith("JAVA_");
    }

    /**
     * True when the address resolved to a symbol (native) or the method is known (Java); false for
     * "?" and for the place names of addresses in no symbol ({@code libfoo.so+0x1a2b}).
     */
    public boolean hasName() {
        return !"?".equals(name) && !isPlaceName(name, library);
    }

    /**
     * The name of an address in no symbol: {@code library+0x<fileOffset>} in a mapped file,
     * {@code library@0x<address>} elsewhere ({@code fileOffset < 0}).
     */
    public static String placeName(String library, long address, long fileOffset) {
        return fileOffset >= 0 ? library + "+0x" + Long.toHexString(fileOffset) : library + "@0x" + Long.toHexString(address);
    }

    private static boolean isPlaceName(String name, String library) {
        int n = library.length();
        return name.length() > n + 2 && name.startsWith(library) && (name.charAt(n) == '+' || name.charAt(n) == '@')
                && name.startsWith("0x", n + 1);
    }

    /**
     * The printed form. Native: {@code [0x00007f03f93eff16] __futex_abstimed_wait_common+0xc6 (libc.so.6)};
     * Java, as Java users read it: {@code at java.io.FileInputStream.read(FileInputStream.java:276)},
     * {@code (Native Method)} for a native method, {@code (Unknown Source)} without a file.
     */
    public String format() {
        if (isMarker()) return name;
        if (isJava()) {
            String where;
            if (kind == Kind.JAVA_NATIVE) where = "Native Method";
            else if (fileName == null) where = "Unknown Source";
            else if (lineNumber > 0) where = fileName + ":" + lineNumber;
            else where = fileName;
            return "at " + className + "." + methodName + "(" + where + ")";
        }
        String symbol = hasName() ? name + "+0x" + Long.toHexString(offset) : name;
        return String.format("[0x%016x] %s (%s)", address, symbol, library);
    }

    @Override
    public String toString() {
        return format();
    }
}
