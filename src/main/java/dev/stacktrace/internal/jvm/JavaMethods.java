package dev.stacktrace.internal.jvm;

import com.sun.jna.JNIEnv;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * jmethodID → what a Java user calls a frame: class, method, source file, and the line of a bci.
 * Asked of JVMTI once per method and cached; a jmethodID always denotes the same method (HotSpot
 * never reuses them), so the cache can never be wrong, only stale for an unloaded class.
 */
public final class JavaMethods {
    /** What is known of one method. lineTable: (start bci, line) pairs sorted by bci; empty when none. */
    public record Method(String className, String methodName, String fileName, boolean isNative, boolean hidden,
                         int[] lineTable, String qualifiedName) {
        Method(String className, String methodName, String fileName, boolean isNative, boolean hidden, int[] lineTable) {
            this(className, methodName, fileName, isNative, hidden, lineTable, className + "." + methodName);
        }

        /** The source line of a bytecode index, or -1. */
        public int lineOf(int bci) {
            if (bci < 0 || lineTable.length == 0) return -1;
            int line = -1;
            for (int i = 0; i + 1 < lineTable.length && lineTable[i] <= bci; i += 2) line = lineTable[i + 1];
            return line;
        }
    }

    static final Method UNKNOWN = new Method("?", "?", null, false, false, new int[0]);
    private static final int MAX_CACHED = 200_000;
    private static final ConcurrentHashMap<Long, Method> CACHE = new ConcurrentHashMap<>();
    /**
     * In front of the cache, the methods met lately, one per slot of their id's hash: a stack's frames
     * are named without boxing an id. Entries are immutable, so threads may race on a slot: each reads
     * a whole entry, old or new, and checks its id.
     */
    private static final int RECENT_BITS = 12;
    private static final Known[] RECENT = new Known[1 << RECENT_BITS];

    private record Known(long methodId, Method method) {}

    private JavaMethods() {}

    public static Method of(long methodId) {
        int slot = (int) ((methodId * 0x9E3779B97F4A7C15L) >>> (64 - RECENT_BITS));
        Known recent = RECENT[slot];
        if (recent != null && recent.methodId == methodId) return recent.method;
        Method method = CACHE.get(methodId);
        if (method == null) {
            method = lookUp(methodId);
            if (CACHE.size() >= MAX_CACHED) CACHE.clear();  // a bound, not an eviction policy: refilled on demand
            CACHE.put(methodId, method);
        }
        RECENT[slot] = new Known(methodId, method);
        return method;
    }

    private static Method lookUp(long methodId) {
        byte[] info = new byte[2048];
        int n = LibStacktrace.st_method_info(methodId, info, info.length);
        if (n < 0) return UNKNOWN;
        String[] parts = new String(info, 0, n, StandardCharsets.UTF_8).split("\t", -1);
        if (parts.length < 5) return UNKNOWN;
        String className = binaryName(parts[0]);
        int modifiers = Integer.parseInt(parts[3]);
        boolean hidden = parts[0].contains(".0x") || parts[0].contains("/0x") || className.contains("$$Lambda")
                || HiddenFrames.isHidden(LibStacktrace.st_method_class(JNIEnv.CURRENT, methodId), parts[1], parts[4]);
        return new Method(className, parts[1], parts[2].isEmpty() ? null : parts[2], Modifier.isNative(modifiers),
                hidden, lineTable(methodId));
    }

    private static int[] lineTable(long methodId) {
        int[] pairs = new int[256];
        int count = LibStacktrace.st_line_table(methodId, pairs, pairs.length / 2);
        if (count > pairs.length / 2) {
            pairs = new int[2 * count];
            count = LibStacktrace.st_line_table(methodId, pairs, count);
        }
        if (count <= 0) return new int[0];
        int[] table = Arrays.copyOf(pairs, 2 * count);
        sortByBci(table);
        return table;
    }

    private static void sortByBci(int[] table) {
        long[] keyed = new long[table.length / 2];
        for (int i = 0; i < keyed.length; i++) keyed[i] = ((long) table[2 * i] << 32) | (table[2 * i + 1] & 0xffffffffL);
        Arrays.sort(keyed);
        for (int i = 0; i < keyed.length; i++) {
            table[2 * i] = (int) (keyed[i] >> 32);
            table[2 * i + 1] = (int) keyed[i];
        }
    }

    /**
     * A JVMTI class signature as Class.getName() gives it: "Ljava/lang/String;" → "java.lang.String".
     * JVMTI writes a hidden class's suffix after a '.' (which no internal class name holds otherwise):
     * "LFoo$$Lambda$14.0x0000000800c03000;" → "Foo$$Lambda$14/0x0000000800c03000", as Class.getName().
     */
    static String binaryName(String signature) {
        String name = signature;
        if (name.startsWith("L") && name.endsWith(";")) name = name.substring(1, name.length() - 1);
        char[] c = name.toCharArray();
        for (int i = 0; i < c.length; i++) {
            if (c[i] == '/') c[i] = '.';
            else if (c[i] == '.') c[i] = '/';
        }
        return new String(c);
    }
}
