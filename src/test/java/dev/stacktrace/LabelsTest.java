package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.testlib.ChildJvm;
import dev.stacktrace.testlib.GoPprof;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Labels set by threads reach their samples, and only theirs. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LabelsTest {
    private static final Map<String, String> A = Map.of("endpoint", "/a");
    private static final Map<String, String> B = Map.of("endpoint", "/b");
    private static volatile boolean running;

    /** The same native call on every thread: zlib through Deflater. */
    static long deflateUntilStopped() {
        byte[] input = new byte[256 * 1024];
        new Random(3).nextBytes(input);
        for (int i = 0; i < input.length; i += 3) input[i] = 'x';
        byte[] output = new byte[input.length + 1024];
        return dev.stacktrace.testlib.ZlibWork.deflateWhile(() -> running, input, output);
    }

    @Test
    void samplesSplitByTheLabelsOfTheThreadThatTookThem() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        running = true;
        Map<String, Thread> threads = new HashMap<>();
        AtomicReference<Map<String, String>> seenByChild = new AtomicReference<>();
        threads.put("/a", new Thread(() -> Labels.run(A, () -> {
            // a thread started under labels does not inherit them
            Thread child = new Thread(() -> seenByChild.set(Labels.current()));
            child.start();
            try {
                child.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deflateUntilStopped();
        }), "labels-a"));
        threads.put("/b", new Thread(() -> Labels.run(B, LabelsTest::deflateUntilStopped), "labels-b"));
        threads.put("", new Thread(LabelsTest::deflateUntilStopped, "labels-none"));
        threads.values().forEach(Thread::start);
        Map<String, Long> cpuBefore = new HashMap<>();
        Map<String, Long> cpu = new HashMap<>();
        Profiler p = Profiler.builder().threads(threads.values()).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(2)).build();
        try {
            Thread.sleep(300);
            threads.forEach((k, t) -> cpuBefore.put(k, mx.getThreadCpuTime(t.getId())));
            p.start();
            Thread.sleep(5000);
            p.join();
            threads.forEach((k, t) -> cpu.put(k, mx.getThreadCpuTime(t.getId()) - cpuBefore.get(k)));
        } finally {
            running = false;
            for (Thread t : threads.values()) t.join(10_000);
        }
        assertEquals(Map.of(), seenByChild.get(), "a child thread saw its parent's labels");

        Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels = p.getStacksByLabels();
        assertTrue(byLabels.keySet().stream().allMatch(l -> l.isEmpty() || l.equals(A) || l.equals(B)),
                "only the labels that were set: " + byLabels.keySet());
        long total = byLabels.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        long cpuTotal = cpu.values().stream().mapToLong(Long::longValue).sum();
        assertTrue(total >= 150, "too few samples to judge: " + total);
        for (Map.Entry<String, Thread> e : threads.entrySet()) {
            Map<String, String> labels = e.getKey().isEmpty() ? Map.of() : Map.of("endpoint", e.getKey());
            Map<List<StackEntry>, Long> stacks = byLabels.getOrDefault(labels, Map.of());
            long n = stacks.values().stream().mapToLong(Long::longValue).sum();
            double share = (double) n / total;
            double truth = (double) cpu.get(e.getKey()) / cpuTotal;
            assertTrue(Math.abs(share - truth) < 0.15, "labels " + labels + ": " + n + " of " + total + " samples ("
                    + share + ") but " + truth + " of the threads' CPU time");
            // the same native call under each label: zlib below Deflater's native method
            long inDeflater = stacks.entrySet().stream()
                    .filter(s -> s.getKey().stream().anyMatch(f -> f.name().startsWith("java.util.zip.Deflater.deflateBytes")))
                    .mapToLong(Map.Entry::getValue).sum();
            assertTrue(inDeflater > n / 2, "labels " + labels + ": " + inDeflater + " of " + n + " in Deflater");
        }
        // the same split through the filter and the collapsed output's label frames
        long viaFilter = p.getStacks(A).values().stream().mapToLong(Long::longValue).sum();
        assertEquals(byLabels.get(A).values().stream().mapToLong(Long::longValue).sum(), viaFilter);
        long collapsedA = 0;
        for (String line : p.collapsed(true).split("\n")) {
            assertTrue(line.startsWith("[label endpoint=/a];") || line.startsWith("[label endpoint=/b];")
                    || !line.startsWith("[label"), line);
            if (line.startsWith("[label endpoint=/a];")) collapsedA += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
        }
        assertEquals(viaFilter, collapsedA);
        assertTrue(!p.collapsed().contains("[label"), "labels only when asked for");
        assertTrue(p.flameGraph("a", A).contains("deflate"), "the filtered flame graph has the labelled stacks");
        // and into pprof: each sample's labels, as go tool pprof reads them
        ProfileSnapshot snapshot = p.snapshot();
        assertEquals(viaFilter, snapshot.samples().stream().filter(s -> s.labels().equals(A))
                .mapToLong(ProfileSnapshot.Sample::count).sum());
        Path file = Files.createTempFile("labels", ".pb.gz");
        try {
            Files.write(file, snapshot.pprof());
            String tags = GoPprof.run(120, "-tags", file.toString());
            assertTrue(tags.contains("endpoint") && tags.contains("/a") && tags.contains("/b"), tags);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void scopesNestAndRestore() throws Exception {
        assertEquals(Map.of(), Labels.current());
        try (Labels.Scope outer = Labels.with(Map.of("endpoint", "/checkout", "tenant", "acme"))) {
            assertEquals(Map.of("endpoint", "/checkout", "tenant", "acme"), Labels.current());
            try (Labels.Scope inner = Labels.with(Map.of("endpoint", "/pay", "step", "card"))) {
                assertEquals(Map.of("endpoint", "/pay", "tenant", "acme", "step", "card"), Labels.current());
                assertEquals(Labels.current(), inner.labels());
            }
            assertEquals(Map.of("endpoint", "/checkout", "tenant", "acme"), Labels.current());
            assertThrows(IllegalStateException.class, () -> Labels.run(Map.of("step", "x"), () -> {
                assertEquals("x", Labels.current().get("step"));
                throw new IllegalStateException("thrown inside");
            }));
            assertEquals(Map.of("endpoint", "/checkout", "tenant", "acme"), Labels.current(), "restored after a throw");
            assertEquals("/x", Labels.call(Map.of("endpoint", "/x"), () -> Labels.current().get("endpoint")));
            Thread other = new Thread(() -> assertThrows(IllegalStateException.class, outer::close));
            other.start();
            other.join(10_000);
            assertEquals("acme", Labels.current().get("tenant"), "a close on another thread changed nothing");
        }
        assertEquals(Map.of(), Labels.current());
        // a map the caller changes between uses is read again each time
        Map<String, String> mutable = new HashMap<>(Map.of("endpoint", "/one"));
        Labels.run(mutable, () -> assertEquals("/one", Labels.current().get("endpoint")));
        mutable.put("endpoint", "/two");
        Labels.run(mutable, () -> assertEquals("/two", Labels.current().get("endpoint")));
        assertThrows(IllegalArgumentException.class, () -> Labels.with(Map.of("k", "v".repeat(Labels.MAX_LENGTH + 1))));
        assertThrows(IllegalArgumentException.class, () -> Labels.with(Map.of("", "v")));
        assertEquals(Map.of(), Labels.current(), "a refused set changes nothing");
    }

    @Test
    void aThreadThatEndsWithLabelsSetLeavesNothingBehind() throws Exception {
        List<Thread> ended = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Thread t = new Thread(() -> Labels.with(Map.of("endpoint", "/left-open")));  // never closed
            t.start();
            ended.add(t);
        }
        for (Thread t : ended) t.join(10_000);
        // new threads (glibc hands them the ended threads' stacks and thread-local storage) start without labels
        List<String> problems = new ArrayList<>();
        List<Thread> fresh = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Thread t = new Thread(() -> {
                int word = new Pointer(LibStacktrace.st_label_word()).getInt(0);
                Map<String, String> labels = Labels.current();
                if (word != 0 || !labels.isEmpty()) {
                    synchronized (problems) {
                        problems.add("word " + word + ", labels " + labels);
                    }
                }
            });
            t.start();
            fresh.add(t);
        }
        for (Thread t : fresh) t.join(10_000);
        assertEquals(List.of(), problems);
    }

    @Test
    void pastTheBoundsAClearError() throws Exception {
        ChildJvm.Result r = ChildJvm.run(Bounds.class, List.of());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("keys: too many label keys"), r.output());
        assertTrue(r.output().contains("sets: too many distinct label sets"), r.output());
        assertTrue(r.output().contains("still {k0=v}"), r.output());
    }

    /** In a fresh JVM: the bounds are per JVM and never reset. */
    public static final class Bounds {
        public static void main(String[] args) {
            for (int i = 0; i < Labels.MAX_KEYS; i++) Labels.with(Map.of("k" + i, "v")).close();
            try {
                Labels.with(Map.of("one-too-many", "v"));
                System.out.println("keys: accepted");
            } catch (IllegalStateException e) {
                System.out.println("keys: " + e.getMessage());
            }
            try (Labels.Scope s = Labels.with(Map.of("k0", "v"))) {
                try {
                    for (int i = 0; i <= Labels.MAX_SETS; i++) Labels.with(Map.of("k1", "value" + i)).close();
                    System.out.println("sets: accepted");
                } catch (IllegalStateException e) {
                    System.out.println("sets: " + e.getMessage());
                }
                System.out.println("still " + Labels.current());
            }
        }
    }
}
