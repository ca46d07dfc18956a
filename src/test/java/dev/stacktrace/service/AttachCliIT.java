package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.tools.attach.VirtualMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** java -jar stacktrace.jar <pid> <command>: the agent loaded into a running JVM through the Attach API. */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class AttachCliIT {
    @Test
    void startStatusDumpFlamegraphStopOnARunningJvm(@TempDir Path dir) throws Exception {
        // a JVM started without the agent: stacktrace comes in through the Attach API
        try (DemoProcess target = startWithoutAgent()) {
            target.awaitReady(Duration.ofSeconds(60));
            String pid = Long.toString(target.pid());

            Cli.Result start = Cli.run(pid, "start", "--mode", "cpu", "--interval", "5ms");
            assertEquals(0, start.exit(), start.output());
            assertTrue(start.output().contains("profiling every thread") && start.output().contains("every 5ms"), start.output());
            Thread.sleep(1000);

            Cli.Result status = Cli.run(pid, "status");
            assertEquals(0, status.exit(), status.output());
            assertTrue(status.output().contains("profiling true, mode cpu"), status.output());
            assertTrue(status.output().contains("self") && status.output().contains("("), status.output());

            Cli.Result dump = Cli.run(pid, "dump");
            assertEquals(0, dump.exit(), dump.output());
            assertTrue(dump.output().contains("\"zlib-deflater\"") && dump.output().contains("at java.util.zip.Deflater"),
                    dump.output());
            assertTrue(dump.output().matches("(?s).*\"VM Thread\" nid=\\d+ .*"), "threads without a java.lang.Thread: "
                    + dump.output());

            Cli.Result stop = Cli.run(pid, "stop");
            assertEquals(0, stop.exit(), stop.output());

            // an unwritable --out is found before profiling starts: no session, no samples
            long before = samples(Cli.run(pid, "status"));
            Cli.Result nowhere = Cli.run(pid, "flamegraph", "--duration", "2s", "--out", "/nonexistent/dir/f.html");
            assertOneLineError(nowhere, "/nonexistent/dir does not exist");
            Cli.Result unchanged = Cli.run(pid, "status");
            assertTrue(unchanged.output().contains("profiling false"), unchanged.output());
            assertEquals(before, samples(unchanged), "no profile was taken");

            // the flame graph reports the samples of its own session, not those of earlier ones
            Path html = dir.resolve("f.html");
            Cli.Result flame = Cli.run(pid, "flamegraph", "--duration", "2s", "--out", html.toString());
            assertEquals(0, flame.exit(), flame.output());
            String page = Files.readString(html);
            assertTrue(page.contains("<html") && page.contains("Deflater"), "flame graph written");
            Matcher own = Pattern.compile("\\((\\d+) samples in 2s, cpu every 10ms\\)").matcher(flame.output());
            assertTrue(own.find(), flame.output());

            Cli.Result stopped = Cli.run(pid, "status");
            assertTrue(stopped.output().contains("profiling false"), stopped.output());
            assertTrue(stopped.output().contains("interval 10ms"), "durations as people write them: " + stopped.output());
            assertEquals(samples(stopped) - before, Long.parseLong(own.group(1)), flame.output() + "\n" + stopped.output());
            Matcher errors = Pattern.compile("(\\d+) errors( \\(([a-z_]+ \\d+(, )?)+\\))?").matcher(stopped.output());
            assertTrue(errors.find(), stopped.output());
            assertTrue(errors.group(1).equals("0") || errors.group(2) != null, "the reasons of the errors: " + stopped.output());

            // the same as pprof, read by go tool pprof
            Path pprof = dir.resolve("f.pb.gz");
            Cli.Result asPprof = Cli.run(pid, "flamegraph", "--duration", "2s", "--format", "pprof", "--out", pprof.toString());
            assertEquals(0, asPprof.exit(), asPprof.output());
            String raw = dev.stacktrace.testlib.GoPprof.run(60, "-raw", pprof.toString());
            assertTrue(raw.contains("PeriodType: cpu nanoseconds") && raw.contains("java.util.zip.Deflater.deflate"), raw);
            assertOneLineError(Cli.run(pid, "flamegraph", "--format", "svg"), "--format must be html");

            assertOneLineError(Cli.run(pid, "start", "--mode", "sometimes"), "--mode must be cpu");
            assertOneLineError(Cli.run(pid, "start", "--interval", "61s"), "--interval must be from 100us to 60s");
            assertOneLineError(Cli.run(pid, "flamegraph", "--duration", "2x"), "is not a duration");
            assertOneLineError(Cli.run(pid, "flamegraph", "--duration", "0s"), "--duration must be more than 0");

            // the commands left no JMX connector and no RMI threads in the target
            String threads = jcmd(target.pid(), "Thread.print");
            List<String> names = threads.lines().filter(l -> l.startsWith("\"")).map(l -> l.substring(1, l.indexOf('"', 1)))
                    .toList();
            assertTrue(names.contains("zlib-deflater"), "jcmd lists the target's threads:\n" + threads);
            assertEquals(List.of(), names.stream().filter(n -> n.startsWith("RMI ") || n.startsWith("JMX ")).toList(),
                    "JMX/RMI threads in the target:\n" + threads);
            VirtualMachine vm = VirtualMachine.attach(pid);
            try {
                assertNull(vm.getAgentProperties().getProperty("com.sun.management.jmxremote.localConnectorAddress"),
                        "the JVM's local JMX agent was started");
            } finally {
                vm.detach();
            }

            // JDK 21+ warns on every dynamic load of a Java agent but only on the first of a native library: the first
            // command loads the jar, the later ones come in through the agent's native library
            long javaAgent = target.output().lines().filter(l -> l.contains("A Java agent has been loaded dynamically")).count();
            long nativeAgent = target.output().lines().filter(l -> l.contains("A JVM TI agent has been loaded dynamically"))
                    .count();
            boolean warns = Runtime.version().feature() >= 21;
            assertEquals(warns ? 1 : 0, javaAgent, "Java agent warnings:\n" + target.output());
            assertEquals(warns ? 1 : 0, nativeAgent, "JVM TI agent warnings:\n" + target.output());
        }
        assertOneLineError(Cli.run("999999", "status"), "no process with pid 999999");
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            Cli.Result notJava = Cli.run(Long.toString(sleeper.pid()), "status");
            String seen = "sleep " + sleeper.pid() + " alive " + sleeper.isAlive() + ", "
                    + Files.readString(Path.of("/proc", Long.toString(sleeper.pid()), "stat")) + "; ";
            assertTrue(notJava.output().contains("is not a Java virtual machine"), seen + notJava.output());
            assertOneLineError(notJava, "is not a Java virtual machine");
        } finally {
            sleeper.destroyForcibly();
        }
    }

    /** What {@code jcmd <pid> <command>} prints: it talks to the target through the Attach API, which starts no JMX. */
    private static String jcmd(long pid, String command) throws Exception {
        Path out = Files.createTempFile("jcmd", ".txt");
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid), command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("jcmd " + command + " did not finish");
            }
            String text = Files.readString(out);
            assertEquals(0, p.exitValue(), text);
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The sample count a status line shows. */
    private static long samples(Cli.Result status) {
        Matcher m = Pattern.compile(", (\\d+) samples,").matcher(status.output());
        assertTrue(m.find(), status.output());
        return Long.parseLong(m.group(1));
    }

    /** Exit 1 and a single line that says what went wrong: no stack trace, no usage text. */
    private static void assertOneLineError(Cli.Result r, String says) {
        assertEquals(1, r.exit(), r.output());
        assertEquals(1, r.output().strip().lines().count(), r.output());
        assertTrue(r.output().startsWith("stacktrace: ") && r.output().contains(says), r.output());
    }

    private static DemoProcess startWithoutAgent() throws Exception {
        return DemoProcess.startPlain(Duration.ofSeconds(240));  // outlives every step on a loaded machine; closed at the end
    }
}
