package dev.stacktrace.demo;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.time.Duration;
import dev.stacktrace.agent.Agent;
import dev.stacktrace.agent.Durations;

/**
 * The demo: a few threads busy in native code (zlib through java.util.zip, file writes, a pipe
 * read that blocks, a sleep) and one in pure Java, and the native stack of each, taken while they
 * run. jstack would show "(Native Method)" for most of them; this shows the C functions.
 */
public final class Demo {
    private static volatile boolean running = true;

    private Demo() {}

    public static void main(String[] args) throws Exception {
        boolean showJvm = true;
        int depth = 30;
        Duration duration = null;  // until interrupted
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--hide-jvm" -> showJvm = false;
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--duration" -> duration = Durations.parse(args[++i]);
                default -> throw new IllegalArgumentException("unknown demo option " + args[i]
                        + " (options: --duration 60s, --hide-jvm, --depth N)");
            }
        }
        // a pipe nobody writes to: its reader blocks in read(2) until the demo ends
        Pipe silent = Pipe.open();
        Path scratch = Files.createTempFile("stacktrace-demo", ".bin");
        List<Thread> workers = new ArrayList<>();
        workers.add(start("zlib-deflater", Demo::deflate));
        workers.add(start("file-writer", () -> write(scratch)));
        workers.add(start("pipe-reader", () -> readBlocking(Channels.newInputStream(silent.source()))));
        workers.add(start("sleeper", Demo::sleep));
        workers.add(start("java-spinner", Demo::spin));
        try {
            TimeUnit.MILLISECONDS.sleep(700);  // let every worker reach its loop
            System.out.printf("stacktrace demo: pid %d, %s, native stacks of %d threads (depth %d, %s)%n%n",
                    ProcessHandle.current().pid(), Runtime.version(), workers.size(), depth,
                    showJvm ? "JVM frames shown" : "JVM frames hidden");
            for (Thread worker : workers) print(worker, depth, showJvm);
            long pid = ProcessHandle.current().pid();
            System.out.println("Compare: jstack " + pid + " shows these threads' Java frames and \"(Native Method)\" at the top.");
            System.out.println();
            serve(pid, duration);
        } finally {
            running = false;
            silent.sink().close();
            silent.source().close();
            for (Thread worker : workers) {
                worker.interrupt();
                worker.join(2000);
            }
            Files.deleteIfExists(scratch);
        }
    }

    /** With the agent loaded: say where to look, and keep the workload running for it. */
    private static void serve(long pid, Duration duration) throws InterruptedException {
        // -javaagent starts in the background: wait for it before saying where it serves
        if (!Agent.awaitStart(Duration.ofSeconds(60))) System.out.println("the agent is still starting after 60 s");
        int port = Agent.httpPort();
        if (port == 0) {
            System.out.println("Run it with the agent to see the service: bash scripts/demo.sh "
                    + "(bash scripts/demo.sh)");
            if (duration == null) return;
            System.out.println("Running for " + duration.toSeconds() + " s: java -jar target/stacktrace.jar " + pid
                    + " status (or start, stop, dump, flamegraph) drives it from outside.");
            System.out.println("READY");
            System.out.flush();
            Thread.sleep(duration.toMillis());
            return;
        }
        String host = "http://127.0.0.1:" + port;
        System.out.println("The agent is profiling every thread. While the demo runs:");
        System.out.println("  metrics (Prometheus):  " + host + "/metrics");
        System.out.println("  flame graph:           " + host + "/flamegraph");
        System.out.println("  all stacks:            " + host + "/stacks");
        System.out.println("  JConsole:              jconsole " + pid
                + "  then MBeans > dev.stacktrace > NativeStacks (getThreadStack, getTopSymbols, ...)");
        System.out.println("  from a shell:          java -jar target/stacktrace.jar " + pid + " status");
        System.out.println(duration == null ? "Ctrl-C to stop." : "Running for " + duration.toSeconds() + " s.");
        System.out.println("READY " + host);
        System.out.flush();
        if (duration == null) Thread.sleep(Long.MAX_VALUE);
        else Thread.sleep(duration.toMillis());
    }

    private static void print(Thread worker, int depth, boolean showJvm) {
        System.out.printf("\"%s\" nid=%d %s%n", worker.getName(), Stacktrace.nativeThreadId(worker), worker.getState());
        try {
            List<StackEntry> stack = Stacktrace.getThreadStack(worker, depth, showJvm);
            System.out.print(Stacktrace.format(stack));
        } catch (StacktraceException e) {
            System.out.println("  (no stack: " + e.getMessage() + ")");
        }
        System.out.println();
    }

    private static Thread start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void deflate() {
        byte[] input = new byte[1 << 20];
        new Random(42).nextBytes(input);
        for (int i = 0; i < input.length; i += 4) input[i] = 'a';  // compressible, but not trivially
        byte[] output = new byte[input.length + 1024];
        while (running) {
            Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
            deflater.setInput(input);
            deflater.finish();
            while (!deflater.finished()) deflater.deflate(output);
            deflater.end();
        }
    }

    private static void write(Path file) {
        byte[] block = new byte[64 * 1024];
        while (running) {
            try (OutputStream out = Files.newOutputStream(file)) {
                for (int i = 0; i < 64 && running; i++) out.write(block);
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void readBlocking(InputStream pipe) {
        try {
            pipe.read();  // the child writes nothing: this blocks in read(2) until the demo ends
        } catch (IOException e) {
            // the pipe closes when the demo ends
        }
    }

    private static void sleep() {
        while (running) {
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void spin() {
        long x = 1;
        while (running) {
            for (int i = 0; i < 1_000_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        }
        if (x == 42) System.out.print("");
    }
}
