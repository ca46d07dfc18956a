package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.stacks.StackResolver;
import dev.stacktrace.testlib.ChildJvm;
import dev.stacktrace.testlib.TestNative;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thread interrupted in native code that no unwinder can step through (unwind info that finds the
 * caller from rbp, while rbp is garbage: the return address slot straddles a readable and an
 * unreadable page) must not crash the JVM: the unwinder's
 * reads cannot fault, so the stack just ends there. Captured on demand (native and mixed) and sampled by the profiler in wall
 * and cpu mode, in a child JVM, so a crash shows as its exit code here.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class CorruptFrameTest {
    private static final String SPINNER = "stt_spin_with_rbp";

    @Test
    void unwindingThroughACorruptFrameNeverCrashes() throws Exception {
        ChildJvm.Result result = ChildJvm.run(Child.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        // each way of capturing saw the thread inside the corrupt frame at least once
        for (String what : List.of("native", "mixed", "wall", "cpu")) {
            Matcher m = Pattern.compile(what + "=(\\d+)/(\\d+)").matcher(result.output());
            assertTrue(m.find(), what + " missing: " + result.output());
            assertTrue(Long.parseLong(m.group(1)) > 0, what + " never in the corrupt frame: " + result.output());
        }
    }

    /** Runs in the child JVM. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Stacktrace.getStack(5, true);
            Thread spinner = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) TestNative.stt_spin_in_corrupt_frame(50);
            }, "corrupt-frame");
            spinner.setDaemon(true);
            spinner.start();
            int tid = Stacktrace.nativeThreadId(spinner);
            Thread.sleep(200);

            int nativeHits = 0, nativeTotal = 0, mixedHits = 0, mixedTotal = 0;
            Map<String, Integer> tops = new TreeMap<>();  // what was on top instead, for the failure's message
            for (int i = 0; i < 300; i++) {
                try {
                    long[] raw = NativeCapture.get().captureThread(tid, 64);
                    nativeTotal++;
                    List<StackEntry> stack = StackResolver.interruptedStack(raw, 64, true);
                    if (topIsSpinner(stack)) nativeHits++;
                    else tops.merge(stack.isEmpty() ? "(empty)" : stack.get(0).toString(), 1, Integer::sum);
                } catch (StacktraceException e) {
                    // a timeout on a loaded machine is no crash; counted by the totals
                }
                try {
                    List<StackEntry> mixed = Stacktrace.getThreadStack(spinner, 64, true);
                    mixedTotal++;
                    if (topIsSpinner(mixed)) mixedHits++;
                } catch (StacktraceException e) {
                    // as above
                }
            }
            System.out.println("native=" + nativeHits + "/" + nativeTotal);
            System.out.println("mixed=" + mixedHits + "/" + mixedTotal);
            System.out.println("other tops (native) " + tops);
            for (Profiler.Mode mode : Profiler.Mode.values()) {
                try (Profiler p = Profiler.builder().thread(spinner).mode(mode).interval(Duration.ofMillis(2))
                        .build().start()) {
                    Thread.sleep(1500);
                    p.join();
                    long hits = 0, total = 0;
                    for (Map.Entry<List<StackEntry>, Long> e : p.getStacks().entrySet()) {
                        total += e.getValue();
                        if (topIsSpinner(e.getKey())) hits += e.getValue();
                    }
                    System.out.println(mode.name().toLowerCase() + "=" + hits + "/" + total + " errors=" + p.errorCounts());
                }
            }
            spinner.interrupt();
            System.exit(0);
        }

        private static boolean topIsSpinner(List<StackEntry> stack) {
            return !stack.isEmpty() && SPINNER.equals(stack.get(0).name());
        }
    }
}
