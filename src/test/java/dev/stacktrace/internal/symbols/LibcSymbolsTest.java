package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LibcSymbolsTest {

    private final Symbolizer symbolizer = new Symbolizer(UnaryOperator.identity());

    @Test
    void exportedFunctionResolvesToItsStartWithOffsets() {
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");

        ResolvedAddress at = symbolizer.resolve(getpid, false);
        assertEquals("getpid", at.name()); // nm -D: getpid is the exported (weak) name of __getpid
        assertEquals(0, at.offset());
        assertEquals("libc.so.6", at.library());
        assertTrue(at.path().endsWith("/libc.so.6"), at.path());
        assertFalse(at.inJvm());
        assertEquals(getpid, at.address());

        ResolvedAddress inside = symbolizer.resolve(getpid + 5, false);
        assertEquals("getpid", inside.name());
        assertEquals(5, inside.offset());
    }

    /**
     * A FileChannel map of libc's first pages (as the symbolizer maps string tables) below the
     * loader's mappings is not the loaded libc: a symbol's address is still the one dlsym gives.
     */
    @Test
    void aFileMappingOfTheLibraryIsNotTheLoadedObject() throws Exception {
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        Path libc = Path.of(symbolizer.resolve(getpid, false).path());
        try (FileChannel file = FileChannel.open(libc, StandardOpenOption.READ)) {
            MappedByteBuffer firstPages = file.map(FileChannel.MapMode.READ_ONLY, 0, 64 * 1024);
            List<Mapping> libcMaps = ProcessMaps.readSelf().all().stream()
                    .filter(m -> libc.toString().equals(m.path())).toList();
            assertTrue(libcMaps.get(0).shared(),
                    "a file mapping lies below the loaded libc, so a lookup by name meets it first: " + libcMaps);
            Symbolizer fresh = TestSymbolizers.fresh(0);
            assertEquals(getpid, fresh.addressOf("libc.so.6", "getpid").orElseThrow());
            assertEquals("getpid", fresh.resolve(getpid, false).name());
            assertEquals(0x7f, firstPages.get(0), "libc's ELF header, mapped until the lookups are done");
        }
    }

    @Test
    void returnAddressLooksUpThePrecedingByteButReportsItsOwnOffset() {
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        ResolvedAddress ret = symbolizer.resolve(getpid + 5, true);
        assertEquals("getpid", ret.name());
        assertEquals(5, ret.offset());

    }

    /**
     * A call that is the last instruction of a function returns to the first byte of the next one;
     * as a return address that byte belongs to the calling function.
     */
    @Test
    void returnAddressAtAFunctionEndBelongsToTheCaller() {
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        List<NativeOracle.NmSymbol> dynamic = NativeOracle.nm(Path.of(symbolizer.resolve(getpid, false).path()), true);
        assumeTrue(!dynamic.isEmpty(), "nm not available");
        long base = getpid - NativeOracle.valueOf(dynamic, "getpid");
        Map<Long, List<String>> aliases = NativeOracle.namesByValue(dynamic);
        NativeOracle.NmSymbol first = dynamic.stream()
                .filter(f -> NativeOracle.isCode(f) && f.size() > 0 && aliases.containsKey(f.value() + f.size())
                        && dynamic.stream().anyMatch(g -> NativeOracle.isCode(g) && g.value() == f.value() + f.size()))
                .findFirst().orElseThrow(() -> new AssertionError("no two adjacent exported functions"));
        long next = base + first.value() + first.size();

        ResolvedAddress asReturn = symbolizer.resolve(next, true);
        assertTrue(aliases.get(first.value()).contains(asReturn.name()), first + " vs " + asReturn);
        assertEquals(first.size(), asReturn.offset());
        ResolvedAddress asPc = symbolizer.resolve(next, false);
        assertTrue(aliases.get(first.value() + first.size()).contains(asPc.name()), asPc.toString());
        assertEquals(0, asPc.offset());
    }

    @Test
    void everyExportedFunctionResolvesToItsNameOrAnAlias() {
        Path libc = Path.of(symbolizer.resolve(NativeOracle.address(NativeOracle.libc(), "getpid"), false).path());
        List<NativeOracle.NmSymbol> dynamic = NativeOracle.nm(libc, true);
        assumeTrue(!dynamic.isEmpty(), "nm not available");
        long base = NativeOracle.address(NativeOracle.libc(), "getpid") - NativeOracle.valueOf(dynamic, "getpid");
        Map<Long, List<String>> aliases = NativeOracle.namesByValue(dynamic);
        int checked = 0;
        for (NativeOracle.NmSymbol s : dynamic) {
            if (s.type() == 'T' || s.type() == 'W') {
                ResolvedAddress r = symbolizer.resolve(base + s.value(), false);
                assertTrue(aliases.get(s.value()).contains(r.name()), s + " resolved as " + r);
                assertEquals(0, r.offset(), r.toString());
                checked++;
            }
        }
        assertTrue(checked > 1000, "only " + checked + " exported functions");
    }

    /**
     * Local functions exist only in the separate debug file (libc6-dbg); the ones nm lists there
     * with a unique address must resolve by name, and disappear when the debug file is not searched.
     */
    @Test
    void localFunctionsResolveThroughTheSeparateDebugFile() {
        long getpid = NativeOracle.address(NativeOracle.libc(), "getpid");
        Path libc = Path.of(symbolizer.resolve(getpid, false).path());
        String notes = NativeOracle.run("readelf", "-n", libc.toString());
        assumeTrue(notes != null, "readelf not available");
        String buildId = notes.lines().filter(l -> l.contains("Build ID:")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst().orElseThrow();
        Path debug = Path.of("/usr/lib/debug/.build-id", buildId.substring(0, 2), buildId.substring(2) + ".debug");
        assumeTrue(Files.isRegularFile(debug), "libc debug file not installed");

        String used = symbolizer.debugFileAt(getpid);
        assertNotNull(used);
        assertTrue(Files.exists(Path.of(used)) && isSame(Path.of(used), debug), used);

        List<NativeOracle.NmSymbol> all = NativeOracle.nm(debug, false);
        Set<String> exported = NativeOracle.nm(libc, true).stream().map(NativeOracle.NmSymbol::name).collect(Collectors.toSet());
        Map<Long, List<String>> aliases = NativeOracle.namesByValue(all);
        long base = getpid - NativeOracle.valueOf(all, "getpid");
        List<NativeOracle.NmSymbol> locals = all.stream()
                .filter(s -> s.type() == 't' && s.size() > 2 && !exported.contains(s.name())
                        && aliases.get(s.value()).size() == 1)
                .toList();
        assertTrue(locals.size() > 500, "few local functions: " + locals.size());

        ElfObject withoutDebug = new ElfObjectLoader(new DebugFileLocator(Path.of("/nonexistent-debug-root")))
                .loadFile(libc);
        assertTrue(withoutDebug.debugFile() == null && withoutDebug.failure() == null, withoutDebug.toString());
        ElfObject withDebug = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT)).loadFile(libc);
        assertTrue(withDebug.symbols().size() > withoutDebug.symbols().size() + 1000,
                withDebug.symbols().size() + " vs " + withoutDebug.symbols().size());
        int step = Math.max(1, locals.size() / 300);
        int checked = 0;
        for (int i = 0; i < locals.size(); i += step) {
            NativeOracle.NmSymbol s = locals.get(i);
            ResolvedAddress r = symbolizer.resolve(base + s.value() + s.size() / 2, false);
            assertEquals(s.name(), r.name(), s.toString());
            assertEquals(s.size() / 2, r.offset());
            int j = withoutDebug.symbols().indexOf(s.value() + s.size() / 2);
            assertFalse(j >= 0 && withoutDebug.symbols().name(j).equals(s.name()), s + " named without debug file");
            checked++;
        }
        assertTrue(checked >= 250, "checked " + checked);
    }

    private static boolean isSame(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
