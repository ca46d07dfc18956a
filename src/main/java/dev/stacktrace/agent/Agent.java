package dev.stacktrace.agent;

import dev.stacktrace.jmx.NativeStacks;
import dev.stacktrace.metrics.PushMetrics;
import dev.stacktrace.push.ProfilePusher;
import dev.stacktrace.service.ProfileSettings;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;

/**
 * {@code -javaagent:stacktrace.jar=port=9464,profile=cpu} at start-up, or loaded into a running JVM
 * through the Attach API ({@code java -jar stacktrace.jar <pid> ...}). Registers the MBean, optionally
 * starts profiling every thread, sets up the thread dump on a signal, and serves metrics, a flame graph
 * and a stack dump over HTTP.
 *
 * <p>At start-up a failure is one line on stderr and the application runs on without us. Loaded
 * into a running JVM, a failure fails the load (the attaching tool is told) and its reason is left in
 * the system property {@value #ERROR_PROPERTY}, which the attach CLI reads and prints. Loading the
 * agent again applies what is new; what cannot change (the HTTP server's settings, a running profile's
 * mode) fails the load with a message that names what is running.
 *
 * <p>Loaded with {@code command=} (the attach CLI's commands other than {@code agent}), it only carries
 * out that command ({@link AttachCommand}) and changes none of the agent's settings.
 */
public final class Agent {
    /** Set while the agent runs: what it has applied, e.g. {@code serving http://127.0.0.1:9464; profile=cpu}. */
    public static final String RUNNING_PROPERTY = "dev.stacktrace.agent";
    /** Why the last load through the Attach API failed; cleared by a load that succeeds. */
    public static final String ERROR_PROPERTY = "dev.stacktrace.agent.error";

    private static AgentHttpServer http;
    private static AgentOptions httpOptions;
    private static ProfilePusher pusher;
    private static PushOptions pushOptions;
    private static String dump = "";
    /** The start-up thread of {@code -javaagent}, if premain handed its work to one. */
    private static volatile Thread startup;

    private Agent() {}

    public static void premain(String args, Instrumentation instrumentation) {
        try {
            AgentOptions options = AgentOptions.parse(args);
            if (options.command() != null) throw new IllegalArgumentException("command= is for the attach CLI only");
            if (!needsStartBeforeMain(options)) {
                // Loading the native library, the MBean server and the HTTP server takes hundreds of
                // ms of CPU: the application's main need not wait for that.
                Thread starter = new Thread(() -> startQuietly(args), "stacktrace-agent-start");
                starter.setDaemon(true);
                startup = starter;
                starter.start();
                return;
            }
        } catch (Exception | LinkageError e) {
            log("not started: " + message(e));
            return;
        }
        startQuietly(args);
    }

    /**
     * The dump on a signal is installed before main runs: a realtime signal sent before its handler
     * is in place would end the JVM (the default action).
     */
    private static boolean needsStartBeforeMain(AgentOptions options) {
        return options.dumpSignal() != 0 || StacktraceService.dumpSignalProperty() != 0;
    }

    private static void startQuietly(String args) {
        try {
            start(AgentOptions.parse(args));
        } catch (Exception | LinkageError e) {
            // never take the application down: say what went wrong and carry on without us
            log("not started: " + message(e));
        }
    }

    /**
     * Waits until the agent given with {@code -javaagent} has started in the background (or failed to,
     * which it says on stderr). Returns false if it is still starting after {@code timeout}; true at
     * once when there is no such start.
     */
    public static boolean awaitStart(java.time.Duration timeout) throws InterruptedException {
        Thread starter = startup;
        if (starter == null) return true;
        starter.join(Math.max(1, timeout.toMillis()));
        return !starter.isAlive();
    }

    public static void agentmain(String args, Instrumentation instrumentation) {
        try {
            AgentOptions options = AgentOptions.parse(args);
            if (options.command() != null) {
                // a command of the attach CLI: answered in its file, the agent's own settings left alone
                AttachCommand.run(options);
                return;
            }
            start(options);
            System.clearProperty(ERROR_PROPERTY);
        } catch (Exception | LinkageError e) {
            String message = message(e);
            log("not started: " + message);
            System.setProperty(ERROR_PROPERTY, message);
            throw new IllegalStateException("stacktrace agent: " + message, e);
        }
    }

