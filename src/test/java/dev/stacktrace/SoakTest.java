package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.bench.Soak;
import dev.stacktrace.testlib.ChildJvm;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A short soak (bench/soak.sh runs the long one) in a child JVM with a small heap and a watchdog. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SoakTest {

    @Test
    void aShortSoakNeitherCrashesNorHangsNorMisreports() throws Exception {
        ChildJvm.Result result = ChildJvm.run(Soak.class, List.of("-Xmx64m"), "20", "2");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("soak: PASS"), result.output());
        System.out.println(result.output().lines().filter(l -> l.startsWith("soak:")).reduce("", (a, b) -> a + b + "\n"));
    }
}
