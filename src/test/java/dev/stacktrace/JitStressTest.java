package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.bench.JitStress;
import dev.stacktrace.testlib.ChildJvm;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sampling a thread whose code the JIT keeps compiling, deoptimizing and recompiling must never
 * crash or hang the JVM. CI runs 40,000 samples in a child JVM (a crash shows as its exit code);
 * bench/jit-stress.sh runs a million, with the figures in docs/PERFORMANCE.md.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class JitStressTest {
    @Test
    void fortyThousandSamplesOfAJitChurningThread() throws Exception {
        // seconds on a quiet machine; a starved one gives the thread far fewer samples a second
        ChildJvm.Result result = ChildJvm.run(280, JitStress.class, List.of(), "40000", "20");
        assertEquals(0, result.exitCode(), result.output());
        Matcher m = Pattern.compile("RESULT samples=(\\d+) errors=(\\d+) walkedToBottom=(\\d+) resolved=(\\d+) "
                + "resolvedToBottom=(\\d+)").matcher(result.output());
        assertTrue(m.find(), result.output());
        long samples = Long.parseLong(m.group(1));
        long errors = Long.parseLong(m.group(2));
        long bottom = Long.parseLong(m.group(3));
        long resolved = Long.parseLong(m.group(4));
        long resolvedBottom = Long.parseLong(m.group(5));
        assertEquals(40000, samples);
        assertTrue(errors < samples / 100, "requests failed: " + result.output());
        // Most walks reach the thread's start; the rest stop early (a frame in a prologue or a stub), never wrongly.
        assertTrue(bottom > samples / 2, result.output());
        assertTrue(resolvedBottom > resolved / 2, result.output());
    }
}
