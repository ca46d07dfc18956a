package dev.stacktrace.cli;

import dev.stacktrace.agent.AttachReply;
import dev.stacktrace.agent.Durations;
import dev.stacktrace.service.ProfileSettings;
import dev.stacktrace.tools.Profiler;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code java -jar stacktrace.jar <pid> <command>} loads the agent into a running JVM and drives it. Every
 * error is one line on stderr and a non-zero exit; arguments and the target are checked before any work starts.
 */
public final class Main {
    private static final String USAGE = """
            usage: java -jar stacktrace.jar <pid> start [--mode cpu|wall] [--interval 10ms]
                   java -jar stacktrace.jar <pid> stop
                   java -jar stacktrace.jar <pid> status
                   java -jar stacktrace.jar <pid> dump
                   java -jar stacktrace.jar <pid> flamegraph [--duration 10s] [--format html|collapsed|pprof] [--out flamegraph.html] [--mode cpu|wall] [--interval 10ms]
                   java -jar stacktrace.jar <pid> agent port=9464[,host=...,authFile=...,tls=...,dumpSignal=...]
            """;
    private static final Duration MAX_DURATION = Duration.ofDays(1);

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        if (args[0].equals("demo")) {
            System.err.println("stacktrace: the demo is not part of the product jar: run `bash scripts/demo.sh` from the source tree");
            System.exit(2);
        }
        long pid;
        try {
            pid = Long.parseLong(args[0]);
        } catch (NumberFormatException e) {
            usage("unknown command '" + args[0] + "'");
            return;
        }
        if (args.length < 2) usage("what should be done with process " + pid + "?");
        String command = args[1];
        if (!List.of("start", "stop", "status", "dump", "flamegraph", "agent").contains(command)) {
            usage("unknown command '" + command + "'");
        }
        int exit;
        try {
            String[] rest = Arrays.copyOfRange(args, 2, args.length);
            if (command.equals("agent")) {
                if (rest.length != 1) throw new IllegalArgumentException("agent takes one argument, the agent options, "
                        + "e.g. port=9464,host=127.0.0.1");
                checkTarget(pid);
                System.out.println("stacktrace agent in process " + pid + ": " + AttachClient.loadAgent(pid, rest[0]));
                exit = 0;
            } else {
                Options options = Options.parse(rest);
                checkTarget(pid);
                exit = run(pid, command, options);
            }
        } catch (Exception e) {
            System.err.println("stacktrace: " + oneLine(e));
            exit = 1;
        }
        System.exit(exit);
    }

    private static int run(long pid, String command, Options o) throws Exception {
        switch (command) {
            case "start" -> {
                AttachClient.command(pid, "start", o.profileArgs());
                System.out.println("profiling every thread of " + pid + " (" + o.mode() + ", every "
                        + Durations.format(o.interval()) + ")");
            }
            case "stop" -> System.out.println("stopped; " + AttachClient.command(pid, "stop", Map.of()).value("samples")
                    + " samples in all sessions");
            case "status" -> System.out.print(AttachClient.command(pid, "status", Map.of()).body());
            case "dump" -> System.out.print(AttachClient.command(pid, "dump", Map.of()).body());
            case "flamegraph" -> flamegraph(pid, o);
            default -> throw new IllegalStateException("unknown command " + command);
        }
        return 0;
    }

    /**
     * Profiles for --duration (unless a session already runs) and writes the flame graph. The target's
     * Attach Listener thread is held only to start and to stop: the wait is here.
     */
    private static void flamegraph(long pid, Options o) throws Exception {
        o.checkOut();
        AttachReply started = AttachClient.command(pid, "flamegraph-start", o.profileArgs());
        boolean wasRunning = Boolean.parseBoolean(started.value("running"));
        long before = Long.parseLong(started.value("samples"));
        // interrupted (Ctrl-C), the session this command started is not left running
        Thread stopOnExit = new Thread(() -> {
            try {
                AttachClient.command(pid, "stop", Map.of());
            } catch (Exception e) {
                System.err.println("stacktrace: could not stop the session in process " + pid + ": " + oneLine(e));
            }
        }, "stacktrace-stop");
        if (!wasRunning) Runtime.getRuntime().addShutdownHook(stopOnExit);
        Thread.sleep(o.duration.toMillis());
        if (!wasRunning) Runtime.getRuntime().removeShutdownHook(stopOnExit);
        AttachReply written = AttachClient.command(pid, "flamegraph-write",
                Map.of("stop", Boolean.toString(!wasRunning), "format", o.format));
        long taken = Long.parseLong(written.value("samples")) - before;
        if (o.format.equals("pprof")) Files.write(o.out, Base64.getDecoder().decode(written.body().strip()));
        else Files.writeString(o.out, written.body());
        if (wasRunning) {
            System.out.println("wrote " + o.out.toAbsolutePath() + ": the session that was already running (" + taken
                    + " samples in the last " + Durations.format(o.duration) + "; it keeps running)");
        } else {
            System.out.println("wrote " + o.out.toAbsolutePath() + " (" + taken + " samples in "
                    + Durations.format(o.duration) + ", " + o.mode() + " every " + Durations.format(o.interval()) + ")");
        }
    }

    /** Fails fast, with one line, for a pid that is no process, not ours to inspect, or no JVM. */
    private static void checkTarget(long pid) {
        if (pid <= 0 || pid > Integer.MAX_VALUE || !Files.isDirectory(Path.of("/proc", Long.toString(pid)))) {
            throw new IllegalArgumentException("no process with pid " + pid + " (jps lists the running JVMs)");
        }
        if (pid == ProcessHandle.current().pid()) throw new IllegalArgumentException("cannot attach to this very process");
        Path maps = Path.of("/proc", Long.toString(pid), "maps");
        String mapped;
        try {
            mapped = Files.readString(maps);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no process with pid " + pid + " (it has ended)");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("cannot inspect process " + pid + " (permission denied): run this as the "
                    + "user that runs the JVM");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot inspect process " + pid + ": " + e.getMessage());
        }
        if (!mapped.contains("/libjvm.so")) {
            String name = ProcessHandle.of(pid).flatMap(p -> p.info().command()).orElse("?");
            throw new IllegalArgumentException("process " + pid + " (" + name + ") is not a Java virtual machine "
                    + "(jps lists the running JVMs)");
        }
    }

    /** An exception as one line: its message, or its kind when it has none; wrappers left out. */
    private static String oneLine(Throwable e) {
        Throwable t = e;
        while ((t.getMessage() == null || t instanceof java.lang.reflect.UndeclaredThrowableException) && t.getCause() != null) {
            t = t.getCause();
        }
        String message = t.getMessage();
        if (message == null || message.isBlank()) message = t.getClass().getSimpleName();
        return message.lines().findFirst().orElse(message);
    }

    private static void usage(String message) {
        System.err.print("stacktrace: " + message + "\n" + USAGE);
        System.exit(2);
    }

    /** flamegraph --format: the file written, and its default name. */
    private static final Map<String, String> FORMATS = Map.of("html", "flamegraph.html", "collapsed", "flamegraph.txt",
            "pprof", "profile.pb.gz");

    private record Options(ProfileSettings profile, Duration duration, Path out, String format) {
        String mode() {
            return profile.modeName();
        }

        Duration interval() {
            return profile.interval();
        }

        /** The session's settings as the agent's options take them. */
        Map<String, String> profileArgs() {
            return Map.of("mode", mode(), "interval", interval().toNanos() + "ns");
        }

        static Options parse(String[] args) {
            Profiler.Mode mode = Profiler.Mode.CPU;
            Duration interval = ProfileSettings.DEFAULT_INTERVAL;
            Duration duration = Duration.ofSeconds(10);
            Path out = null;
            String format = "html";
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--mode" -> mode = ProfileSettings.mode(required(args[i], value), "--mode");
                    case "--interval" -> interval = ProfileSettings.interval(required(args[i], value), "--interval");
                    case "--duration" -> duration = Durations.parse(required(args[i], value));
                    case "--out" -> out = Path.of(required(args[i], value));
                    case "--format" -> format = required(args[i], value).toLowerCase(Locale.ROOT);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "; see --help");
                }
                i++;
            }
            if (duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
                throw new IllegalArgumentException("--duration must be more than 0 and at most a day (1440m), not "
                        + Durations.format(duration));
            }
            if (!FORMATS.containsKey(format)) {
                throw new IllegalArgumentException("--format must be html (a flame graph page), collapsed (flamegraph.pl, "
                        + "speedscope) or pprof (go tool pprof, Pyroscope), not '" + format + "'");
            }
            return new Options(new ProfileSettings(mode, interval), duration,
                    out != null ? out : Path.of(FORMATS.get(format)), format);
        }

        /** The flame graph's file must be writable before profiling starts, not found unwritable after. */
        void checkOut() {
            Path file = out.toAbsolutePath();
            Path dir = file.getParent();
            if (Files.isDirectory(file)) throw new IllegalArgumentException("--out " + out + " is a directory; name a file");
            if (dir == null || !Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--out " + out + ": directory " + dir + " does not exist");
            }
            if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(dir)) {
                throw new IllegalArgumentException("--out " + out + ": cannot write there (permission denied)");
            }
        }

        private static String required(String option, String value) {
            if (value == null) throw new IllegalArgumentException(option + " needs a value");
            return value;
        }
    }
}
