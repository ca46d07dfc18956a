package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's failures reach the user: through the attach CLI (one line, non-zero exit) and in the
 * JVM it runs in; and the thread dump on a signal works whatever else the agent was asked to do.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentFailuresIT {
    @Test
    void attachReportsWhatTheAgentCouldNotDo(@TempDir Path dir) throws Exception {
        Path openAuth = dir.resolve("auth");
        Files.writeString(openAuth, "ops:secret\n");
        Files.setPosixFilePermissions(openAuth, PosixFilePermissions.fromString("rw-r--r--"));
        try (DemoProcess target = DemoProcess.startPlain(Duration.ofSeconds(150));
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            target.awaitReady(Duration.ofSeconds(60));
            String pid = Long.toString(target.pid());

            Cli.Result busy = Cli.run(pid, "agent", "port=" + taken.getLocalPort());
            assertEquals(1, busy.exit(), busy.output());
            assertTrue(busy.output().contains("127.0.0.1:" + taken.getLocalPort() + " is already in use")
                    && busy.output().contains("port=<n>"), busy.output());

            Cli.Result unresolved = Cli.run(pid, "agent", "port=" + DemoProcess.freePort() + ",host=999.1.1.1");
            assertEquals(1, unresolved.exit(), unresolved.output());
            assertTrue(unresolved.output().contains("host=999.1.1.1 is neither an IP address nor a name"), unresolved.output());

            Cli.Result readable = Cli.run(pid, "agent", "port=" + DemoProcess.freePort() + ",authFile=" + openAuth);
            assertEquals(1, readable.exit(), readable.output());
            assertTrue(readable.output().contains("may be read by every user") && readable.output().contains("chmod 600"),
                    readable.output());

            Cli.Result signal = Cli.run(pid, "agent", "dumpSignal=58");
            assertEquals(1, signal.exit(), signal.output());
            assertTrue(signal.output().contains("agent option dumpSignal=58") && !signal.output().contains("-Ddev.stacktrace"),
                    signal.output());

            int port = DemoProcess.freePort();
            Cli.Result served = Cli.run(pid, "agent", "port=" + port);
            assertEquals(0, served.exit(), served.output());
            assertTrue(served.output().contains("serving http://127.0.0.1:" + port), served.output());

            // loading the agent opens no JMX/RMI connector in the target (the thread names come from the agent itself)
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String threads = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/stacks"))
                    .timeout(Duration.ofSeconds(30)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(threads.contains("\"zlib-deflater\"") && !threads.contains("\"RMI TCP Accept"), threads);

            Cli.Result again = Cli.run(pid, "agent", "port=" + port);
            assertEquals(0, again.exit(), again.output());

            int other = DemoProcess.freePort();
            Cli.Result moved = Cli.run(pid, "agent", "port=" + other);
            assertEquals(1, moved.exit(), moved.output());
            assertTrue(moved.output().contains("already serves http://127.0.0.1:" + port)
                    && moved.output().contains("port=" + other), moved.output());

            assertEquals(0, Cli.run(pid, "start", "--mode", "cpu", "--interval", "10ms").exit());
            Cli.Result otherMode = Cli.run(pid, "agent", "profile=wall");
            assertEquals(1, otherMode.exit(), otherMode.output());
            assertTrue(otherMode.output().contains("already profiling (cpu"), otherMode.output());

            for (Cli.Result r : List.of(busy, unresolved, readable, signal, moved, otherMode)) {
                assertTrue(r.output().strip().lines().filter(l -> l.startsWith("stacktrace: ")).count() == 1
                        && !r.output().contains("Exception"), "one clear line, no stack trace:\n" + r.output());
            }
            Cli.Result status = Cli.run(pid, "status");
            assertEquals(0, status.exit(), status.output());
            assertTrue(status.output().contains("profiling true"), status.output());
        }
    }

    /** At start-up a taken port is one line that says where and what to do, and the application runs on. */
    @Test
    void takenPortAtStartUpIsReportedAndTheApplicationRuns() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             DemoProcess demo = DemoProcess.start("port=" + taken.getLocalPort(), List.of(), Duration.ofSeconds(150))) {
            demo.awaitReady(Duration.ofSeconds(60));
            assertTrue(demo.output().contains("[stacktrace] not started: 127.0.0.1:" + taken.getLocalPort()
                    + " is already in use"), demo.output());
            assertTrue(demo.isAlive());
        }
    }

    /** -Ddev.stacktrace.dumpSignal with an agent that only serves HTTP: the documented kill -N dumps, the JVM lives on. */
    @Test
    void dumpSignalPropertyWithAnAgentThatOnlyServesHttp(@TempDir Path dir) throws Exception {
        Path dump = dir.resolve("stacks.txt");
        List<String> jvm = List.of("-Ddev.stacktrace.dumpSignal=59", "-Ddev.stacktrace.dumpFile=" + dump);
        try (DemoProcess demo = DemoProcess.start("port=" + DemoProcess.freePort(), jvm, Duration.ofSeconds(150))) {
            assertDumpOnKill(demo, 59, dump);
        }
    }

    /** The agent option dumpSignal= with -Ddev.stacktrace.dumpFile: the dump goes to that file. */
    @Test
    void dumpSignalOptionWritesToTheDumpFileProperty(@TempDir Path dir) throws Exception {
        Path dump = dir.resolve("stacks.txt");
        try (DemoProcess demo = DemoProcess.start("dumpSignal=60", List.of("-Ddev.stacktrace.dumpFile=" + dump),
                Duration.ofSeconds(150))) {
            assertDumpOnKill(demo, 60, dump);
        }
    }

    private static void assertDumpOnKill(DemoProcess demo, int signal, Path dump) throws Exception {
        demo.awaitReady(Duration.ofSeconds(60));
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(demo.pid())).redirectErrorStream(true).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String text = "";
        while (System.nanoTime() < deadline) {
            text = Files.exists(dump) ? Files.readString(dump, StandardCharsets.ISO_8859_1) : "";
            if (text.contains("zlib-deflater") && text.contains("pipe-reader")) break;
            Thread.sleep(100);
        }
        assertTrue(text.contains("zlib-deflater") && text.contains("pipe-reader"), "the dump in " + dump + ":\n" + text
                + "\nthe JVM's output:\n" + demo.output());
        Thread.sleep(500);
        assertTrue(demo.isAlive(), "the JVM survived the signal:\n" + demo.output());
        assertFalse(demo.output().contains("Real-time signal"), demo.output());
    }
}
