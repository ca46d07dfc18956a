package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The one-pass lookup of named symbols agrees with the full symbol table on this JVM's libjvm.so. */
class SymbolValuesTest {

    private static Path libjvm() {
        Path p = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
        assertTrue(Files.isRegularFile(p), p + " missing");
        return p;
    }

    @Test
    void distancesBetweenSymbolsMatchTheSymbolTable() throws Exception {
        // a static function (.symtab only) on one JDK or a stub entry's holder on another, and an exported one
        String[] names = {"SafeFetchN_impl", "_ZN12StubRoutines18_safefetchN_entryE", "AsyncGetCallTrace", "JNI_CreateJavaVM"};
        Map<String, Long> values = SymbolValues.find(libjvm(), names);
        assertTrue(values.containsKey("AsyncGetCallTrace") && values.containsKey("JNI_CreateJavaVM"), values.toString());
        assertTrue(values.containsKey("SafeFetchN_impl") || values.containsKey("_ZN12StubRoutines18_safefetchN_entryE"),
                values.toString());
        Symbolizer symbols = Symbolizer.shared();
        long agct = symbols.addressOf("libjvm.so", "AsyncGetCallTrace").orElseThrow();
        int compared = 0;
        for (String name : names) {
            if (!values.containsKey(name)) continue;
            OptionalLong runtime = symbols.addressOf("libjvm.so", name);
            assertTrue(runtime.isPresent(), name);
            assertEquals(runtime.getAsLong() - agct, values.get(name) - values.get("AsyncGetCallTrace"), name);
            compared++;
        }
        assertTrue(compared >= 3, "compared " + compared);
    }

    @Test
    void namesAreFoundAcrossThePiecesTheTablesAreReadIn() throws Exception {
        // small pieces put piece boundaries inside many names, the wanted ones included
        String[] names = {"SafeFetchN_impl", "_ZN12StubRoutines18_safefetchN_entryE", "AsyncGetCallTrace", "JNI_CreateJavaVM"};
        Map<String, Long> whole = SymbolValues.find(libjvm(), names);
        for (int size : new int[] {97, 1000, 4099}) {
            assertEquals(whole, SymbolValues.find(libjvm(), ElfFile.pieceBuffer(size), names), "pieces of " + size);
        }
    }

    @Test
    void namesThatAreNotThereAreAbsent() throws Exception {
        // a prefix of a real name is not that name
        Map<String, Long> values = SymbolValues.find(libjvm(), "AsyncGetCall", "no_such_symbol_in_libjvm");
        assertFalse(values.containsKey("AsyncGetCall"));
        assertFalse(values.containsKey("no_such_symbol_in_libjvm"));
    }
}
