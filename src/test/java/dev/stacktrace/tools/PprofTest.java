package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import dev.stacktrace.testlib.GoPprof;
import dev.stacktrace.testlib.TestNative;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The pprof encoder, read back by the real client: Go's {@code go tool pprof}. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PprofTest {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** The test library's spinning leaf, as pprof shows a C++ function (without its parameters). */
    private static final String NATIVE_LEAF = "stt::Recurser::leaf_spin";

    @TempDir
    Path dir;

    static volatile boolean spin;

    static long pprofJavaSpin() {
        long x = 1;
        while (spin) {
            for (int i = 0; i < 100_000; i++) x = x * 31 + i;
        }
        return x;
    }

    /** Profiles every thread while one spins in Java and one in native code (a known library), at 5 ms. */
    private Profiler profileKnownWorkload(Profiler.Mode mode) throws Exception {
        AtomicLong sink = new AtomicLong();
        spin = true;
        TestNative.stt_start_spinning();
        Thread java = new Thread(() -> sink.addAndGet(pprofJavaSpin()), "pprof-java");
        Thread nat = new Thread(() -> sink.addAndGet(TestNative.stt_recurse_then_spin(5, 60_000)), "pprof-native");
        java.start();
        nat.start();
        try {
            Thread.sleep(200);
            Profiler p = Profiler.builder().allThreads().mode(mode).interval(Duration.ofMillis(5)).build().start();
            // until both threads had 0.5 s of CPU however loaded the machine is; 30 s at most
            long javaStart = THREADS.getThreadCpuTime(java.getId());
            long nativeStart = THREADS.getThreadCpuTime(nat.getId());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && (THREADS.getThreadCpuTime(java.getId()) - javaStart < 500_000_000L
                    || THREADS.getThreadCpuTime(nat.getId()) - nativeStart < 500_000_000L)) {
                Thread.sleep(100);
            }
            p.join();
            return p;
        } finally {
            spin = false;
            TestNative.stt_stop_spinning();
            java.join(10_000);
            nat.join(10_000);
        }
    }

    @Test
    void goPprofReadsTheProfileWithEveryLocationNamedOrMappedAndEverySampleCounted() throws Exception {
        Profiler p = profileKnownWorkload(Profiler.Mode.CPU);
        ProfileSnapshot snapshot = p.snapshot();
        Path file = dir.resolve("cpu.pb.gz");
        try (OutputStream out = Files.newOutputStream(file)) {
            p.writePprof(out);
        }
        assertTrue(snapshot.totalCount() > 100, "samples: " + snapshot.totalCount());

        GoPprof.Raw raw = GoPprof.parseRaw(GoPprof.run(60, "-raw", file.toString()));
        String text = raw.text();
        assertTrue(text.contains("PeriodType: cpu nanoseconds"), text);
        assertTrue(text.contains("Period: 5000000"), text);
        assertTrue(text.contains("samples/count cpu/nanoseconds"), text);
        assertEquals(snapshot.samples().size(), raw.samples().size(), "one pprof sample per distinct stack");
        assertEquals(snapshot.totalCount(), raw.totalCount(), "sample counts add up to the profile's total");
        for (long[] s : raw.samples()) assertEquals(s[0] * 5_000_000L, s[1], "cpu/nanoseconds = samples x period");

        // every location has a function, or an address inside a mapping
        assertTrue(raw.locations().size() > 10, text);
        assertTrue(!raw.mappings().isEmpty(), "native frames have mappings: " + text);
        for (Map.Entry<Long, String> l : raw.locations().entrySet()) {
            String loc = l.getValue();
            boolean hasFunction = loc.replaceFirst("^0x[0-9a-f]+\\s+", "").replaceFirst("^M=\\d+\\s+", "").length() > 0
                    && !loc.matches("^0x[0-9a-f]+(\\s+M=\\d+)?\\s*$");
            boolean inMapping = false;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^0x([0-9a-f]+)\\s+M=(\\d+)").matcher(loc);
            if (m.find()) {
                long address = Long.parseUnsignedLong(m.group(1), 16);
                long[] range = raw.mappings().get(Long.parseLong(m.group(2)));
                inMapping = range != null && Long.compareUnsigned(address, range[0]) >= 0
                        && Long.compareUnsigned(address, range[1]) < 0;
                assertTrue(inMapping, "location " + l.getKey() + " lies outside its mapping " + loc);
            }
            assertTrue(hasFunction || inMapping, "location " + l.getKey() + " has neither function nor mapping: " + loc);
        }
        // the Java method comes with its file and line, the native leaf with its library's mapping and build id
        assertTrue(text.lines().anyMatch(line -> line.contains("dev.stacktrace.tools.PprofTest.pprofJavaSpin PprofTest.java:")),
                text);
        assertTrue(text.lines().anyMatch(line -> line.contains("M=") && line.contains(" " + NATIVE_LEAF + " ")), text);
        assertTrue(text.lines().anyMatch(line -> line.contains("libstacktracetest.so") && line.matches(".*\\s[0-9a-f]{40}\\s+\\[FN]\\s*$")),
                "the test library's mapping carries its build id: " + text);

        // the known workload is on top
        List<GoPprof.TopRow> top = GoPprof.parseTop(GoPprof.run(60, "-top", "-sample_index=samples", file.toString()));
        assertTrue(top.size() >= 2, "top: " + top);
        List<String> firstFive = top.subList(0, Math.min(5, top.size())).stream().map(GoPprof.TopRow::name).toList();
        assertTrue(firstFive.contains("dev.stacktrace.tools.PprofTest.pprofJavaSpin"), "top: " + top);
        assertTrue(firstFive.contains(NATIVE_LEAF), "top: " + top);
        long flatTotal = top.stream().mapToLong(GoPprof.TopRow::flat).sum();
        assertEquals(snapshot.totalCount(), flatTotal, "flat counts add up to the total: " + top);
    }

    @Test
    void wallModeUsesWallSampleTypesAndLabelsMarkersAndUnmappedCodeSurvive() throws Exception {
        StackEntry marker = StackEntry.marker("[truncated]");
        StackEntry java = StackEntry.javaFrame(0, StackEntry.Kind.JAVA_COMPILED, "a.B", "run", "B.java", 42);
        StackEntry stub = new StackEntry(0x7f0000001234L, "StubRoutines (1)", 0, "[jit]", true);
        List<ProfileSnapshot.Sample> samples = List.of(
                new ProfileSnapshot.Sample(List.of(marker, java), Map.of(), 3),
                new ProfileSnapshot.Sample(List.of(stub, java), Map.of("endpoint", "/checkout"), 4));
        ProfileSnapshot s = ProfileSnapshot.of(Profiler.Mode.WALL, Duration.ofMillis(10),
                Instant.ofEpochSecond(1_700_000_000L), Duration.ofSeconds(2), samples);
        Path file = dir.resolve("wall.pb.gz");
        Files.write(file, s.pprof());

        String text = GoPprof.run(60, "-raw", file.toString());
        GoPprof.Raw raw = GoPprof.parseRaw(text);
        assertTrue(text.contains("PeriodType: wall nanoseconds"), text);
        assertTrue(text.contains("samples/count wall/nanoseconds"), text);
        assertTrue(text.contains("Duration: 2s"), text);
        assertEquals(7, raw.totalCount(), text);
        assertTrue(text.contains("endpoint:[/checkout]"), "labels: " + text);
        assertTrue(text.contains("[truncated]"), text);
        assertTrue(text.contains("StubRoutines (1)"), text);
        assertTrue(text.contains("a.B.run B.java:42"), text);
        List<GoPprof.TopRow> top = GoPprof.parseTop(GoPprof.run(60, "-top", "-sample_index=samples", file.toString()));
        assertEquals(List.of("StubRoutines (1)", "[truncated]", "a.B.run"), top.stream().map(GoPprof.TopRow::name).toList(),
                "top: " + top);
        assertEquals(7, top.get(2).cum(), "top: " + top);
    }

    @Test
    void sinceGivesOnlyTheSamplesBetweenTwoSnapshots() throws Exception {
        Profiler p = profileKnownWorkload(Profiler.Mode.CPU);
        ProfileSnapshot whole = p.snapshot();
        ProfileSnapshot none = whole.since(whole);
        assertEquals(0, none.totalCount());
        assertEquals(Duration.ZERO, none.duration());
        ProfileSnapshot empty = ProfileSnapshot.of(Profiler.Mode.CPU, Duration.ofMillis(5), whole.start(), Duration.ZERO,
                List.of());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> whole.since(empty));
        assertTrue(whole.duration().toMillis() >= 500, "duration " + whole.duration());
    }
}