    static synchronized void start(AgentOptions options) throws Exception {
        StacktraceService service = StacktraceService.get();
        refuseChanges(options, service);
        NativeStacks.register();
        installDump(options, service);
        if (options.profileSettings() != null && !service.isProfiling()) {
            service.startProfiling(null, options.profileSettings());
        }
        if (options.push().enabled() && pusher == null && !service.isProfiling()) {
            // pushing needs a profile that runs all along: cpu, unless profile= chose otherwise
            service.startProfiling(null, new ProfileSettings(Profiler.Mode.CPU, options.interval()));
        }
        if (options.port() != 0 && http == null) {
            http = AgentHttpServer.start(options, service);
            httpOptions = options;
            if (pusher != null) http.bind(new PushMetrics(pusher));
            log("serving " + http.url() + "/metrics, /flamegraph and /stacks");
        }
        if (options.push().enabled() && pusher == null) {
            pusher = ProfilePusher.start(service, PushTargets.of(options.push()), options.push().interval(), Agent::log);
            pushOptions = options.push();
            if (http != null) http.bind(new PushMetrics(pusher));
            log("pushing profiles every " + Durations.format(pushOptions.interval()) + " (" + pushOptions.describe() + ")");
        }
        System.setProperty(RUNNING_PROPERTY, describe(service));
        // the native library is loaded now: the attach CLI's commands can come in through it, without a Java agent warning
        if (service.isProfiling() || !dump.isEmpty()) AttachCommand.publishLibrary();
    }

    /** What a second load asks for and this JVM cannot give while the agent runs as it does. */
    private static void refuseChanges(AgentOptions options, StacktraceService service) {
        if (options.push().enabled() && pusher != null && !options.push().describe().equals(pushOptions.describe())) {
            throw new IllegalStateException("the agent already pushes profiles (" + pushOptions.describe() + "); it cannot "
                    + "change to " + options.push().describe() + " while the JVM runs. Leave out pyroscope= and otlp= to "
                    + "keep the running push, or restart the JVM with the new options");
        }
        if (options.port() != 0 && http != null && !options.httpSettings().equals(httpOptions.httpSettings())) {
            throw new IllegalStateException("the agent already serves " + http.url() + " (" + httpOptions.httpSettings()
                    + "); it cannot change to " + options.httpSettings() + " while the JVM runs. Leave out port= to use "
                    + "the running server, or restart the JVM with the new options");
        }
        if (!options.profile().equals("off") && service.isProfiling()
                && (!service.mode().equals(options.profile()) || !service.interval().equals(options.interval()))) {
            throw new IllegalStateException("already profiling (" + service.mode() + ", every "
                    + Durations.format(service.interval()) + "); profile=" + options.profile() + ",interval="
                    + Durations.format(options.interval()) + " is not applied: stop the profile first "
                    + "(java -jar stacktrace.jar <pid> stop)");
        }
    }

    /**
     * The dump on a signal, from the agent option or from {@code -Ddev.stacktrace.dumpSignal} (which
     * the native library reads only when it starts, so the agent starts it). A failure names the way
     * the user chose the signal.
     */
    private static void installDump(AgentOptions options, StacktraceService service) {
        int property = StacktraceService.dumpSignalProperty();
        String fileProperty = System.getProperty(StacktraceService.DUMP_FILE_PROPERTY);
        Path file = options.dumpFile() != null ? options.dumpFile()
                : fileProperty == null || fileProperty.isBlank() ? null : Path.of(fileProperty);
        if (options.dumpSignal() != 0) {
            String how = "agent option dumpSignal=" + options.dumpSignal();
            if (property != 0 && property != options.dumpSignal()) {
                throw new IllegalArgumentException(how + " and -D" + StacktraceService.DUMP_SIGNAL_PROPERTY + "=" + property
                        + " disagree: give only one");
            }
            try {
                service.dumpOnSignal(options.dumpSignal(), file);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(how + ": " + e.getMessage(), e);
            }
            dump = "dumpSignal=" + options.dumpSignal();
        } else if (property != 0) {
            // the native library installs it from the property as it starts, and names the property if it cannot
            service.dumpOnSignal(property, file);
            dump = "-D" + StacktraceService.DUMP_SIGNAL_PROPERTY + "=" + property;
        }
    }

    private static String describe(StacktraceService service) {
        StringBuilder s = new StringBuilder("loaded");
        if (http != null) s.append("; serving ").append(http.url()).append(" (").append(httpOptions.httpSettings()).append(')');
        if (service.isProfiling()) s.append("; profiling ").append(service.mode());
        if (pusher != null) s.append("; pushing (").append(pushOptions.describe()).append(')');
        if (!dump.isEmpty()) s.append("; thread dump on ").append(dump);
        return s.toString();
    }

    private static String message(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.toString() : message;
    }

    /** The running HTTP server's port, or 0. */
    public static synchronized int httpPort() {
        return http == null ? 0 : http.port();
    }

    static void log(String message) {
        System.err.println("[stacktrace] " + message);
    }
}
