package dev.stacktrace.agent;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.jmx.NativeStacks;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.lang.instrument.Instrumentation;

/**
 * {@code -javaagent:stacktrace.jar=port=9464,profile=cpu} at start-up, or loaded into a running JVM
 * through the Attach API ({@code java -jar stacktrace.jar <pid> ...}). Registers the MBean, optionally
 * starts profiling every thread, and serves metrics, a flame graph and a stack dump over HTTP.
 * Loading it again only applies what is new (a second HTTP server is never started).
 */
public final class Agent {
    private static AgentHttpServer http;

    private Agent() {}

    public static void premain(String args, Instrumentation instrumentation) {
        start(args, true);
    }

    public static void agentmain(String args, Instrumentation instrumentation) {
        start(args, false);
    }

    static synchronized void start(String args, boolean atStartup) {
        try {
            AgentOptions options = AgentOptions.parse(args);
            NativeStacks.register();
            if (options.dumpSignal() != 0) Stacktrace.dumpOnSignal(options.dumpSignal(), null);
            StacktraceService service = StacktraceService.get();
            if (!options.profile().equals("off") && !service.isProfiling()) {
                Profiler.Mode mode = options.profile().equals("cpu") ? Profiler.Mode.CPU : Profiler.Mode.WALL;
                service.startProfiling(null, mode, options.interval());
            }
            if (options.port() != 0 && http == null) {
                http = AgentHttpServer.start(options, service);
                log("serving http://" + options.host() + ":" + http.port() + "/metrics, /flamegraph and /stacks");
            }
        } catch (RuntimeException | LinkageError | javax.management.JMException e) {
            // never take the application down: say what went wrong and carry on without us
            log("not started: " + e.getMessage());
            if (!atStartup) throw new IllegalStateException("stacktrace agent: " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            log("cannot serve HTTP: " + e.getMessage());
        }
    }

    /** The running HTTP server's port, or 0. */
    public static synchronized int httpPort() {
        return http == null ? 0 : http.port();
    }

    private static void log(String message) {
        System.err.println("[stacktrace] " + message);
    }
}
