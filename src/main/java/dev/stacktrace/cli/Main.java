package dev.stacktrace.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

/**
 * {@code java -jar stacktrace.jar <pid> <command>} loads the agent into a running JVM and drives it.
 */
public final class Main {
    private static final String USAGE = """
            usage: java -jar stacktrace.jar <pid> start [--mode cpu|wall] [--interval 10ms]
                   java -jar stacktrace.jar <pid> stop
                   java -jar stacktrace.jar <pid> status
                   java -jar stacktrace.jar <pid> dump
                   java -jar stacktrace.jar <pid> flamegraph [--duration 10s] [--out flamegraph.html] [--mode cpu|wall] [--interval 10ms]
                   java -jar stacktrace.jar <pid> agent port=9464[,host=...,authFile=...,tls=...,dumpSignal=...]
            """;

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        if (args[0].equals("demo")) {
            fail("the demo is not part of the product jar: run `bash scripts/demo.sh` from the source tree");
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(args[0]);
        } catch (NumberFormatException e) {
            fail("unknown command '" + args[0] + "'");
            return;
        }
        if (args.length < 2) fail("what should be done with process " + pid + "?");
        try {
            System.exit(run(pid, args[1], Arrays.copyOfRange(args, 2, args.length)));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("stacktrace: " + e.getMessage());
            System.exit(1);
        }
    }

    private static int run(long pid, String command, String[] rest) throws Exception {
        if (command.equals("agent")) {
            if (rest.length != 1) throw new IllegalArgumentException("agent takes one argument, the agent options, "
                    + "e.g. port=9464,host=127.0.0.1");
            System.out.println("stacktrace agent in process " + pid + ": " + AttachClient.loadAgent(pid, rest[0]));
            return 0;
        }
        Options o = Options.parse(rest);
        try (AttachClient client = AttachClient.attach(pid)) {
            switch (command) {
                case "start" -> {
                    client.invoke("startProfilingAll", new Object[] {o.mode, o.intervalMillis()},
                            new String[] {"java.lang.String", "double"});
                    System.out.println("profiling every thread of " + pid + " (" + o.mode + ", every " + o.interval + ")");
                }
                case "stop" -> {
                    client.invoke("stopProfiling", new Object[0], new String[0]);
                    System.out.println("stopped; " + client.attribute("SampleCount") + " samples in all");
                }
                case "status" -> status(client);
                case "dump" -> System.out.print(client.invoke("dumpAllThreads", new Object[0], new String[0]));
                case "flamegraph" -> {
                    boolean wasRunning = (Boolean) client.attribute("Profiling");
                    if (!wasRunning) {
                        client.invoke("startProfilingAll", new Object[] {o.mode, o.intervalMillis()},
                                new String[] {"java.lang.String", "double"});
                    }
                    Thread.sleep(o.duration.toMillis());
                    if (!wasRunning) client.invoke("stopProfiling", new Object[0], new String[0]);
                    String html = (String) client.invoke("dumpFlameGraph", new Object[] {"stacktrace: process " + pid},
                            new String[] {"java.lang.String"});
                    Files.writeString(o.out, html);
                    System.out.println("wrote " + o.out.toAbsolutePath() + " (" + client.attribute("SampleCount")
                            + " samples in all)");
                }
                default -> {
                    System.err.print("unknown command '" + command + "'\n" + USAGE);
                    return 2;
                }
            }
        }
        return 0;
    }

    private static void status(AttachClient client) throws Exception {
        System.out.printf("stacktrace %s: profiling %s, mode %s, interval %.3f ms, %d samples, %d errors%n",
                client.attribute("Version"), client.attribute("Profiling"), client.attribute("Mode"),
                (Double) client.attribute("IntervalMillis"), (Long) client.attribute("SampleCount"),
                (Long) client.attribute("ErrorCount"));
        TabularData top = (TabularData) client.invoke("getTopSymbols", new Object[] {10}, new String[] {"int"});
        if (top.isEmpty()) return;
        System.out.printf("%10s %10s  %s%n", "self", "total", "symbol (library)");
        top.values().stream().map(CompositeData.class::cast)
                .sorted((a, b) -> Long.compare((Long) b.get("self"), (Long) a.get("self")))
                .forEach(row -> System.out.printf("%10d %10d  %s (%s)%n", (Long) row.get("self"), (Long) row.get("total"),
                        row.get("symbol"), row.get("library")));
    }

    private static void fail(String message) {
        System.err.print("stacktrace: " + message + "\n" + USAGE);
        System.exit(2);
    }

    private record Options(String mode, Duration interval, Duration duration, Path out) {
        double intervalMillis() {
            return interval.toNanos() / 1e6;
        }

        static Options parse(String[] args) {
            String mode = "cpu";
            Duration interval = Duration.ofMillis(10);
            Duration duration = Duration.ofSeconds(10);
            Path out = Path.of("flamegraph.html");
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--mode" -> mode = required(args[i], value).toLowerCase(Locale.ROOT);
                    case "--interval" -> interval = dev.stacktrace.agent.Durations.parse(required(args[i], value));
                    case "--duration" -> duration = dev.stacktrace.agent.Durations.parse(required(args[i], value));
                    case "--out" -> out = Path.of(required(args[i], value));
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
                i++;
            }
            return new Options(mode, interval, duration, out);
        }

        private static String required(String option, String value) {
            if (value == null) throw new IllegalArgumentException(option + " needs a value");
            return value;
        }
    }
}
