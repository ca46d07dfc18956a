package dev.stacktrace.internal.symbols;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Independent answers for the tests: dlsym through JNA, and binutils' nm/readelf. */
final class NativeOracle {

    /** One line of {@code nm -S}: value, size, type letter, name. */
    record NmSymbol(long value, long size, char type, String name) {}

    private NativeOracle() {
    }

    static NativeLibrary libc() {
        return NativeLibrary.getInstance("c");
    }

    static NativeLibrary libjvm() {
        return NativeLibrary.getInstance(Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so").toString());
    }

    static long address(NativeLibrary lib, String function) {
        return Pointer.nativeValue(lib.getFunction(function));
    }

    /** Runs a command and returns its stdout, or null when the tool is missing or fails. */
    static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Defined symbols with sizes from {@code nm -S --defined-only [-D] file}; empty when nm is missing. */
    static List<NmSymbol> nm(Path file, boolean dynamic) {
        String out = dynamic ? run("nm", "-S", "--defined-only", "-D", file.toString())
                : run("nm", "-S", "--defined-only", file.toString());
        List<NmSymbol> symbols = new ArrayList<>();
        if (out == null) {
            return symbols;
        }
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4 && f[2].length() == 1) {
                String name = f[3];
                int at = name.indexOf('@');
                symbols.add(new NmSymbol(Long.parseUnsignedLong(f[0], 16), Long.parseUnsignedLong(f[1], 16),
                        f[2].charAt(0), at > 0 ? name.substring(0, at) : name));
            }
        }
        return symbols;
    }

    /** Names by address, to accept any alias of a symbol. */
    static Map<Long, List<String>> namesByValue(List<NmSymbol> symbols) {
        Map<Long, List<String>> byValue = new HashMap<>();
        for (NmSymbol s : symbols) {
            byValue.computeIfAbsent(s.value(), v -> new ArrayList<>()).add(s.name());
        }
        return byValue;
    }

    /** The value {@code nm -D} reports for {@code name}. */
    static long valueOf(List<NmSymbol> symbols, String name) {
        return symbols.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("nm has no " + name)).value();
    }

    static boolean isCode(NmSymbol s) {
        return "TtWwi".indexOf(s.type()) >= 0;
    }
}
