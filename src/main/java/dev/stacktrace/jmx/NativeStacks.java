package dev.stacktrace.jmx;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.ImmutableDescriptor;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import javax.management.openmbean.ArrayType;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenMBeanAttributeInfoSupport;
import javax.management.openmbean.OpenMBeanInfoSupport;
import javax.management.openmbean.OpenMBeanOperationInfoSupport;
import javax.management.openmbean.OpenMBeanParameterInfo;
import javax.management.openmbean.OpenMBeanParameterInfoSupport;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularData;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;

/**
 * The MBean {@value #NAME}: thread stacks with native frames and start/stop profiling, for JConsole,
 * VisualVM and any JMX client. An open MBean (every type is an open type, as in an MXBean, and its
 * descriptor says mxbean=true), written as such so that every operation and parameter carries a
 * real name and a description, and so that the tables have exactly the columns users see.
 *
 * <p>Bad arguments come back as IllegalArgumentException, a wrong state as IllegalStateException,
 * each with a message that says what to do; nothing else crosses the wire, so a client needs no
 * class of ours.
 */
public final class NativeStacks implements DynamicMBean {
    public static final String NAME = "dev.stacktrace:type=NativeStacks";

    static final CompositeType FRAME;
    static final ArrayType<CompositeData> STACK;
    static final CompositeType THREAD;
    static final TabularType THREADS;
    static final CompositeType SYMBOL;
    static final TabularType SYMBOLS;

