package dev.stacktrace.jmx;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.service.ProfileSettings;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/**
 * The MBean {@value #NAME}: thread stacks with native frames and start/stop profiling, for JConsole,
 * VisualVM and any JMX client. An MXBean ({@link NativeStacksMXBean}); this class adds the parameter
 * names and the descriptions JConsole shows, and checks every argument.
 *
 * <p>Bad arguments come back as IllegalArgumentException, a wrong state as IllegalStateException,
 * each with a message that says what to do; nothing else crosses the wire, so a client needs no
 * class of ours.
 */
public final class NativeStacks extends StandardMBean implements NativeStacksMXBean {
    public static final String NAME = "dev.stacktrace:type=NativeStacks";
    /** The most rows getTopSymbols returns. */
    static final int MAX_TOP = 10_000;

    private record Param(String name, String description) {}

    private record Operation(String description, List<Param> params) {}

    private static final Param THREAD_ID = new Param("threadId",
            "Java thread id, as JConsole's Threads tab, ThreadMXBean and listThreads show it (1 or more)");
    private static final Param MAX_DEPTH = new Param("maxDepth", "Most frames to return (0 to " + Stacktrace.MAX_DEPTH + ")");
    private static final Param SHOW_JVM = new Param("showJvm", "Include the JVM's own frames (libjvm, stubs, hidden frames)");
    private static final Param INTERVAL = new Param("intervalMillis",
            "Time between samples in ms, from 0.1 to 60000 (10 = 100 samples a second)");

    private static final Map<String, Operation> OPERATIONS = Map.ofEntries(
            Map.entry("getThreadStack", new Operation("A thread's stack, native and Java frames interleaved, innermost first",
                    List.of(THREAD_ID, MAX_DEPTH, SHOW_JVM))),
            Map.entry("printThreadStack", new Operation("A thread's stack as text, to read in JConsole", List.of(THREAD_ID))),
            Map.entry("getNativeThreadStack", new Operation("The stack of a thread given by its OS id (jstack's nid), "
                    + "Java or not (GC, JIT compiler, a native library's thread)",
                    List.of(new Param("nativeTid", "OS thread id, as jstack's nid, top -H and listThreads show it"),
                            MAX_DEPTH, SHOW_JVM))),
            Map.entry("dumpAllThreads", new Operation("Every thread's stack with native frames, like jstack, threads "
                    + "without a java.lang.Thread included; needs no safepoint", List.of())),
            Map.entry("listThreads", new Operation("Every thread: Java id (-1 for GC, JIT and native threads), OS id, name, "
                    + "state; needs no safepoint", List.of())),
            Map.entry("startProfiling", new Operation("Start sampling one thread (wall-clock)", List.of(THREAD_ID, INTERVAL))),
            Map.entry("startProfilingAll", new Operation("Start sampling every thread",
                    List.of(new Param("mode", "cpu (running threads, per CPU time) or wall (every thread)"), INTERVAL))),
            Map.entry("stopProfiling", new Operation("Stop sampling; the profile stays readable", List.of())),
            Map.entry("getTopSymbols", new Operation("The profile's top symbols by samples on top of the stack",
                    List.of(new Param("n", "How many symbols (1 to " + MAX_TOP + ")")))),
            Map.entry("dumpCollapsed", new Operation("The profile as collapsed stacks (flamegraph.pl, speedscope)", List.of())),
            Map.entry("dumpFlameGraph", new Operation("The profile as a self-contained HTML flame graph",
                    List.of(new Param("title", "Title of the page")))),
            Map.entry("dumpPprof", new Operation("The running or last profile as a gzip-compressed pprof profile "
                    + "(go tool pprof, Pyroscope, Parca)", List.of())),
            Map.entry("profilePprof", new Operation("Profiles every thread for the given seconds (the running session's "
                    + "samples in that time when one runs in that mode) and returns a gzip-compressed pprof profile",
                    List.of(new Param("seconds", "How long to profile, 1 to 300"),
                            new Param("mode", "cpu (running threads, per CPU time) or wall (every thread)"))))
    );

