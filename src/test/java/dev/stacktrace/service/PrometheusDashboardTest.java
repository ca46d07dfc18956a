package dev.stacktrace.service;

import dev.stacktrace.testlib.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What docker/ promises, checked without Docker: Prometheus accepts docker/prometheus.yml, the
 * Grafana dashboard and its provisioning fit together, and every query of the dashboard answers
 * with data when the real Prometheus server scrapes the real demo running with the agent.
 *
 * <p>Needs Debian's {@code prometheus} package ({@code /usr/bin/prometheus}, {@code /usr/bin/promtool};
 * scripts/setup.sh installs it). Everything listens on 127.0.0.1; every wait has a deadline; the child
 * processes are stopped in {@code finally}.
 *
 * <p>The demo runs from this build's classes (Maven runs the tests before it packages the jar), with a
 * manifest-only agent jar naming the class that has {@code premain}; {@code -Dstacktrace.agent.jar=target/stacktrace.jar}
 * runs the packaged jar instead ({@code java -javaagent:JAR=... -jar JAR demo}).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PrometheusDashboardTest {
    private static final Path PROJECT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    private static final Path DOCKER = PROJECT.resolve("docker");
    private static final Path DASHBOARD = DOCKER.resolve("grafana/dashboards/stacktrace.json");
    private static final List<String> ERROR_REASONS = List.of("table_full", "busy", "thread_gone", "signal_blocked");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    // ---------------------------------------------------------------- configuration, no processes

    @Test
    void promtoolAcceptsTheComposePrometheusConfig() throws Exception {
        String out = promtool("check", "config", DOCKER.resolve("prometheus.yml").toString());
        assertTrue(out.contains("SUCCESS"), out);
    }

    @Test
    void dashboardIsValidAndUsesOneDatasourceEverywhere() throws IOException {
        Map<String, Object> dash = Json.object(Json.parse(Files.readString(DASHBOARD)));
        assertEquals("stacktrace", dash.get("uid"));
        assertTrue(Json.number(dash.get("schemaVersion")) >= 36, "schemaVersion " + dash.get("schemaVersion"));
        assertNotNull(dash.get("title"));

        // The datasource variable picks a Prometheus data source and defaults to the provisioned one.
        String provisionedUid = yamlValue(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml"), "uid");
        Map<String, Object> dsVar = variables(dash).get("datasource");
        assertNotNull(dsVar, "no variable 'datasource' in the dashboard");
        assertEquals("datasource", dsVar.get("type"));
        assertEquals("prometheus", dsVar.get("query"));
        assertEquals(provisionedUid, Json.object(dsVar.get("current")).get("value"));

        List<Map<String, Object>> panels = panels(dash);
        assertTrue(panels.size() >= 6, "only " + panels.size() + " panels");
        Set<Object> ids = new LinkedHashSet<>();
        List<int[]> cells = new ArrayList<>();
        for (Map<String, Object> panel : panels) {
            String title = (String) panel.get("title");
            assertTrue(ids.add(panel.get("id")), "panel id used twice: " + title);
            Map<String, Object> grid = Json.object(panel.get("gridPos"));
            int x = (int) Json.number(grid.get("x")), y = (int) Json.number(grid.get("y"));
            int w = (int) Json.number(grid.get("w")), h = (int) Json.number(grid.get("h"));
            assertTrue(x >= 0 && w > 0 && h > 0 && x + w <= 24, "panel outside the 24-column grid: " + title);
            for (int[] c : cells) {
                boolean overlap = x < c[0] + c[2] && c[0] < x + w && y < c[1] + c[3] && c[1] < y + h;
                assertFalse(overlap, "panel overlaps another: " + title);
            }
            cells.add(new int[] {x, y, w, h});
            if ("row".equals(panel.get("type"))) continue;
            assertDatasourceVariable(panel.get("datasource"), title);
            List<Object> targets = Json.array(panel.get("targets"));
            assertFalse(targets.isEmpty(), "panel without queries: " + title);
            Set<Object> refIds = new LinkedHashSet<>();
            for (Object t : targets) {
                Map<String, Object> target = Json.object(t);
                assertDatasourceVariable(target.get("datasource"), title);
                assertTrue(refIds.add(target.get("refId")), "refId used twice in " + title);
                assertFalse(((String) target.get("expr")).isBlank(), "empty query in " + title);
            }
        }
        // What the brief for the dashboard names: top symbols, sample rate, errors by reason, cost, active.
        String all = String.join("\n", expressions(dash));
        for (String metric : List.of("stacktrace_symbol_samples_total", "stacktrace_samples_total",
                "stacktrace_sample_walks_total", "stacktrace_sample_errors_total", "stacktrace_sample_duration_seconds_sum",
                "stacktrace_sample_duration_seconds_count", "stacktrace_sample_duration_max_seconds",
                "stacktrace_profiling_active", "stacktrace_library_samples_total", "stacktrace_jni_samples_total")) {
            assertTrue(all.contains(metric), "no panel queries " + metric);
        }
        assertTrue(all.contains("sum by (reason)"), "no panel splits the errors by reason");
    }

    @Test
    void composeFilesFitTogether() throws IOException {
        String compose = Files.readString(DOCKER.resolve("docker-compose.yml"));
        // Every bind mount's host side exists (paths are relative to docker/).
        Map<String, String> mounts = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*-\\s*(\\./[^:\\s]+):([^:\\s]+)").matcher(compose);
        while (m.find()) mounts.put(m.group(1), m.group(2));
        assertTrue(mounts.size() >= 4, "bind mounts: " + mounts);
        for (String host : mounts.keySet()) {
            assertTrue(Files.exists(DOCKER.resolve(host).normalize()), "compose mounts a missing " + host);
        }
        assertEquals("/etc/prometheus/prometheus.yml", mounts.get("./prometheus.yml"));
        // Grafana loads the dashboards from where compose puts them.
        String dashboardsDir = mounts.get("./grafana/dashboards");
        assertEquals(dashboardsDir, yamlValue(DOCKER.resolve("grafana/provisioning/dashboards/stacktrace.yml"), "path"));
        assertTrue(compose.contains(dashboardsDir + "/" + DASHBOARD.getFileName()), "home dashboard path");
        // The data source points at the compose service, and Prometheus at the demo's agent port.
        assertEquals("http://prometheus:9090",
                yamlValue(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml"), "url"));
        assertTrue(Files.readString(DOCKER.resolve("prometheus.yml")).contains("\"demo:9464\""));
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        assertTrue(dockerfile.contains("EXPOSE 9464"));
        assertTrue(dockerfile.contains("port=9464,host=0.0.0.0"));
    }

    // ---------------------------------------------------------------- the real thing

    @Test
    void everyDashboardQueryAnswersFromTheRealDemo(@TempDir Path tmp) throws Exception {
        Map<String, Object> dash = Json.object(Json.parse(Files.readString(DASHBOARD)));
        List<String> queries = new ArrayList<>();
        for (String expr : expressions(dash)) queries.add(substituteVariables(expr, dash));

        int agentPort = freePort();
        int promPort = freePort();
        Path demoLog = tmp.resolve("demo.log");
        Path promLog = tmp.resolve("prometheus.log");
        Process demo = null;
        Process prometheus = null;
        try {
            demo = startDemo(agentPort, tmp, demoLog);
            String metrics = awaitMetrics(demo, agentPort, demoLog);
            assertTrue(metrics.contains("stacktrace_samples_total"), "no stacktrace_samples_total in /metrics:\n" + metrics);

            Path config = tmp.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: stacktrace-demo
                        scrape_interval: 1s
                        scrape_timeout: 1s
                        static_configs:
                          - targets: ["127.0.0.1:%d"]
                    """.formatted(agentPort));
            assertTrue(promtool("check", "config", config.toString()).contains("SUCCESS"));
            prometheus = new ProcessBuilder(binary("prometheus"),
                    "--config.file=" + config,
                    "--storage.tsdb.path=" + tmp.resolve("tsdb"),
                    "--web.listen-address=127.0.0.1:" + promPort,
                    "--log.level=warn")
                    .directory(tmp.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(promLog.toFile())
                    .start();
            String prom = "http://127.0.0.1:" + promPort;
            awaitReady(prometheus, prom, promLog);

            // Scrapes every second; rate(...[1m]) needs two points of a series. Poll until every
            // query answers, for at most 60 s (it takes a few seconds).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Map<String, List<Sample>> answers = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>(queries);
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                assertTrue(demo.isAlive(), "the demo exited early:\n" + tail(demoLog));
                TimeUnit.SECONDS.sleep(1);
                for (String q : queries) answers.put(q, query(prom, q));
                missing = queries.stream().filter(q -> !hasNumber(answers.get(q))).toList();
            }
            if (!missing.isEmpty()) {
                StringBuilder why = new StringBuilder("dashboard queries without data after 60 s of scrapes:\n");
                for (String q : missing) why.append("  ").append(q).append(" -> ").append(answers.get(q)).append('\n');
                why.append("targets: ").append(get(prom + "/api/v1/targets")).append('\n');
                why.append("demo log:\n").append(tail(demoLog)).append("prometheus log:\n").append(tail(promLog));
                fail(why.toString());
            }

            // Beyond "not empty": the demo is sampled, profiling is on, every error reason is there.
            assertTrue(single(query(prom, "sum(rate(stacktrace_samples_total[1m]))")) > 0, "sample rate 0");
            assertTrue(single(query(prom, "sum(rate(stacktrace_sample_walks_total[1m]))")) > 0, "walk rate 0");
            double carried = single(query(prom,
                    "sum(rate(stacktrace_samples_total[1m])) - sum(rate(stacktrace_sample_walks_total[1m]))"));
            assertTrue(carried >= -1e-9, "more walks than samples: " + carried + " a second");
            assertEquals(1.0, single(query(prom, "max(stacktrace_profiling_active)")));
            Set<String> reasons = new LinkedHashSet<>();
            for (Sample s : query(prom, "stacktrace_sample_errors_total")) reasons.add(s.labels().get("reason"));
            assertTrue(reasons.containsAll(ERROR_REASONS), "error reasons " + reasons + ", want " + ERROR_REASONS);
            List<Sample> symbols = query(prom, "topk(10, rate(stacktrace_symbol_samples_total{symbol!=\"[other]\"}[1m]))");
            assertTrue(symbols.stream().allMatch(s -> s.labels().containsKey("library")), "symbols " + symbols);
            assertTrue(query(prom, "stacktrace_symbol_samples_total").size() <= 21, "more than top=20 symbols plus [other]");

            // The JNI boundary: the demo's zlib-deflater thread calls zlib through java.util.zip.Deflater's
            // native methods, so zlib's samples are booked to a Deflater caller, and zlib's library has its share.
            // The top frame under a Deflater caller may also be in libc (zlib copies with memcpy) or libjvm
            // (the JNI wrapper pins the arrays): those series are true too, so look for zlib's among them.
            List<Sample> jni = query(prom, "sum by (library, caller) (stacktrace_jni_samples_total)");
            List<Sample> deflater = jni.stream().filter(s -> s.labels().get("caller").startsWith("java.util.zip.Deflater.")
                    && s.value() > 0).toList();
            assertFalse(deflater.isEmpty(), "no JNI series with a java.util.zip.Deflater caller: " + jni);
            Sample zlib = deflater.stream().filter(s -> s.labels().get("library").startsWith("libz"))
                    .max(Comparator.comparingDouble(Sample::value)).orElse(null);
            assertNotNull(zlib, "no Deflater series with zlib's library (libz*, libzip*) on top: " + deflater);
            String zlibLibrary = zlib.labels().get("library");
            List<Sample> libraries = query(prom, "stacktrace_library_samples_total");
            // zlib has its own library series unless 20 busier libraries fill the top (then it counts in [other])
            assertTrue(libraries.stream().anyMatch(s -> s.labels().get("library").equals(zlibLibrary) && s.value() > 0)
                            || libraries.size() == 21,
                    "no library series for " + zlibLibrary + ": " + libraries + "; jni: " + jni);
            assertTrue(jni.size() <= 21, "more than top=20 JNI sites plus [other]: " + jni.size());
            assertTrue(libraries.size() <= 21, "more than top=20 libraries plus [other]: " + libraries.size());
        } finally {
            stop(prometheus, 10);
            stop(demo, 5);
        }
    }

    // ---------------------------------------------------------------- the processes

    private Process startDemo(int port, Path tmp, Path log) throws IOException {
        String packaged = System.getProperty("stacktrace.agent.jar", "");
        String agentJar = packaged.isBlank() ? manifestOnlyAgentJar(tmp).toString() : Path.of(packaged).toAbsolutePath().toString();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-javaagent:" + agentJar + "=port=" + port + ",host=127.0.0.1,profile=cpu,interval=10ms,top=20");
        command.add("-cp");
        // the packaged jar as a user runs it (with the demo's classes beside it), or this build's classes
        command.add(packaged.isBlank() ? System.getProperty("java.class.path")
                : agentJar + java.io.File.pathSeparator + Path.of("target", "test-classes").toAbsolutePath());
        command.add("dev.stacktrace.demo.Demo");
        command.addAll(List.of("--duration", "150s"));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /**
     * A jar with only a manifest whose Premain-Class is this build's agent class. The JVM adds the
     * jar to the class path and loads that class from -cp, i.e. from target/classes.
     */
    private static Path manifestOnlyAgentJar(Path dir) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", premainClass());
        Path jar = dir.resolve("agent.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }

    /** The one class of this build (under dev/stacktrace) with public static premain(String, Instrumentation). */
    private static String premainClass() throws IOException {
        List<String> found = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path root = Path.of(entry);
            Path pkg = root.resolve("dev/stacktrace");
            if (!Files.isDirectory(pkg) || root.endsWith("test-classes")) continue;
            try (Stream<Path> files = Files.walk(pkg)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                    if (!new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("premain")) continue;
                    String name = root.relativize(f).toString().replace(File.separatorChar, '.');
                    name = name.substring(0, name.length() - ".class".length());
                    try {
                        Method m = Class.forName(name, false, PrometheusDashboardTest.class.getClassLoader())
                                .getDeclaredMethod("premain", String.class, Instrumentation.class);
                        if (Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers())) found.add(name);
                    } catch (ReflectiveOperationException | LinkageError e) {
                        // not an agent class
                    }
                }
            }
        }
        assertEquals(1, found.size(), "want exactly one class with public static premain(String, Instrumentation)"
                + " in this build's classes, found " + found + " (the agent is what this test runs)");
        return found.get(0);
    }

    private String awaitMetrics(Process demo, int port, Path log) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/metrics");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(demo.isAlive(), "the demo exited (code " + (demo.isAlive() ? "" : demo.exitValue())
                    + ") before serving /metrics:\n" + tail(log));
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return r.body();
            } catch (IOException e) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
        throw new AssertionError("the agent did not answer " + uri + " within 60 s:\n" + tail(log));
    }

    private void awaitReady(Process prometheus, String base, Path log) throws Exception {
        URI uri = URI.create(base + "/-/ready");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            assertTrue(prometheus.isAlive(), "prometheus exited:\n" + tail(log));
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (IOException e) {
                // starting
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new AssertionError("prometheus not ready within 30 s:\n" + tail(log));
    }

    /** Stops a child process and what it started (the demo starts a `sleep`): TERM, then KILL. */
    private static void stop(Process p, int graceSeconds) throws InterruptedException {
        if (p == null) return;
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        if (!p.waitFor(graceSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (ProcessHandle c : children) c.destroyForcibly();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String binary(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (!dir.isEmpty() && Files.isExecutable(p)) return p.toString();
        }
        Path usr = Path.of("/usr/bin", name);
        if (Files.isExecutable(usr)) return usr.toString();
        throw new AssertionError(name + " not found: install Debian's prometheus package"
                + " (apt-get install prometheus; scripts/setup.sh does)");
    }

    private static String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(binary("promtool"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) return "(no output)\n";
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())) + "\n";
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e + ")\n";
        }
    }

    // ---------------------------------------------------------------- Prometheus's HTTP API

    record Sample(Map<String, String> labels, double value) {}

    private String get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    /** An instant query: the samples of a vector result (one, without labels, for a scalar). */
    private List<Sample> query(String base, String promql) throws Exception {
        String body = get(base + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        Map<String, Object> reply = Json.object(Json.parse(body));
        assertEquals("success", reply.get("status"), promql + " -> " + body);
        Map<String, Object> data = Json.object(reply.get("data"));
        List<Sample> samples = new ArrayList<>();
        switch ((String) data.get("resultType")) {
            case "vector" -> {
                for (Object o : Json.array(data.get("result"))) {
                    Map<String, Object> r = Json.object(o);
                    Map<String, String> labels = new LinkedHashMap<>();
                    Json.object(r.get("metric")).forEach((k, v) -> labels.put(k, (String) v));
                    samples.add(new Sample(labels, value(r.get("value"))));
                }
            }
            case "scalar" -> samples.add(new Sample(Map.of(), value(data.get("result"))));
            default -> fail("unexpected result type for " + promql + ": " + body);
        }
        return samples;
    }

    private static double value(Object pair) {
        return Double.parseDouble((String) Json.array(pair).get(1));   // [time, "value"]; "NaN", "+Inf" parse
    }

    private static boolean hasNumber(List<Sample> samples) {
        return samples != null && samples.stream().anyMatch(s -> !Double.isNaN(s.value()));
    }

    private static double single(List<Sample> samples) {
        assertEquals(1, samples.size(), "want one sample: " + samples);
        return samples.get(0).value();
    }

    // ---------------------------------------------------------------- the dashboard

    private static List<Map<String, Object>> panels(Map<String, Object> dash) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object p : Json.array(dash.get("panels"))) {
            Map<String, Object> panel = Json.object(p);
            out.add(panel);
            if (panel.get("panels") != null) {   // a collapsed row keeps its panels inside
                for (Object inner : Json.array(panel.get("panels"))) out.add(Json.object(inner));
            }
        }
        return out;
    }

    /** panels[].targets[].expr, rows included, in order. */
    private static List<String> expressions(Map<String, Object> dash) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> panel : panels(dash)) {
            if (panel.get("targets") == null) continue;
            for (Object t : Json.array(panel.get("targets"))) {
                Object expr = Json.object(t).get("expr");
                if (expr != null) out.add((String) expr);
            }
        }
        assertFalse(out.isEmpty(), "no queries in the dashboard");
        return out;
    }

    private static Map<String, Map<String, Object>> variables(Map<String, Object> dash) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        Object templating = dash.get("templating");
        if (templating == null) return out;
        for (Object v : Json.array(Json.object(templating).get("list"))) {
            Map<String, Object> var = Json.object(v);
            out.put((String) var.get("name"), var);
        }
        return out;
    }

    private static void assertDatasourceVariable(Object datasource, String panel) {
        assertNotNull(datasource, "no datasource in panel " + panel);
        Map<String, Object> ds = Json.object(datasource);
        assertEquals("prometheus", ds.get("type"), "datasource type in panel " + panel);
        assertEquals("${datasource}", ds.get("uid"), "datasource in panel " + panel);
    }

    /**
     * What Grafana does before it sends a query: the dashboard's variables become "match anything"
     * (they only appear in =~ matchers), Grafana's interval variables a minute.
     */
    private static String substituteVariables(String expr, Map<String, Object> dash) {
        String q = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$__range", "1m");
        for (String name : variables(dash).keySet()) {
            q = q.replace("${" + name + "}", ".+").replace("[[" + name + "]]", ".+")
                    .replaceAll("\\$" + Pattern.quote(name) + "\\b", ".+");
        }
        assertFalse(q.contains("$"), "a variable the test does not know in: " + expr);
        return q;
    }

    /** The value of the first "key: value" line of a small YAML file. */
    private static String yamlValue(Path file, String key) throws IOException {
        Matcher m = Pattern.compile("(?m)^[\\s-]*" + Pattern.quote(key) + ":\\s*\"?([^\"#\\s]+)").matcher(Files.readString(file));
        assertTrue(m.find(), "no " + key + " in " + file);
        return m.group(1);
    }

}
