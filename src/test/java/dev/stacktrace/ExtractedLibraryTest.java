package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import dev.stacktrace.internal.symbols.ResolvedAddress;
import dev.stacktrace.internal.symbols.Symbolizer;
import dev.stacktrace.internal.symbols.TestSymbolizers;
import dev.stacktrace.testlib.ChildJvm;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JNI library extracted to a temporary file, loaded and deleted at once (as zstd-jni and netty
 * do) is named from the mapped file: every frame in it, its PLT entries, and the places in no
 * symbol, each by its own offset. The oracle is binutils (nm, objdump) on the file that was copied.
 * In a child JVM: the test library must be loaded only from the deleted copy, or the original
 * would interpose its functions.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ExtractedLibraryTest {

    @Test
    void aDeletedLibraryIsNamedFromItsMapping() throws Exception {
        ChildJvm.Result result = ChildJvm.run(Child.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("named frames in the deleted library: "), result.output());
    }

    /** Symbol of the original file: start and size (link-time), from nm. */
    record Sym(long start, long size) {}

    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path original = Path.of(Child.class.getResource("/linux-x86-64/libstacktracetest.so").toURI());
            Path dir = Files.createTempDirectory("extracted");
            // The pattern File.createTempFile gives rocksdbjni and zstd-jni: a random number before ".so".
            File copy = File.createTempFile("libstacktracetest", ".so", dir.toFile());
            Files.copy(original, copy.toPath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            System.load(copy.getAbsolutePath());
            NativeLibrary lib = NativeLibrary.getInstance(copy.getAbsolutePath());
            Function spin = lib.getFunction("stt_recurse_then_spin");
            lib.getFunction("stt_start_spinning").invokeVoid(new Object[0]);
            Files.delete(copy.toPath());
            Files.delete(dir);

            Map<String, Sym> symbols = nm(original);
            long base = loadBase(copy.getAbsolutePath());
            check(base == com.sun.jna.Pointer.nativeValue(spin) - symbols.get("stt_recurse_then_spin").start(),
                    "load base " + Long.toHexString(base));

            // PLT entries: objdump's names, e.g. "nanosleep@plt"
            Map<Long, String> plt = pltEntries(original);
            check(plt.size() >= 5, "objdump found PLT entries: " + plt);

            Thread spinner = new Thread(() -> spin.invokeLong(new Object[] {6, 60_000}), "spinner");
            spinner.setDaemon(true);
            spinner.start();
            int named = 0;
            int seen = 0;
            boolean sawLeaf = false;
            int inPlt = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int sample = 0; sample < 40 && System.nanoTime() < deadline; ) {
                List<StackEntry> stack;
                try {
                    stack = Stacktrace.getThreadStack(spinner, 64, true);
                } catch (StacktraceException e) {
                    continue;  // a slow answer on a loaded machine: ask again
                }
                boolean first = true;
                boolean inLibrary = false;
                for (StackEntry e : stack) {
                    if (!copy.getAbsolutePath().equals(e.path())) {
                        first = false;
                        continue;
                    }
                    inLibrary = true;
                    seen++;
                    check(e.library().equals("libstacktracetest.so"), "stable name: " + e);
                    check(e.hasName(), "unnamed frame " + e + " in\n" + Stacktrace.format(stack));
                    // the symbol's range holds the looked-up address (a return address: the call before it)
                    long lookup = e.address() - (first ? 0 : 1) - base;
                    if (e.name().endsWith("@plt")) {  // caught in a PLT stub (leaf_spin calls clock_gettime)
                        check(e.name().equals(plt.get(e.address() - base - e.offset())), "PLT frame " + e);
                        named++;
                        inPlt++;
                        first = false;
                        continue;
                    }
                    Sym s = symbols.get(e.name());
                    check(s != null, "no such symbol in nm: " + e);
                    check(lookup >= s.start() && lookup < s.start() + Math.max(1, s.size()), "outside its symbol: " + e);
                    check(e.offset() == e.address() - base - s.start(), "offset of " + e);
                    sawLeaf |= e.name().equals("stt::Recurser::leaf_spin(int)");
                    named++;
                    first = false;
                }
                if (inLibrary) sample++;
            }
            check(seen > 0 && sawLeaf, "no sample in the library's spin loop");

            for (Map.Entry<Long, String> p : plt.entrySet()) {
                ResolvedAddress r = Symbolizer.shared().resolve(base + p.getKey() + 4, false);
                check(r.name().equals(p.getValue()) && r.offset() == 4, "PLT entry " + p.getValue() + " resolved as " + r);
            }

            // places in no symbol: the ELF header's bytes, each its own name
            ResolvedAddress a = Symbolizer.shared().resolve(base + 0x10, false);
            ResolvedAddress b = Symbolizer.shared().resolve(base + 0x20, false);
            check(!a.hasName() && !b.hasName(), a + " " + b);
            check(a.name().equals("libstacktracetest.so+0x10") && b.name().equals("libstacktracetest.so+0x20"), a + " " + b);
            check(!a.toEntry().name().equals(b.toEntry().name()), "two places, two names");

            // Without /proc/self/map_files/ (an unprivileged process): the exported functions, from memory
            Symbolizer memoryOnly = TestSymbolizers.withoutMapFiles();
            Map<Long, List<String>> exported = exportedFunctions(original);
            check(exported.size() > 10, "nm -D found functions: " + exported);
            for (Map.Entry<Long, List<String>> f : exported.entrySet()) {
                ResolvedAddress r = memoryOnly.resolve(base + f.getKey() + 1, false);
                check(f.getValue().contains(r.name()) && r.offset() == 1, "exported " + f.getValue() + " resolved from memory as " + r);
            }
            ResolvedAddress header = memoryOnly.resolve(base + 0x10, false);
            check(header.name().equals("libstacktracetest.so+0x10"), "from memory: " + header);

            lib.getFunction("stt_stop_spinning").invokeVoid(new Object[0]);
            System.out.println("named frames in the deleted library: " + named + " of " + seen + " (" + inPlt
                    + " caught in a PLT stub), PLT entries named " + plt.size());
            System.exit(0);
        }

        private static void check(boolean ok, String what) {
            if (!ok) {
                System.out.println("FAILED: " + what);
                System.exit(1);
            }
        }

        /** The start of the mapping of the copy's first bytes (its first PT_LOAD has vaddr 0). */
        private static long loadBase(String path) throws Exception {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] f = line.trim().split("\\s+", 6);
                if (f.length == 6 && f[5].startsWith(path) && Long.parseLong(f[2], 16) == 0) {
                    return Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
                }
            }
            throw new AssertionError("copy not mapped");
        }

        /** Demangled name → symbol, of the defined code symbols (nm -C -S). */
        private static Map<String, Sym> nm(Path file) throws Exception {
            Map<String, Sym> out = new HashMap<>();
            for (String line : run("nm", "-C", "-S", "--defined-only", file.toString())) {
                String[] f = line.split(" ", 4);
                if (f.length == 4 && (f[2].equalsIgnoreCase("t") || f[2].equalsIgnoreCase("w"))) {
                    out.put(f[3], new Sym(Long.parseUnsignedLong(f[0], 16), Long.parseUnsignedLong(f[1], 16)));
                }
            }
            return out;
        }

        /** Start → mangled names of the exported functions (nm -D). */
        private static Map<Long, List<String>> exportedFunctions(Path file) throws Exception {
            Map<Long, List<String>> out = new HashMap<>();
            for (String line : run("nm", "-D", "-S", "--defined-only", file.toString())) {
                String[] f = line.split(" ", 4);
                if (f.length == 4 && (f[2].equals("T") || f[2].equals("W")) && Long.parseUnsignedLong(f[1], 16) > 1) {
                    out.computeIfAbsent(Long.parseUnsignedLong(f[0], 16), k -> new ArrayList<>()).add(f[3]);
                }
            }
            return out;
        }

        /** Address → name of each named PLT entry, as objdump -d -C prints "0000000000002030 <name@plt>:". */
        private static Map<Long, String> pltEntries(Path file) throws Exception {
            Map<Long, String> out = new HashMap<>();
            for (String line : run("objdump", "-d", "-C", "-j", ".plt", "-j", ".plt.got", "-j", ".plt.sec", file.toString())) {
                int lt = line.indexOf(" <");
                if (lt > 0 && line.endsWith("@plt>:")) {
                    out.put(Long.parseUnsignedLong(line.substring(0, lt), 16), line.substring(lt + 2, line.length() - 2));
                }
            }
            return out;
        }

        private static List<String> run(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            List<String> lines = new ArrayList<>(List.of(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")));
            check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + " failed");
            return lines;
        }
    }
}
