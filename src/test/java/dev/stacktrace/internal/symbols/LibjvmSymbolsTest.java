package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class LibjvmSymbolsTest {

    @Test
    void exportedJvmFunctionResolves() {
        long fn = NativeOracle.address(NativeOracle.libjvm(), "JNI_GetCreatedJavaVMs");
        ResolvedAddress r = new Symbolizer(UnaryOperator.identity()).resolve(fn, false);
        assertEquals("JNI_GetCreatedJavaVMs", r.name());
        assertEquals(0, r.offset());
        assertEquals("libjvm.so", r.library());
        assertTrue(r.inJvm());
        assertTrue(r.path().endsWith("/lib/server/libjvm.so"), r.path());
    }

    /** C++ functions known only to libjvm's .symtab resolve, and their mangled names go through the demangler. */
    @Test
    void internalCppFunctionsResolveAndPassThroughTheDemangler() {
        long anchor = NativeOracle.address(NativeOracle.libjvm(), "JNI_GetCreatedJavaVMs");
        Path libjvm = Path.of(new Symbolizer(UnaryOperator.identity()).resolve(anchor, false).path());
        List<NativeOracle.NmSymbol> all = NativeOracle.nm(libjvm, false);
        assumeTrue(!all.isEmpty(), "nm not available");
        Set<String> exported = Set.copyOf(NativeOracle.nm(libjvm, true).stream().map(NativeOracle.NmSymbol::name).toList());
        Map<Long, List<String>> aliases = NativeOracle.namesByValue(all);
        long base = anchor - NativeOracle.valueOf(all, "JNI_GetCreatedJavaVMs");
        List<NativeOracle.NmSymbol> cpp = new ArrayList<>();
        for (NativeOracle.NmSymbol s : all) {
            if (NativeOracle.isCode(s) && s.name().startsWith("_Z") && s.size() > 4 && !exported.contains(s.name())
                    && aliases.get(s.value()).size() == 1) {
                cpp.add(s);
            }
        }
        assertTrue(cpp.size() > 10_000, "few C++ functions in .symtab: " + cpp.size());

        Set<String> seen = ConcurrentHashMap.newKeySet();
        Symbolizer symbolizer = new Symbolizer(name -> {
            seen.add(name);
            return "demangled(" + name + ")";
        });
        int step = cpp.size() / 400;
        for (int i = 0; i < cpp.size(); i += step) {
            NativeOracle.NmSymbol s = cpp.get(i);
            ResolvedAddress r = symbolizer.resolve(base + s.value() + 3, true);
            assertEquals("demangled(" + s.name() + ")", r.name(), s.toString());
            assertEquals(3, r.offset());
            assertEquals("libjvm.so", r.library());
            assertTrue(seen.contains(s.name()));
        }
        assertTrue(seen.stream().allMatch(n -> n.startsWith("_Z")), "only mangled names go to the demangler");
    }

    @Test
    void demanglerResultsAreCachedAndReplaceable() {
        long anchor = NativeOracle.address(NativeOracle.libjvm(), "JNI_GetCreatedJavaVMs");
        Path libjvm = Path.of(new Symbolizer(UnaryOperator.identity()).resolve(anchor, false).path());
        List<NativeOracle.NmSymbol> all = NativeOracle.nm(libjvm, false);
        assumeTrue(!all.isEmpty(), "nm not available");
        Map<Long, List<String>> aliases = NativeOracle.namesByValue(all);
        NativeOracle.NmSymbol target = all.stream()
                .filter(s -> NativeOracle.isCode(s) && s.name().startsWith("_Z") && s.size() > 16
                        && aliases.get(s.value()).size() == 1)
                .findFirst().orElseThrow();
        long address = anchor - NativeOracle.valueOf(all, "JNI_GetCreatedJavaVMs") + target.value();

        int[] calls = {0};
        Symbolizer symbolizer = new Symbolizer(name -> {
            calls[0]++;
            return null; // "can't demangle"
        });
        assertEquals(target.name(), symbolizer.resolve(address, false).name());
        assertEquals(target.name(), symbolizer.resolve(address + 1, false).name());
        assertEquals(1, calls[0], "demangled once, then cached");

        symbolizer.setDemangler(name -> "new:" + name);
        assertEquals("new:" + target.name(), symbolizer.resolve(address, false).name());
        symbolizer.setDemangler(name -> {
            throw new IllegalStateException("broken demangler");
        });
        assertEquals(target.name(), symbolizer.resolve(address, false).name());
        symbolizer.setDemangler(null);
        assertEquals(target.name(), symbolizer.resolve(address, false).name());
        assertFalse(symbolizer.resolve(address, false).name().startsWith("new:"));
    }
}
