package dev.stacktrace.jmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.testlib.PerfEventsSetting;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The MBean as a JMX client sees it, over a real RMI connection on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NativeStacksTest {
    private static final String[] STACK_BY_ID = {"long", "int", "boolean"};
    private static final String[] STACK_BY_TID = {"int", "int", "boolean"};
    private static final String[] PROFILE_ALL = {"java.lang.String", "double"};
    private static JMXConnectorServer connectorServer;
    private static JMXConnector connector;
    private static MBeanServerConnection server;
    private static ObjectName name;

    @BeforeAll
    static void connect() throws Exception {
        name = NativeStacks.register();
        connectorServer = JMXConnectorServerFactory.newJMXConnectorServer(new JMXServiceURL("service:jmx:rmi://127.0.0.1"),
                null, ManagementFactory.getPlatformMBeanServer());
        connectorServer.start();
        connector = JMXConnectorFactory.connect(connectorServer.getAddress());
        server = connector.getMBeanServerConnection();
    }

    @AfterAll
    static void disconnect() throws Exception {
        if (connector != null) connector.close();
        if (connectorServer != null) connectorServer.stop();
    }

    @Test
    void everyOperationAndParameterHasANameAndADescription() throws Exception {
        MBeanInfo info = server.getMBeanInfo(name);
        assertEquals("true", info.getDescriptor().getFieldValue("mxbean"));
        assertTrue(info.getDescription().length() > 10);
        Set<String> operations = Set.of("getThreadStack", "printThreadStack", "getNativeThreadStack", "dumpAllThreads",
                "listThreads", "startProfiling", "startProfilingAll", "stopProfiling", "getTopSymbols", "dumpCollapsed",
                "dumpFlameGraph", "dumpPprof", "profilePprof");
        assertEquals(operations, Set.copyOf(List.of(info.getOperations()).stream().map(MBeanOperationInfo::getName).toList()));
        for (MBeanOperationInfo o : info.getOperations()) {
            assertFalse(o.getDescription().equals(o.getName()) || o.getDescription().isBlank(), o.getName());
            for (MBeanParameterInfo p : o.getSignature()) {
                assertFalse(p.getName().matches("p\\d+"), o.getName() + " has a parameter named " + p.getName());
                assertFalse(p.getDescription().equals(p.getName()), o.getName() + "." + p.getName());
            }
        }
        MBeanOperationInfo byId = List.of(info.getOperations()).stream().filter(o -> o.getName().equals("getThreadStack"))
                .findFirst().orElseThrow();
        assertEquals(List.of("threadId", "maxDepth", "showJvm"),
                List.of(byId.getSignature()).stream().map(MBeanParameterInfo::getName).toList());
        assertEquals(Set.of("Profiling", "SampleCount", "WalkCount", "ErrorCount", "ErrorCounts", "IncompleteCount", "IntervalMillis",
                        "EffectiveIntervalMillis", "Mode", "UnsampledThreads", "Version"),
                Set.copyOf(List.of(info.getAttributes()).stream().map(MBeanAttributeInfo::getName).toList()));
        for (MBeanAttributeInfo a : info.getAttributes()) assertFalse(a.getDescription().equals(a.getName()), a.getName());
    }

    @Test
    void threadsStacksAndAttributes() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread waiting = new Thread(() -> {
            try {
                done.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // ends
            }
        }, "jmx-test-waiting");
        waiting.start();
        try {
            CompositeData[] threads = (CompositeData[]) server.invoke(name, "listThreads", null, null);
            CompositeData row = List.of(threads).stream().filter(r -> r.get("name").equals("jmx-test-waiting"))
                    .findFirst().orElseThrow();
            assertEquals(waiting.getId(), row.get("threadId"));
            assertEquals(Stacktrace.nativeThreadId(waiting), row.get("nativeTid"));
            assertTrue(List.of(threads).stream().anyMatch(r -> r.get("name").equals("VM Thread")
                    && (Long) r.get("threadId") == -1L), "threads without a java.lang.Thread are listed");

            CompositeData[] stack = (CompositeData[]) server.invoke(name, "getThreadStack",
                    new Object[] {waiting.getId(), 64, true}, STACK_BY_ID);
            assertEquals(Set.of("address", "name", "offset", "library", "isJvm", "kind", "className", "methodName",
                    "fileName", "lineNumber"), stack[0].getCompositeType().keySet());
            assertTrue(List.of(stack).stream().anyMatch(f -> "await".equals(f.get("methodName"))), "CountDownLatch.await");

            TabularData errors = (TabularData) server.getAttribute(name, "ErrorCounts");
            assertTrue(errors.values().stream().map(CompositeData.class::cast)
                    .allMatch(r -> r.get("key") instanceof String && r.get("value") instanceof Long), errors.toString());
            assertInstanceOf(Long.class, server.getAttribute(name, "SampleCount"));
        } finally {
            done.countDown();
            waiting.join(10_000);
        }
    }

    /**
     * cpu mode at 1 ms: task-clocks deliver it where the kernel allows them; POSIX timers deliver the
     * scheduler tick, and the attribute says so over a real JMX connection.
     */
    @Test
    void effectiveIntervalSaysWhatCpuModeDelivers() throws Exception {
        for (String perfEvents : new String[] {"true", "false"}) {
            PerfEventsSetting.with(perfEvents, () -> {
                server.invoke(name, "startProfilingAll", new Object[] {"cpu", 1.0}, PROFILE_ALL);
                try {
                    NativeSampler.Clock clock = NativeSampler.clock();
                    for (int i = 0; i < 200 && clock.perfThreads() + clock.timerThreads() == 0; i++) {
                        Thread.sleep(10);
                        clock = NativeSampler.clock();
                    }
                    double expected = clock.timerThreads() > 0 ? Math.max(1.0, clock.tickNanos() / 1e6) : 1.0;
                    assertEquals(expected, (Double) server.getAttribute(name, "EffectiveIntervalMillis"), 1e-9,
                            "perfEvents=" + perfEvents + ", " + clock);
                    if (perfEvents.equals("false")) {
                        assertEquals(0, clock.perfThreads(), clock.toString());
                        assertTrue(expected > 1.0 || clock.tickNanos() <= 1_000_000, "timers at 1 ms: " + clock);
                    }
                    assertEquals(1.0, (Double) server.getAttribute(name, "IntervalMillis"), 1e-9);
                } finally {
                    server.invoke(name, "stopProfiling", null, null);
                }
            });
        }
    }

    /**
     * A thread busy in system calls, profiled in cpu mode: walks are counted apart from samples, each
     * walk one sample or more, and the attributes are the service's own counts.
     */
    @Test
    void walkCountIsTheStacksBehindTheSamples() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (FileOutputStream out = new FileOutputStream("/dev/null")) {
                byte[] one = new byte[64];
                while (!stop.get()) out.write(one);  // a system call each time: time in the kernel
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "jmx-test-writer");
        writer.start();
        StacktraceService service = StacktraceService.get();
        long walksBefore = service.walkCount(), samplesBefore = service.sampleCount();
        try {
            server.invoke(name, "startProfilingAll", new Object[] {"cpu", 1.0}, PROFILE_ALL);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while ((Long) server.getAttribute(name, "WalkCount") < walksBefore + 100 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            server.invoke(name, "stopProfiling", null, null);
            stop.set(true);
            writer.join(10_000);
        }
        long walks = (Long) server.getAttribute(name, "WalkCount");
        long samples = (Long) server.getAttribute(name, "SampleCount");
        assertEquals(service.walkCount(), walks);
        assertEquals(service.sampleCount(), samples);
        assertTrue(walks - walksBefore >= 100, "walks in the session: " + (walks - walksBefore));
        assertTrue(samples - samplesBefore >= walks - walksBefore,
                "every walk is one sample or more: " + (walks - walksBefore) + " walks, " + (samples - samplesBefore) + " samples");
    }

    @Test
    void everyNumericArgumentIsRangeChecked() throws Exception {
        long me = Thread.currentThread().getId();
        bad("threadId", "getThreadStack", new Object[] {0L, 10, true}, STACK_BY_ID);
        bad("threadId", "getThreadStack", new Object[] {-1L, 10, true}, STACK_BY_ID);
        bad("no live thread", "getThreadStack", new Object[] {Long.MAX_VALUE, 10, true}, STACK_BY_ID);
        bad("no live thread", "getThreadStack", new Object[] {(long) Integer.MAX_VALUE + 1 + me, 10, true}, STACK_BY_ID);
        bad("maxDepth", "getThreadStack", new Object[] {me, -1, true}, STACK_BY_ID);
        bad("maxDepth", "getThreadStack", new Object[] {me, Stacktrace.MAX_DEPTH + 1, true}, STACK_BY_ID);
        bad("nativeTid", "getNativeThreadStack", new Object[] {0, 10, true}, STACK_BY_TID);
        bad("nativeTid", "getNativeThreadStack", new Object[] {-3, 10, true}, STACK_BY_TID);
        bad("maxDepth", "getNativeThreadStack", new Object[] {Stacktrace.currentNativeThreadId(), 5000, true}, STACK_BY_TID);
        bad("threadId", "printThreadStack", new Object[] {0L}, new String[] {"long"});
        for (double interval : new double[] {0, 0.05, -5, Double.NaN, Double.POSITIVE_INFINITY, 60_000.5, 1e300}) {
            bad("intervalMillis", "startProfilingAll", new Object[] {"wall", interval}, PROFILE_ALL);
            bad("intervalMillis", "startProfiling", new Object[] {me, interval}, new String[] {"long", "double"});
        }
        bad("mode", "startProfilingAll", new Object[] {"sometimes", 10.0}, PROFILE_ALL);
        bad("threadId", "startProfiling", new Object[] {0L, 10.0}, new String[] {"long", "double"});
        for (int n : new int[] {0, -1, NativeStacks.MAX_TOP + 1}) {
            bad("n must be", "getTopSymbols", new Object[] {n}, new String[] {"int"});
        }
        assertFalse((Boolean) server.getAttribute(name, "Profiling"), "no bad call started a profile");
    }

    private static void bad(String mentions, String op, Object[] args, String[] signature) {
        RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class, () -> server.invoke(name, op, args, signature),
                op + List.of(args));
        assertInstanceOf(IllegalArgumentException.class, e.getCause(), op + List.of(args) + ": " + e.getCause());
        assertTrue(e.getCause().getMessage().contains(mentions), op + List.of(args) + ": " + e.getCause().getMessage());
    }
}