    static {
        try {
            FRAME = new CompositeType("StackFrame", "One frame, innermost first",
                    new String[] {"address", "name", "offset", "library", "isJvm", "kind", "className", "methodName",
                            "fileName", "lineNumber"},
                    new String[] {"Instruction address", "Symbol, or class.method for a Java frame",
                            "Bytes from the symbol's start", "Mapped object's file name", "The JVM's own frame",
                            "NATIVE, JVM, JAVA_INTERPRETED, JAVA_COMPILED, JAVA_INLINED or JAVA_NATIVE",
                            "Java frames: declaring class", "Java frames: method", "Java frames: source file",
                            "Java frames: source line, -1 when unknown"},
                    new OpenType<?>[] {SimpleType.LONG, SimpleType.STRING, SimpleType.LONG, SimpleType.STRING,
                            SimpleType.BOOLEAN, SimpleType.STRING, SimpleType.STRING, SimpleType.STRING, SimpleType.STRING,
                            SimpleType.INTEGER});
            STACK = new ArrayType<>(1, FRAME);
            THREAD = new CompositeType("Thread", "A live thread",
                    new String[] {"threadId", "nativeTid", "name", "state"},
                    new String[] {"Java thread id (as JConsole's Threads tab)", "OS thread id (jstack's nid, top -H)",
                            "Thread name", "Thread.State"},
                    new OpenType<?>[] {SimpleType.LONG, SimpleType.INTEGER, SimpleType.STRING, SimpleType.STRING});
            THREADS = new TabularType("Threads", "Live threads", THREAD, new String[] {"threadId"});
            SYMBOL = new CompositeType("Symbol", "A symbol's sample counts",
                    new String[] {"symbol", "library", "self", "total"},
                    new String[] {"Symbol, or class.method", "Library, or [java]", "Samples with it on top",
                            "Samples with it anywhere in the stack"},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.LONG, SimpleType.LONG});
            SYMBOLS = new TabularType("Symbols", "Top symbols", SYMBOL, new String[] {"symbol", "library"});
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final StacktraceService service;
    private final MBeanInfo info;

    public NativeStacks(StacktraceService service) {
        this.service = service;
        this.info = buildInfo();
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

    CompositeData[] getThreadStack(long threadId, int maxDepth, boolean showJvm) {
        return toCompositeData(Stacktrace.getThreadStack(service.thread(threadId), maxDepth, showJvm));
    }

    String printThreadStack(long threadId) {
        return Stacktrace.format(Stacktrace.getThreadStack(service.thread(threadId), Stacktrace.DEFAULT_MAX_DEPTH, true));
    }

    CompositeData[] getNativeThreadStack(int nativeTid, int maxDepth, boolean showJvm) {
        return toCompositeData(Stacktrace.getNativeThreadStack(nativeTid, maxDepth, showJvm));
    }

    TabularData listThreads() throws OpenDataException {
        TabularDataSupport table = new TabularDataSupport(THREADS);
        for (StacktraceService.ThreadRow row : service.listThreads()) {
            table.put(new CompositeDataSupport(THREAD, new String[] {"threadId", "nativeTid", "name", "state"},
                    new Object[] {row.threadId(), row.nativeTid(), row.name(), row.state()}));
        }
        return table;
    }

    void startProfiling(long threadId, double intervalMillis) {
        Duration interval = interval(intervalMillis);
        service.startProfiling(service.thread(threadId), Profiler.Mode.WALL, interval);
    }

    void startProfilingAll(String mode, double intervalMillis) {
        Duration interval = interval(intervalMillis);
        Profiler.Mode m;
        String wanted = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "cpu" -> m = Profiler.Mode.CPU;
            case "wall" -> m = Profiler.Mode.WALL;
            default -> throw new IllegalArgumentException("mode must be \"cpu\" (running threads, per CPU time) or "
                    + "\"wall\" (every thread, per wall-clock time), not \"" + mode + "\"");
        }
        service.startProfiling(null, m, interval);
    }

    TabularData getTopSymbols(int n) throws OpenDataException {
        if (n < 0) throw new IllegalArgumentException("n must be 0 or more, not " + n);
        TabularDataSupport table = new TabularDataSupport(SYMBOLS);
        for (Profiler.SymbolCount c : service.topSymbols(n)) {
            CompositeData row = new CompositeDataSupport(SYMBOL, new String[] {"symbol", "library", "self", "total"},
                    new Object[] {c.name(), c.library(), c.self(), c.total()});
            if (!table.containsKey(table.calculateIndex(row))) table.put(row);
        }
        return table;
    }

    String dumpCollapsed() {
        Profiler p = service.profile();
        if (p == null) throw new IllegalStateException("nothing profiled yet: call startProfiling or startProfilingAll first");
        return p.collapsed();
    }

    String dumpFlameGraph(String title) {
        Profiler p = service.profile();
        if (p == null) throw new IllegalStateException("nothing profiled yet: call startProfiling or startProfilingAll first");
        return p.flameGraph(title == null || title.isBlank() ? "stacktrace profile" : title);
    }

    private static Duration interval(double millis) {
        if (Double.isNaN(millis) || Double.isInfinite(millis) || millis < 0.1) {
            throw new IllegalArgumentException("intervalMillis must be a number of milliseconds, at least 0.1 (e.g. 10"
                    + " for 100 samples a second), not " + millis);
        }
        return Duration.ofNanos(Math.round(millis * 1_000_000));
    }

    private static CompositeData[] toCompositeData(List<StackEntry> stack) {
        CompositeData[] frames = new CompositeData[stack.size()];
        try {
            for (int i = 0; i < frames.length; i++) {
                StackEntry e = stack.get(i);
                frames[i] = new CompositeDataSupport(FRAME, new String[] {"address", "name", "offset", "library", "isJvm",
                        "kind", "className", "methodName", "fileName", "lineNumber"},
                        new Object[] {e.address(), e.name(), e.offset(), e.library(), e.isJvm(), e.kind().name(),
                                e.className(), e.methodName(), e.fileName(), e.lineNumber()});
            }
        } catch (OpenDataException e) {
            throw new IllegalStateException(e);
        }
        return frames;
    }

    static String version() {
        String v = NativeStacks.class.getPackage().getImplementationVersion();
        return v != null ? v : "development";
    }

    // ---- DynamicMBean ----

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        return switch (attribute) {
            case "Profiling" -> service.isProfiling();
            case "SampleCount" -> service.sampleCount();
            case "ErrorCount" -> service.errorCount();
            case "IncompleteCount" -> service.incompleteCount();
            case "IntervalMillis" -> service.interval().toNanos() / 1e6;
            case "Mode" -> service.mode();
            case "Version" -> version();
            default -> throw new AttributeNotFoundException("no attribute " + attribute);
        };
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("every attribute of " + NAME + " is read-only");
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList();
        for (String a : attributes) {
            try {
                list.add(new Attribute(a, getAttribute(a)));
            } catch (AttributeNotFoundException e) {
                // left out, as the JMX contract wants
            }
        }
        return list;
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String action, Object[] params, String[] signature) throws ReflectionException {
        Object[] p = params == null ? new Object[0] : params;
        try {
            return switch (action + "/" + p.length) {
                case "getThreadStack/3" -> getThreadStack(asLong(p[0]), asInt(p[1]), asBoolean(p[2]));
                case "printThreadStack/1" -> printThreadStack(asLong(p[0]));
                case "getNativeThreadStack/3" -> getNativeThreadStack(asInt(p[0]), asInt(p[1]), asBoolean(p[2]));
                case "dumpAllThreads/0" -> service.dumpAllThreads(Stacktrace.DEFAULT_MAX_DEPTH);
                case "listThreads/0" -> listThreads();
                case "startProfiling/2" -> {
                    startProfiling(asLong(p[0]), asDouble(p[1]));
                    yield null;
                }
                case "startProfilingAll/2" -> {
                    startProfilingAll((String) p[0], asDouble(p[1]));
                    yield null;
                }
                case "stopProfiling/0" -> {
                    service.stopProfiling();
                    yield null;
                }
                case "getTopSymbols/1" -> getTopSymbols(asInt(p[0]));
                case "dumpCollapsed/0" -> dumpCollapsed();
                case "dumpFlameGraph/1" -> dumpFlameGraph((String) p[0]);
                default -> throw new ReflectionException(new NoSuchMethodException(action),
                        "no operation " + action + " with " + p.length + " parameters");
            };
        } catch (StacktraceException e) {
            // a JMX client has none of our classes: say it with one of the JDK's
            throw new IllegalStateException(e.getMessage());
        } catch (OpenDataException e) {
            throw new IllegalStateException("cannot build the answer: " + e.getMessage());
        } catch (NullPointerException | ClassCastException e) {
            throw new IllegalArgumentException("wrong or missing arguments for " + action + ": see its parameters in the"
                    + " MBean's description");
        }
    }

