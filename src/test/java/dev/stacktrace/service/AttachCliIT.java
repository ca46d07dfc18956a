package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** java -jar stacktrace.jar <pid> <command>: the agent loaded into a running JVM through the Attach API. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AttachCliIT {
    private record Result(int exit, String output) {}

    private static Result cli(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-jar", DemoProcess.JAR.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the CLI did not finish: " + command);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void startStatusDumpFlamegraphStopOnARunningJvm(@TempDir Path dir) throws Exception {
        // a JVM started without the agent: stacktrace comes in through the Attach API
        try (DemoProcess target = startWithoutAgent()) {
            target.awaitReady(Duration.ofSeconds(60));
            String pid = Long.toString(target.pid());

            Result start = cli(pid, "start", "--mode", "cpu", "--interval", "5ms");
            assertEquals(0, start.exit(), start.output());
            assertTrue(start.output().contains("profiling every thread"), start.output());
            Thread.sleep(1000);

            Result status = cli(pid, "status");
            assertEquals(0, status.exit(), status.output());
            assertTrue(status.output().contains("profiling true, mode cpu"), status.output());
            assertTrue(status.output().contains("self") && status.output().contains("("), status.output());

            Result dump = cli(pid, "dump");
            assertEquals(0, dump.exit(), dump.output());
            assertTrue(dump.output().contains("\"zlib-deflater\"") && dump.output().contains("at java.util.zip.Deflater"),
                    dump.output());

            Result stop = cli(pid, "stop");
            assertEquals(0, stop.exit(), stop.output());

            Path html = dir.resolve("f.html");
            Result flame = cli(pid, "flamegraph", "--duration", "2s", "--out", html.toString());
            assertEquals(0, flame.exit(), flame.output());
            String page = Files.readString(html);
            assertTrue(page.contains("<html") && page.contains("Deflater"), "flame graph written");

            Result stopped = cli(pid, "status");
            assertTrue(stopped.output().contains("profiling false"), stopped.output());

            Result bad = cli(pid, "start", "--mode", "sometimes");
            assertEquals(1, bad.exit(), bad.output());
            assertTrue(bad.output().contains("mode must be"), bad.output());

            // the agent is loaded once: later commands find it running (JDK 21+ warns on every dynamic load)
            long warnings = target.output().lines().filter(l -> l.contains("A Java agent has been loaded dynamically")).count();
            assertTrue(warnings <= 1, warnings + " dynamic-load warnings:\n" + target.output());
        }
        Result noSuchPid = cli("999999", "status");
        assertTrue(noSuchPid.exit() != 0, noSuchPid.output());
    }

    private static DemoProcess startWithoutAgent() throws Exception {
        return DemoProcess.startPlain(Duration.ofSeconds(120));
    }
}
