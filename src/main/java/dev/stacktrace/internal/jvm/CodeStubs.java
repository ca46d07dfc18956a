package dev.stacktrace.internal.jvm;

import dev.stacktrace.internal.binding.LibStacktrace;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Names of the code the JVM generates that is no Java method (intrinsics such as {@code dsin} or
 * {@code updateBytesCRC32C}, arraycopy stubs, adapters, runtime stubs), as the JVM itself reports
 * them through JVMTI's DynamicCodeGenerated events (collected by the native library, replayed for
 * those generated before it loaded). A pc is named only when it lies inside a reported range.
 */
public final class CodeStubs {
    /** One reported range of generated code. */
    public record Stub(long address, long length, String name) {
        boolean contains(long pc) {
            return pc >= address && pc - address < length;
        }
    }

    private static final TreeMap<Long, Stub> BY_ADDRESS = new TreeMap<>();
    private static int read;

    private CodeStubs() {}

    /** The stub holding pc, or null. Reads what the JVM reported since the last call when pc is not known yet. */
    public static synchronized Stub at(long pc) {
        Stub s = lookup(pc);
        if (s != null) return s;
        if (!refresh()) return null;
        return lookup(pc);
    }

    /**
     * The CodeBlob holding pc, named as the JVM names the blob ({@code "StubRoutines (1)"},
     * {@code "nep_invoker_blob"}), for generated code the JVM reported no finer name for; or null.
     */
    public static Stub blob(long pc) {
        long[] code = new long[1];
        byte[] name = new byte[256];
        int n = LibStacktrace.st_code_blob_name(pc, code, name, name.length);
        if (n <= 0 || pc < code[0]) return null;
        return new Stub(code[0], pc - code[0] + 1, new String(name, 0, n, StandardCharsets.UTF_8));
    }

    private static Stub lookup(long pc) {
        Map.Entry<Long, Stub> e = BY_ADDRESS.floorEntry(pc);
        return e != null && e.getValue().contains(pc) ? e.getValue() : null;
    }

    /** Reads the stubs reported since last time; true when there were any. */
    private static boolean refresh() {
        int count = LibStacktrace.st_code_stub_count();
        if (count <= read) return false;
        long[] range = new long[2];
        byte[] name = new byte[512];
        for (; read < count; read++) {
            int n = LibStacktrace.st_code_stub(read, range, name, name.length);
            if (n < 0) continue;
            // a later report for the same start is the newer code there
            BY_ADDRESS.put(range[0], new Stub(range[0], range[1], new String(name, 0, n, StandardCharsets.UTF_8)));
        }
        return true;
    }
}