    private static long asLong(Object o) {
        return ((Number) o).longValue();
    }

    private static int asInt(Object o) {
        return ((Number) o).intValue();
    }

    private static double asDouble(Object o) {
        return ((Number) o).doubleValue();
    }

    private static boolean asBoolean(Object o) {
        return (Boolean) o;
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return info;
    }

    private static MBeanInfo buildInfo() {
        OpenMBeanAttributeInfoSupport[] attributes = {
            attribute("Profiling", "True while a profiling session runs", SimpleType.BOOLEAN),
            attribute("SampleCount", "Samples taken in all profiling sessions", SimpleType.LONG),
            attribute("IncompleteCount", "Samples recorded with a marker frame: the stack walk stopped early",
                    SimpleType.LONG),
            attribute("ErrorCount", "Samples not recorded (table full, busy, thread gone)",
                    SimpleType.LONG),
            attribute("IntervalMillis", "Sampling interval of the running or last session, in ms", SimpleType.DOUBLE),
            attribute("Mode", "cpu, wall, or off", SimpleType.STRING),
            attribute("Version", "Version of stacktrace", SimpleType.STRING),
        };
        OpenMBeanParameterInfo threadId = param("threadId", "Java thread id, as JConsole's Threads tab and ThreadMXBean show it",
                SimpleType.LONG);
        OpenMBeanParameterInfo maxDepth = param("maxDepth", "Most frames to return (0 to " + Stacktrace.MAX_DEPTH + ")",
                SimpleType.INTEGER);
        OpenMBeanParameterInfo showJvm = param("showJvm", "Include the JVM's own frames (libjvm, stubs, hidden frames)",
                SimpleType.BOOLEAN);
        OpenMBeanParameterInfo interval = param("intervalMillis", "Time between samples in ms (at least 0.1; 10 = 100 Hz)",
                SimpleType.DOUBLE);
        OpenMBeanOperationInfoSupport[] operations = {
            operation("getThreadStack", "A thread's stack, native and Java frames interleaved, innermost first",
                    STACK, threadId, maxDepth, showJvm),
            operation("printThreadStack", "A thread's stack as text, to read in JConsole", SimpleType.STRING, threadId),
            operation("getNativeThreadStack", "The stack of a thread given by its OS id (jstack's nid)", STACK,
                    param("nativeTid", "OS thread id, as jstack's nid or top -H show it", SimpleType.INTEGER), maxDepth,
                    showJvm),
            operation("dumpAllThreads", "Every thread's stack with native frames, like jstack", SimpleType.STRING),
            operation("listThreads", "Live threads: Java id, OS id, name, state", THREADS),
            operation("startProfiling", "Start sampling one thread (wall-clock)", SimpleType.VOID, threadId, interval),
            operation("startProfilingAll", "Start sampling every thread", SimpleType.VOID,
                    param("mode", "cpu (running threads, per CPU time) or wall (every thread)", SimpleType.STRING),
                    interval),
            operation("stopProfiling", "Stop sampling; the profile stays readable", SimpleType.VOID),
            operation("getTopSymbols", "The profile's top symbols by samples on top of the stack",
                    SYMBOLS, param("n", "How many symbols", SimpleType.INTEGER)),
            operation("dumpCollapsed", "The profile as collapsed stacks (flamegraph.pl, speedscope)", SimpleType.STRING),
            operation("dumpFlameGraph", "The profile as a self-contained HTML flame graph", SimpleType.STRING,
                    param("title", "Title of the page", SimpleType.STRING)),
        };
        return new OpenMBeanInfoSupport(NativeStacks.class.getName(),
                "Thread stacks with native (C/C++) frames, and sampling profiles", attributes, null, operations, null,
                new ImmutableDescriptor("mxbean=true", "immutableInfo=true"));
    }

    private static OpenMBeanAttributeInfoSupport attribute(String name, String description, OpenType<?> type) {
        return new OpenMBeanAttributeInfoSupport(name, description, type, true, false, type == SimpleType.BOOLEAN);
    }

    private static OpenMBeanParameterInfo param(String name, String description, OpenType<?> type) {
        return new OpenMBeanParameterInfoSupport(name, description, type);
    }

    private static OpenMBeanOperationInfoSupport operation(String name, String description, OpenType<?> returns,
                                                           OpenMBeanParameterInfo... params) {
        boolean changes = name.startsWith("start") || name.startsWith("stop");
        return new OpenMBeanOperationInfoSupport(name, description, params, returns,
                changes ? MBeanOperationInfo.ACTION : MBeanOperationInfo.INFO);
    }
}
