package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo with the agent, driven as users drive it: a real JMX connection from this process to the
 * child's remote JMX port (as JConsole or VisualVM would), and HTTP to the agent's server. Loopback only.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentServiceIT {
    private static final String NAME = "dev.stacktrace:type=NativeStacks";

    @Test
    void everyOperationAndAttributeOverARealJmxConnectionAndTheHttpEndpoints() throws Exception {
        int jmxPort = DemoProcess.freePort();
        int httpPort = DemoProcess.freePort();
        List<String> jmx = List.of("-Dcom.sun.management.jmxremote.port=" + jmxPort,
                "-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort,
                "-Dcom.sun.management.jmxremote.host=127.0.0.1", "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false",
                // this test is about the operations, not latency: a thread starved of CPU on a loaded machine
                // may take longer than the default 100 ms to answer (a true TIMEOUT, seen beside busy loops)
                "-Ddev.stacktrace.timeoutMillis=3000");
        try (DemoProcess demo = DemoProcess.start("port=" + httpPort + ",host=127.0.0.1,top=10", jmx, Duration.ofSeconds(150))) {
            demo.awaitReady(Duration.ofSeconds(60));
            JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi");
            try (JMXConnector connector = JMXConnectorFactory.connect(url)) {
                MBeanServerConnection server = connector.getMBeanServerConnection();
                ObjectName name = new ObjectName(NAME);
                checkInfo(server.getMBeanInfo(name));
                checkAttributes(server, name, false);

                // listThreads: the demo's workers with their OS ids
                CompositeData[] threads = (CompositeData[]) server.invoke(name, "listThreads", null, null);
                CompositeData deflater = List.of(threads).stream()
                        .filter(r -> r.get("name").equals("zlib-deflater")).findFirst().orElseThrow();
                long deflaterId = (Long) deflater.get("threadId");
                int deflaterTid = (Integer) deflater.get("nativeTid");
                assertTrue(deflaterTid > 0);

                CompositeData[] stack = (CompositeData[]) server.invoke(name, "getThreadStack",
                        new Object[] {deflaterId, 64, true}, new String[] {"long", "int", "boolean"});
                assertTrue(stack.length > 5);
                assertEquals(Set.of("address", "name", "offset", "library", "isJvm", "kind", "className", "methodName",
                        "fileName", "lineNumber"), stack[0].getCompositeType().keySet());
                assertTrue(List.of(stack).stream().anyMatch(f -> "deflate".equals(f.get("methodName"))
                        && "java.util.zip.Deflater".equals(f.get("className"))), "Deflater.deflate among the frames");
                CompositeData[] byTid = (CompositeData[]) server.invoke(name, "getNativeThreadStack",
                        new Object[] {deflaterTid, 64, false}, new String[] {"int", "int", "boolean"});
                assertTrue(byTid.length > 3);
                assertTrue(List.of(byTid).stream().noneMatch(f -> (Boolean) f.get("isJvm")));

                String printed = (String) server.invoke(name, "printThreadStack", new Object[] {deflaterId}, new String[] {"long"});
                assertTrue(printed.startsWith("Stack (most recent call first):"), printed);
                assertTrue(printed.contains("at java.util.zip.Deflater.deflate"), printed);
                String dump = (String) server.invoke(name, "dumpAllThreads", null, null);
                assertTrue(dump.contains("\"zlib-deflater\"") && dump.contains("\"pipe-reader\""), dump);

                // profiling: all threads (cpu), then one thread (wall)
                server.invoke(name, "startProfilingAll", new Object[] {"cpu", 5.0}, new String[] {"java.lang.String", "double"});
                checkAttributes(server, name, true);
                assertEquals("cpu", server.getAttribute(name, "Mode"));
                assertEquals(5.0, (Double) server.getAttribute(name, "IntervalMillis"), 1e-9);
                assertBad(server, name, IllegalStateException.class, "startProfilingAll",
                        new Object[] {"wall", 10.0}, new String[] {"java.lang.String", "double"});
                Thread.sleep(1500);
                assertTrue((Long) server.getAttribute(name, "SampleCount") > 50);
                server.invoke(name, "stopProfiling", null, null);
                assertFalse((Boolean) server.getAttribute(name, "Profiling"));
                CompositeData[] top = (CompositeData[]) server.invoke(name, "getTopSymbols", new Object[] {5}, new String[] {"int"});
                assertEquals(5, top.length);
                assertEquals(Set.of("symbol", "library", "self", "total"), top[0].getCompositeType().keySet());
                for (int i = 1; i < top.length; i++) {
                    assertTrue((Long) top[i - 1].get("self") >= (Long) top[i].get("self"), "by self samples, highest first");
                }
                String collapsed = (String) server.invoke(name, "dumpCollapsed", null, null);
                assertTrue(collapsed.lines().allMatch(l -> l.matches(".+ \\d+")) && collapsed.contains("Deflater"), collapsed);
                String html = (String) server.invoke(name, "dumpFlameGraph", new Object[] {"t"}, new String[] {"java.lang.String"});
                assertTrue(html.contains("<html") && html.contains("Deflater"));

                server.invoke(name, "startProfiling", new Object[] {deflaterId, 10.0}, new String[] {"long", "double"});
                assertEquals("wall", server.getAttribute(name, "Mode"));
                Thread.sleep(500);
                server.invoke(name, "stopProfiling", null, null);

                // bad arguments come back as IllegalArgumentException with a message that says what to do
                assertBad(server, name, IllegalArgumentException.class, "getThreadStack",
                        new Object[] {987654321L, 10, true}, new String[] {"long", "int", "boolean"});
                assertBad(server, name, IllegalArgumentException.class, "getThreadStack",
                        new Object[] {deflaterId, -1, true}, new String[] {"long", "int", "boolean"});
                assertBad(server, name, IllegalArgumentException.class, "getThreadStack",
                        new Object[] {0L, 10, true}, new String[] {"long", "int", "boolean"});
                assertBad(server, name, IllegalArgumentException.class, "getTopSymbols", new Object[] {0}, new String[] {"int"});
                for (double interval : new double[] {0, -5, Double.NaN, 1e300, 60_001}) {
                    assertBad(server, name, IllegalArgumentException.class, "startProfilingAll",
                            new Object[] {"cpu", interval}, new String[] {"java.lang.String", "double"});
                }
                assertBad(server, name, IllegalArgumentException.class, "startProfilingAll",
                        new Object[] {"sometimes", 10.0}, new String[] {"java.lang.String", "double"});
                assertBad(server, name, IllegalArgumentException.class, "getNativeThreadStack",
                        new Object[] {-3, 10, true}, new String[] {"int", "int", "boolean"});
            }

            // HTTP: metrics in the Prometheus format, the flame graph, the stacks
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String base = "http://127.0.0.1:" + httpPort;
            String metrics = get(http, base + "/metrics", 200);
            for (String metric : List.of("stacktrace_samples_total", "stacktrace_sample_walks_total",
                    "stacktrace_sample_errors_total{reason=\"table_full\"}",
                    "stacktrace_sample_duration_seconds_count", "stacktrace_sample_duration_seconds_sum",
                    "stacktrace_profiling_active", "stacktrace_symbol_samples_total{library=\"[other]\",symbol=\"[other]\"}")) {
                assertTrue(metrics.contains(metric), metric + " in\n" + metrics);
            }
            assertTrue(get(http, base + "/flamegraph", 200).contains("<html"));
            assertTrue(get(http, base + "/stacks", 200).contains("\"zlib-deflater\""));
            get(http, base + "/nothing-here", 404);
        }
    }

    private static void checkInfo(MBeanInfo info) {
        assertTrue(info.getDescription().length() > 10);
        assertEquals("true", info.getDescriptor().getFieldValue("mxbean"));
        Set<String> operations = Set.of("getThreadStack", "printThreadStack", "getNativeThreadStack", "dumpAllThreads",
                "listThreads", "startProfiling", "startProfilingAll", "stopProfiling", "getTopSymbols", "dumpCollapsed",
                "dumpPprof", "profilePprof");
        for (String op : operations) {
            MBeanOperationInfo o = List.of(info.getOperations()).stream().filter(x -> x.getName().equals(op))
                    .findFirst().orElseThrow(() -> new AssertionError("no operation " + op));
            assertFalse(o.getDescription().isBlank(), op);
            for (MBeanParameterInfo p : o.getSignature()) {
                assertFalse(p.getName().matches("p\\d+"), op + " has a parameter named " + p.getName());
                assertFalse(p.getDescription().isBlank(), op + "." + p.getName());
            }
        }
        Set<String> attributes = Set.of("Profiling", "SampleCount", "ErrorCount", "ErrorCounts", "IntervalMillis", "Mode",
                "Version");
        for (String a : attributes) {
            assertTrue(List.of(info.getAttributes()).stream().anyMatch(x -> x.getName().equals(a) && !x.getDescription().isBlank()), a);
        }
    }

    private static void checkAttributes(MBeanServerConnection server, ObjectName name, boolean profiling) throws Exception {
        assertEquals(profiling, server.getAttribute(name, "Profiling"));
        assertInstanceOf(Long.class, server.getAttribute(name, "SampleCount"));
        assertInstanceOf(Long.class, server.getAttribute(name, "ErrorCount"));
        assertInstanceOf(Double.class, server.getAttribute(name, "IntervalMillis"));
        assertEquals(profiling ? "cpu" : "off", server.getAttribute(name, "Mode"));
        assertNotNull(server.getAttribute(name, "Version"));
    }

    private static void assertBad(MBeanServerConnection server, ObjectName name, Class<? extends RuntimeException> type,
                                  String op, Object[] args, String[] signature) {
        RuntimeMBeanException e = assertThrows(RuntimeMBeanException.class, () -> server.invoke(name, op, args, signature));
        assertInstanceOf(type, e.getCause(), op + ": " + e.getCause());
        assertTrue(e.getCause().getMessage().length() > 20, e.getCause().getMessage());
    }

    private static String get(HttpClient http, String url, int status) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(status, r.statusCode(), url);
        return r.body();
    }
}