    private static final Map<String, String> ATTRIBUTES = Map.ofEntries(
            Map.entry("Profiling", "True while a profiling session runs"),
            Map.entry("SampleCount", "Samples taken in all profiling sessions"),
            Map.entry("WalkCount", "Stacks walked in all profiling sessions, each one sample or more: SampleCount minus "
                    + "WalkCount samples were counted on a later stack of their thread (in cpu mode, time in the kernel)"),
            Map.entry("ErrorCount", "Samples not recorded (table full, busy, thread gone), all reasons together"),
            Map.entry("ErrorCounts", "Samples not recorded, by reason"),
            Map.entry("IncompleteCount", "Samples recorded with a marker frame: the stack walk stopped early"),
            Map.entry("UnsampledThreads", "Threads the running profile cannot sample: over 4,096, or no room in the user's "
                    + "pending-signal queue for their timers"),
            Map.entry("IntervalMillis", "Sampling interval of the running or last session, in ms"),
            Map.entry("EffectiveIntervalMillis", "The interval each thread of that session actually gets, in ms: in cpu "
                    + "mode on POSIX timers (where perf_events are refused), the scheduler tick when it is longer"),
            Map.entry("Mode", "cpu, wall, or off"),
            Map.entry("Version", "Version of stacktrace"));

    private final StacktraceService service;

    public NativeStacks(StacktraceService service) {
        super(NativeStacksMXBean.class, true);
        this.service = service;
    }

