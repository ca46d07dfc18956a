package dev.stacktrace.service;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo in a child JVM, as a user runs it: the packaged jar (target/stacktrace.jar) as the agent
 * and as the program. For the integration tests, which run after `mvn package`.
 */
public final class DemoProcess implements AutoCloseable {
    public static final Path JAR = Path.of("target", "stacktrace.jar");
    private static final String DEMO_MAIN = "dev.stacktrace.demo.Demo";

    private final Process process;
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());

    private DemoProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) output.add(line);
            } catch (IOException ignored) {
                // the process ended
            }
        }, "demo-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The demo's class path: the packaged jar and the demo's classes, which are not in the product jar. */
    public static final String DEMO_CLASSPATH = JAR + java.io.File.pathSeparator + Path.of("target", "test-classes");

    /** Starts {@code java [jvmArgs] -javaagent:stacktrace.jar=agentArgs -cp stacktrace.jar:test-classes Demo --duration ...}. */
    public static DemoProcess start(String agentArgs, List<String> jvmArgs, Duration duration) throws IOException {
        if (!Files.isRegularFile(JAR)) throw new IllegalStateException(JAR + " is missing: run `mvn verify`, which packages it first");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-javaagent:" + JAR + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        command.addAll(List.of("-cp", DEMO_CLASSPATH, DEMO_MAIN, "--duration", duration.toSeconds() + "s"));
        return new DemoProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Another main class with the agent: {@code java [jvmArgs] -javaagent:stacktrace.jar=agentArgs -cp classpath main args}. */
    public static DemoProcess startMain(String agentArgs, String classpath, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + JAR + "=" + agentArgs, "-cp", classpath, main.getName()));
        command.addAll(List.of(args));
        return new DemoProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** The demo without the agent: a JVM for the attach CLI to come into. */
    public static DemoProcess startPlain(Duration duration) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", DEMO_CLASSPATH, DEMO_MAIN, "--duration", duration.toSeconds() + "s");
        return new DemoProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for the demo's READY line; fails with its output if it does not come. */
    public void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (output) {
                if (output.stream().anyMatch(l -> l.startsWith("READY"))) return;
            }
            if (!process.isAlive()) break;
            Thread.sleep(50);
        }
        throw new AssertionError("the demo did not get ready:\n" + output());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
