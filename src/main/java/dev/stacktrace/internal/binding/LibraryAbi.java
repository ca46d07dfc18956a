package dev.stacktrace.internal.binding;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The library's own table of its ABI constants (st_abi_constant: error codes, frame kinds, markers,
 * counters, record sizes, the VM layout's keys), by name. The library is the source of these
 * numbers; the Java constants that mirror them are checked against it once, when it is loaded.
 */
final class LibraryAbi {
    private LibraryAbi() {}

    /** Every entry of the library's table. */
    static Map<String, Long> read() {
        Map<String, Long> constants = new HashMap<>();
        byte[] name = new byte[128];
        long[] value = new long[1];
        for (int i = 0; ; i++) {
            int length = LibStacktrace.st_abi_constant(i, name, name.length, value);
            if (length < 0) return Map.copyOf(constants);
            constants.put(new String(name, 0, length, StandardCharsets.US_ASCII), value[0]);
        }
    }

    /** What the jar expects that the library does not say, one line each; empty when they agree. */
    static List<String> mismatches(Map<String, Long> library, Map<String, Long> expected) {
        List<String> wrong = new ArrayList<>();
        expected.forEach((name, value) -> {
            Long actual = library.get(name);
            if (actual == null) wrong.add(name + " is not in the library");
            else if (actual.longValue() != value) wrong.add(name + " is " + actual + " in the library, " + value + " in the jar");
        });
        wrong.sort(null);
        return wrong;
    }
}
