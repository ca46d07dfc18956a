package dev.stacktrace.internal.symbols;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stable names for native libraries that JNI wrappers extract from their jars under random names,
 * so that a library keeps one name (and one metrics label) across restarts:
 * <ul>
 *   <li>{@code File.createTempFile(prefix, ".so")} appends a random unsigned long (usually 18-20
 *       digits): rocksdbjni {@code librocksdbjni6551293418448277001.so}, lz4-java
 *       {@code liblz4-java-7572665250450827138.so}, zstd-jni {@code libzstd-jni-1.5.7-287301744969686553729.so}
 *       (its version and the random digits run together, so the version goes too), netty
 *       {@code libnetty_transport_native_epoll_x86_647097482725846685024.so} (the architecture's
 *       "64" is kept);</li>
 *   <li>a UUID: sqlite-jdbc {@code sqlite-3.54.1.0-<uuid>-libsqlitejdbc.so}, snappy-java
 *       {@code snappy-1.1.10-<uuid>-libsnappyjava.so}: the name after the UUID.</li>
 * </ul>
 * Ordinary names ({@code libc.so.6}, {@code libz.so.1.2.13}, {@code libjvm.so}) are left alone.
 */
final class LibraryNames {

    private static final String UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    /** {@code <anything>-<uuid>-<name>.so}: the library's own name follows the UUID. */
    private static final Pattern UUID_THEN_NAME = Pattern.compile(".*" + UUID + "[-_.](.+\\.so)");
    /** {@code <name>[-_.]<uuid>.so}. */
    private static final Pattern NAME_THEN_UUID = Pattern.compile("(.+?)[-_.]?" + UUID + "\\.so");
    /** A random number at the end (10 digits or more: a real library's version is shorter). */
    private static final Pattern RANDOM_TAIL = Pattern.compile("(.+?)([0-9]{10,})\\.so");
    /** Netty's architecture suffixes end in "64", which runs into the random digits. */
    private static final Pattern ARCH_BEFORE_64 = Pattern.compile(".*(?:x86_|aarch_|ppcle_|s390_|loongarch_|riscv)");
    /** A version left before the random digits: "-1.5.7-" in "libzstd-jni-1.5.7-". */
    private static final Pattern TRAILING_VERSION = Pattern.compile("(.+?)(?:[-_][0-9]+(?:\\.[0-9]+)+)?[-_.]*");

    private LibraryNames() {}

    /** The stable name of a mapped file's name (its last path element). */
    static String stable(String fileName) {
        if (fileName == null || !fileName.endsWith(".so")) return fileName;
        Matcher m = UUID_THEN_NAME.matcher(fileName);
        if (m.matches()) return m.group(1);
        m = NAME_THEN_UUID.matcher(fileName);
        if (m.matches()) return m.group(1) + ".so";
        m = RANDOM_TAIL.matcher(fileName);
        if (!m.matches()) return fileName;
        String base = m.group(1);
        if (m.group(2).startsWith("64") && ARCH_BEFORE_64.matcher(base).matches()) return base + "64.so";
        Matcher v = TRAILING_VERSION.matcher(base);
        String name = v.matches() ? v.group(1) : base;
        return name.isEmpty() ? fileName : name + ".so";
    }
}
