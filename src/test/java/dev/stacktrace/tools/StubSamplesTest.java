package dev.stacktrace.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Java loops that spend their time in JVM stubs (the intrinsics behind Math.sin/log, CRC32C,
 * System.arraycopy), profiled in cpu mode: every sample is recorded, with the stub named on top of
 * the Java method that called it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StubSamplesTest {
    private static final int WANTED_SAMPLES = 80;
    private static volatile boolean spin;
    private static volatile long sink;

    static long sinLogLoop() {
        double s = 0;
        for (int i = 0; i < 100_000; i++) s += Math.sin(i * 0.001) + Math.log(i + 1.0);
        return (long) s;
    }

    static long crc32cLoop(byte[] data) {
        CRC32C crc = new CRC32C();
        for (int i = 0; i < 20; i++) crc.update(data, 0, data.length);
        return crc.getValue();
    }

    static long arraycopyLoop(byte[] from, byte[] to) {
        long s = 0;
        for (int i = 0; i < 20; i++) {
            System.arraycopy(from, 0, to, 0, from.length);
            s += to[i];
        }
        return s;
    }

    @Test
    void mathIntrinsics() throws Exception {
        profile("sinLogLoop", StubSamplesTest::sinLogLoop, Pattern.compile("libmSin|libmLog|dsin|dlog"), 0.3);
    }

    @Test
    void crc32c() throws Exception {
        byte[] data = new byte[1 << 20];
        // HotSpot's records at this stub's call name the loop in 26-100 % of samples depending on how
        // C2 shaped the code: 26 % without the JIT's records of every pc and 29 % with them, in two loaded CI runs
        profile("crc32cLoop", () -> crc32cLoop(data), Pattern.compile(".*CRC32C.*"), 0.15);
    }

    @Test
    void arraycopy() throws Exception {
        byte[] from = new byte[1 << 20], to = new byte[1 << 20];
        profile("arraycopyLoop", () -> arraycopyLoop(from, to), Pattern.compile(".*arraycopy.*"), 0.3);
    }

    static long crc32cFour(byte[] data) {
        CRC32C crc = new CRC32C();
        for (int i = 0; i < 4; i++) crc.update(data, 0, data.length);
        return crc.getValue();
    }

    /**
     * An intrinsic's stub called from a short loop that C2 unrolls and inlines into an outer loop: the
     * call into the stub records no debug information, and the next place that does is the outer
     * loop's, so without the JIT's records of every pc (DebugNonSafepoints, which the library turns on
     * by listening for compiled methods) no sample names CRC32C.update or the method that called it
     * (measured: 0 of 399; with the records 195-289 of 400, as with -XX:+DebugNonSafepoints, the rest
     * being HotSpot's own limit).
     */
    @Test
    void anIntrinsicInlinedIntoAnOuterLoopKeepsItsCallers() throws Exception {
        dev.stacktrace.Stacktrace.getStack(1, false);  // the library first: code compiled from now on is recorded at every pc
        byte[] data = new byte[1 << 16];
        spin = true;
        Thread worker = new Thread(() -> {
            while (spin) sink += crc32cFour(data);
        }, "stub-worker");
        worker.start();
        try {
            Thread.sleep(1500);  // compiled by C2
            Profiler p = Profiler.builder().thread(worker).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(5))
                    .build().start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.sampleCount() < 2 * WANTED_SAMPLES && System.nanoTime() < deadline) Thread.sleep(50);
            p.join();
            long all = 0, withCallers = 0;
            for (Map.Entry<List<StackEntry>, Long> e : p.getStacks().entrySet()) {
                all += e.getValue();
                if (e.getKey().stream().anyMatch(f -> f.isJava() && "crc32cFour".equals(f.methodName()))) withCallers += e.getValue();
            }
            assertTrue(all >= WANTED_SAMPLES, all + " samples");
            assertTrue(withCallers >= 0.2 * all, "crc32cFour in " + withCallers + " of " + all + " samples");
        } finally {
            spin = false;
            worker.join();
        }
    }

    /** @param minWithLoop the least share of the samples whose stack names {@code loop} */
    private static void profile(String loop, LongSupplier work, Pattern stubName, double minWithLoop) throws Exception {
        spin = true;
        Thread worker = new Thread(() -> {
            while (spin) sink += work.getAsLong();
        }, "stub-worker");
        worker.start();
        try {
            Thread.sleep(300);  // let the loop get compiled, so its intrinsics are the stubs
            Profiler p = Profiler.builder().thread(worker).mode(Profiler.Mode.CPU).interval(Duration.ofMillis(5))
                    .build().start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.sampleCount() < WANTED_SAMPLES && System.nanoTime() < deadline) Thread.sleep(50);
            p.join();

            Map<List<StackEntry>, Long> stacks = p.getStacks();
            long recorded = 0, withLoop = 0, namedStub = 0, callerBelowStub = 0;
            for (Map.Entry<List<StackEntry>, Long> e : stacks.entrySet()) {
                List<StackEntry> s = e.getKey();
                recorded += e.getValue();
                if (s.stream().anyMatch(f -> f.isJava() && loop.equals(f.methodName()))) withLoop += e.getValue();
                StackEntry top = s.get(0);
                if (top.kind() == StackEntry.Kind.JVM && stubName.matcher(top.name()).matches()) {
                    namedStub += e.getValue();
                    // below the stub, a Java frame (the loop, a JDK method inlined into it, or the method
                    // the loop was inlined into), not a marker
                    StackEntry below = s.stream().skip(1).filter(f -> !f.isJvm()).findFirst().orElse(top);
                    if (below.isJava()) callerBelowStub += e.getValue();
                }
            }
            String report = loop + ": " + p.sampleCount() + " samples, recorded " + recorded + ", errors "
                    + p.errorCounts() + ", incomplete " + p.incompleteCount() + ", with " + loop + " " + withLoop
                    + ", named stub on top " + namedStub + " (with our Java caller below " + callerBelowStub + "); most frequent stack without it:\n"
                    + stacks.entrySet().stream().filter(e -> e.getKey().stream().noneMatch(
                            f -> f.isJava() && loop.equals(f.methodName()))).max(Map.Entry.comparingByValue())
                            .map(e -> dev.stacktrace.Stacktrace.format(e.getKey())).orElse("none");
            assertTrue(p.sampleCount() >= WANTED_SAMPLES / 2, report);
            assertEquals(0, p.errorCounts().values().stream().mapToLong(Long::longValue).sum(), report);
            assertEquals(p.sampleCount(), recorded, "every sample is recorded: " + report);
            assertTrue(namedStub > 0, "a stub named by the JVM on top: " + report);
            assertTrue(p.incompleteCount() <= 0.2 * recorded, report);
            assertTrue(callerBelowStub >= 0.8 * namedStub, "the Java caller below the stub: " + report);
            // the loop's own name needs AsyncGetCallTrace's inlining information where C2 inlined it into its caller
            assertTrue(withLoop >= minWithLoop * recorded, "the loop method in the stacks: " + report);
        } finally {
            spin = false;
            worker.join();
        }
    }
}