    /** Registers the MBean in the platform MBeanServer, once; returns its name. */
    public static ObjectName register() throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(NAME);
        try {
            server.registerMBean(new NativeStacks(StacktraceService.get()), name);
        } catch (InstanceAlreadyExistsException e) {
            // registered before (the agent and the application both asked): one is enough
        }
        return name;
    }

    // ---- the operations ----

    @Override
    public StackFrame[] getThreadStack(long threadId, int maxDepth, boolean showJvm) {
        return frames(() -> service.threadStack(threadId, maxDepth, showJvm));
    }

    @Override
    public String printThreadStack(long threadId) {
        return translated(() -> service.formatThreadStack(threadId));
    }

    @Override
    public StackFrame[] getNativeThreadStack(int nativeTid, int maxDepth, boolean showJvm) {
        return frames(() -> service.nativeThreadStack(nativeTid, maxDepth, showJvm));
    }

    @Override
    public String dumpAllThreads() {
        return translated(() -> service.dumpAllThreads(Stacktrace.DEFAULT_MAX_DEPTH));
    }

    @Override
    public ThreadRow[] listThreads() {
        return translated(() -> service.listThreads().stream()
                .map(r -> new ThreadRow(r.threadId(), r.nativeTid(), r.name(), r.state())).toArray(ThreadRow[]::new));
    }

    @Override
    public void startProfiling(long threadId, double intervalMillis) {
        ProfileSettings settings = new ProfileSettings(Profiler.Mode.WALL, interval(intervalMillis));
        translated(() -> {
            service.startProfiling(service.thread(threadId), settings);
            return null;
        });
    }

    @Override
    public void startProfilingAll(String mode, double intervalMillis) {
        ProfileSettings settings = new ProfileSettings(ProfileSettings.mode(mode, "mode"), interval(intervalMillis));
        translated(() -> {
            service.startProfiling(null, settings);
            return null;
        });
    }

    @Override
    public void stopProfiling() {
        translated(() -> {
            service.stopProfiling();
            return null;
        });
    }

    @Override
    public SymbolRow[] getTopSymbols(int n) {
        if (n < 1 || n > MAX_TOP) throw new IllegalArgumentException("n must be from 1 to " + MAX_TOP + ", not " + n);
        return translated(() -> service.topSymbols(n).stream().map(SymbolRow::of).toArray(SymbolRow[]::new));
    }

    @Override
    public String dumpCollapsed() {
        return translated(() -> service.collapsed().orElseThrow(NativeStacks::nothingProfiled));
    }

    @Override
    public String dumpFlameGraph(String title) {
        String page = title == null || title.isBlank() ? "stacktrace profile" : title;
        return translated(() -> service.flameGraph(page).orElseThrow(NativeStacks::nothingProfiled));
    }

    @Override
    public byte[] dumpPprof() {
        return translated(() -> service.pprof().orElseThrow(NativeStacks::nothingProfiled));
    }

    @Override
    public byte[] profilePprof(int seconds, String mode) {
        Profiler.Mode m = ProfileSettings.mode(mode, "mode");
        return translated(() -> {
            try {
                return service.profileWindow(m, Duration.ofSeconds(seconds)).pprof();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while profiling");
            }
        });
    }

    // ---- the attributes ----

    @Override
    public boolean isProfiling() {
        return service.isProfiling();
    }

    @Override
    public long getSampleCount() {
        return service.sampleCount();
    }

    @Override
    public long getWalkCount() {
        return service.walkCount();
    }

    @Override
    public long getErrorCount() {
        return service.errorCount();
    }

    @Override
    public Map<String, Long> getErrorCounts() {
        return service.errorCounts();
    }

    @Override
    public long getIncompleteCount() {
        return service.incompleteCount();
    }

    @Override
    public long getUnsampledThreads() {
        return service.unsampledThreads();
    }

    @Override
    public double getIntervalMillis() {
        return service.interval().toNanos() / 1e6;
    }

    @Override
    public double getEffectiveIntervalMillis() {
        return service.effectiveInterval().toNanos() / 1e6;
    }

    @Override
    public String getMode() {
        return service.mode();
    }

    @Override
    public String getVersion() {
        return version();
    }

    public static String version() {
        String v = NativeStacks.class.getPackage().getImplementationVersion();
        return v != null ? v : "development";
    }

    // ---- arguments and errors ----

    private static IllegalStateException nothingProfiled() {
        return new IllegalStateException("nothing profiled yet: call startProfiling or startProfilingAll first");
    }

    /** Milliseconds as a JMX client passes them, checked by the one rule for intervals. */
    static Duration interval(double millis) {
        return ProfileSettings.intervalMillis(millis, "intervalMillis");
    }

    private static StackFrame[] frames(Supplier<List<StackEntry>> stack) {
        return translated(() -> stack.get().stream().map(StackFrame::of).toArray(StackFrame[]::new));
    }

    /** A JMX client has none of our classes: a StacktraceException is said with one of the JDK's. */
    private static <T> T translated(Supplier<T> call) {
        try {
            return call.get();
        } catch (StacktraceException e) {
            if (e.reason() == StacktraceException.Reason.NO_SUCH_THREAD) throw new IllegalArgumentException(e.getMessage());
            throw new IllegalStateException(e.getMessage());
        }
    }

    // ---- what JConsole shows ----

    @Override
    protected String getDescription(MBeanInfo info) {
        return "Thread stacks with native (C/C++) frames, and sampling profiles";
    }

    @Override
    protected String getDescription(MBeanAttributeInfo info) {
        return ATTRIBUTES.getOrDefault(info.getName(), info.getName());
    }

    @Override
    protected String getDescription(MBeanOperationInfo info) {
        Operation op = OPERATIONS.get(info.getName());
        return op != null ? op.description() : info.getName();
    }

    @Override
    protected String getParameterName(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        Param p = param(op, sequence);
        return p != null ? p.name() : param.getName();
    }

    @Override
    protected String getDescription(MBeanOperationInfo op, MBeanParameterInfo param, int sequence) {
        Param p = param(op, sequence);
        return p != null ? p.description() : param.getName();
    }

    @Override
    protected int getImpact(MBeanOperationInfo info) {
        if (info.getName().equals("profilePprof")) return MBeanOperationInfo.ACTION_INFO;  // may run a session of its own
        return info.getName().startsWith("start") || info.getName().startsWith("stop")
                ? MBeanOperationInfo.ACTION : MBeanOperationInfo.INFO;
    }

    private static Param param(MBeanOperationInfo op, int sequence) {
        Operation known = OPERATIONS.get(op.getName());
        return known != null && sequence < known.params().size() ? known.params().get(sequence) : null;
    }
}
