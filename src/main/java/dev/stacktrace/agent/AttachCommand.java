package dev.stacktrace.agent;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.jmx.NativeStacks;
import dev.stacktrace.service.ProfileSettings;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A command of the attach CLI ({@code java -jar stacktrace.jar <pid> status}), carried out inside the
 * target JVM through the service and answered in the file the CLI made ({@link AttachReply}). It comes
 * in through the Attach API, as the Java agent's {@code agentmain} the first time and through the
 * native library's {@code Agent_OnAttach} after that (one JDK warning instead of one per command);
 * it starts no thread, server or JMX connector, and leaves nothing running but what the command asks
 * for (a profiling session).
 */
public final class AttachCommand {
    /** Where the native library this agent uses lies, for the CLI's later {@code loadAgentPath}. */
    public static final String LIBRARY_PROPERTY = "dev.stacktrace.agent.library";

    private AttachCommand() {}

    /**
     * Entry from the native library: the options as the CLI gave them. Never throws for a failed
     * command (the answer says why); only options without a file to answer in are thrown back.
     */
    public static void run(String args) {
        AgentOptions options = AgentOptions.parse(args);
        if (options.command() == null) throw new IllegalArgumentException("no command= in '" + args + "'");
        run(options);
    }

    static void run(AgentOptions options) {
        AgentOptions.Command command = options.command();
        AttachReply reply;
        try {
            reply = carryOut(command, options.interval(), StacktraceService.get());
            // after every command, so the next one finds the library whichever command came first
            publishLibrary();
        } catch (Exception | LinkageError e) {
            String message = e.getMessage();
            reply = AttachReply.failed(message == null || message.isBlank() ? e.toString() : message);
        }
        try {
            reply.writeTo(command.out());
        } catch (Exception e) {
            Agent.log("cannot answer the attach CLI in " + command.out() + ": " + e);
        }
    }

    /** Names the native library (loading it if it is not loaded) in {@value #LIBRARY_PROPERTY}. */
    static void publishLibrary() {
        System.setProperty(LIBRARY_PROPERTY, Stacktrace.nativeLibrary().toString());
    }

    private static AttachReply carryOut(AgentOptions.Command command, Duration interval, StacktraceService service) {
        switch (command.name()) {
            case "start" -> {
                service.startProfiling(null, settings(command, interval));
                return AttachReply.ok(Map.of(), "");
            }
            case "stop" -> {
                service.stopProfiling();
                return AttachReply.ok(Map.of("samples", Long.toString(service.sampleCount())), "");
            }
            case "status" -> {
                return AttachReply.ok(Map.of(), status(service));
            }
            case "dump" -> {
                return AttachReply.ok(Map.of(), service.dumpAllThreads(Stacktrace.DEFAULT_MAX_DEPTH));
            }
            case "flamegraph-start" -> {
                // a session that runs already is used as it is, and left running
                boolean running = service.isProfiling();
                long before = service.sampleCount();
                if (!running) service.startProfiling(null, settings(command, interval));
                return AttachReply.ok(Map.of("running", Boolean.toString(running), "samples", Long.toString(before)), "");
            }
            case "flamegraph-write" -> {
                if (command.stop()) service.stopProfiling();
                long samples = service.sampleCount();
                Optional<String> profile = switch (command.format()) {
                    case "collapsed" -> service.collapsed();
                    case "pprof" -> service.pprof().map(bytes -> Base64.getEncoder().encodeToString(bytes));
                    default -> service.flameGraph("stacktrace: process " + ProcessHandle.current().pid());
                };
                String body = profile.orElseThrow(() -> new IllegalStateException("nothing profiled: the session has gone"));
                return AttachReply.ok(Map.of("samples", Long.toString(samples)), body);
            }
            default -> throw new IllegalArgumentException("unknown command " + command.name());
        }
    }

    private static ProfileSettings settings(AgentOptions.Command command, Duration interval) {
        return new ProfileSettings(ProfileSettings.mode(command.mode(), "mode"), interval);
    }

    /** The status line, then the top symbols of the current or last profile. */
    private static String status(StacktraceService service) {
        Duration every = service.interval();
        Duration effective = service.effectiveInterval();
        long unsampled = service.unsampledThreads();
        StringBuilder out = new StringBuilder(String.format("stacktrace %s: profiling %s, mode %s, interval %s, %d samples, "
                        + "%d errors%s%s%n", NativeStacks.version(), service.isProfiling(), service.mode(),
                every.isZero() ? "none" : Durations.format(every)
                        + (effective.compareTo(every) > 0 ? " (the tick's " + Durations.format(effective) + " delivered)" : ""),
                service.sampleCount(), service.errorCount(),
                errorReasons(service.errorCounts()),
                unsampled > 0 ? ", " + unsampled + " threads not sampled (see Profiler.unsampledThreads)" : ""));
        var top = service.topSymbols(10);
        if (top.isEmpty()) return out.toString();
        out.append(String.format("%10s %10s  %s%n", "self", "total", "symbol (library)"));
        for (Profiler.SymbolCount row : top) {
            out.append(String.format("%10d %10d  %s (%s)%n", row.self(), row.total(), row.name(), row.library()));
        }
        return out.toString();
    }

    /** " (busy 3, thread_gone 1)" for the reasons with a count; empty when there are none. */
    private static String errorReasons(Map<String, Long> counts) {
        Map<String, Long> byReason = new TreeMap<>();
        counts.forEach((reason, n) -> {
            if (n > 0) byReason.put(reason, n);
        });
        if (byReason.isEmpty()) return "";
        return byReason.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ", " (", ")"));
    }
}
