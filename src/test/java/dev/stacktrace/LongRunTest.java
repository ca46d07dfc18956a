package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.bench.LongRunBenchmark;
import dev.stacktrace.testlib.ChildJvm;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short version of bench/long-run.sh, in a child JVM: 100 threads profiled at 100 Hz and read
 * every second as a push reads, with a table small enough to fill in the first seconds. From then
 * on new stacks count as table_full, and the memory the profile holds (the table, the names of its
 * stacks, the pushes' last counts) must stay where it was however long the profile runs: over the
 * second half the live heap may not grow by a read's worth, and the resident set (a fixed, touched
 * heap) by no more than the JIT's and malloc's own drift.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class LongRunTest {
    private static final int TABLE = 128;

    @Test
    void aFullProfileReadEverySecondHoldsItsMemory() throws Exception {
        ChildJvm.Result run = ChildJvm.run(LongRunBenchmark.class, List.of("-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch"),
                "--seconds", "16", "--report", "4", "--push", "1", "--threads", "100", "--load", "0.5", "--width", "3",
                "--depth", "4", "--table", String.valueOf(TABLE));
        assertEquals(0, run.exitCode(), run.output());
        String line = run.output().lines().filter(l -> l.startsWith("result ")).findFirst().orElse(null);
        assertTrue(line != null, "no result line:\n" + run.output());
        Map<String, Long> result = numbers(line);
        // the second half is the bounded regime only if the table was full before it began (a
        // slot or two may stay free when the frames' arena fills first)
        assertTrue(result.get("midTableFull") > 0, "the table was not full at half time:\n" + run.output());
        assertTrue(result.get("stacks") >= TABLE - 4 && result.get("stacks") <= TABLE, run.output());
        assertEquals(0, result.get("stackGrowth"), run.output());
        assertTrue(result.get("heapGrowthKib") < 1024, "the live heap grew with a full table:\n" + run.output());
        assertTrue(result.get("rssGrowthKib") < 32 * 1024, "the resident set grew with a full table:\n" + run.output());
        System.out.println(run.output().lines().filter(l -> l.startsWith("over the second half")).findFirst().orElse(""));
    }

    private static Map<String, Long> numbers(String line) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String part : line.substring("result ".length()).split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(eq + 1).matches("-?\\d+")) out.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
        }
        return out;
    }
}
