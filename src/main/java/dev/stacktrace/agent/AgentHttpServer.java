package dev.stacktrace.agent;

import com.sun.net.httpserver.HttpExchange;
import dev.stacktrace.metrics.StacktraceMetrics;
import dev.stacktrace.service.StacktraceService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * The agent's HTTP side, on the Prometheus client's HTTP server: /metrics (Micrometer's Prometheus
 * registry), and through its default handler /flamegraph (the current or last profile as HTML),
 * /stacks (every thread's stack as text) and / (links). The server's own authenticator and HTTPS
 * support guard every endpoint alike (see {@link AccessCheck}, {@link TlsSetup}). /stacks and
 * /flamegraph walk every thread or the whole profile: one of them runs at a time, the others get 429
 * at once, so they never hold the server's threads and /metrics keeps answering.
 */
final class AgentHttpServer {
    private final HTTPServer server;
    private final String url;

    private AgentHttpServer(HTTPServer server, String url) {
        this.server = server;
        this.url = url;
    }

    static AgentHttpServer start(AgentOptions options, StacktraceService service) throws IOException {
        InetAddress address = resolve(options.host());
        Credentials credentials = options.authFile() == null ? null : Credentials.read(options.authFile());
        HTTPServer.Builder builder = HTTPServer.builder().inetAddress(address).port(options.port());
        if (options.tls() != null) builder.httpsConfigurator(TlsSetup.configurator(options.tls(), options.tlsPasswordFile()));
        builder.authenticator(new AccessCheck(new HostCheck(options.host(), options.allowedHosts(), machineNames(address)),
                credentials));
        // The JDK's HTTP server writes headers and body apart; without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK add ~40 ms to every scrape. Read once, when it first starts.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StacktraceMetrics metrics = new StacktraceMetrics(service, options.top(), StacktraceMetrics.DEFAULT_REFRESH);
        metrics.bindTo(registry);
        Semaphore heavy = new Semaphore(1);
        Semaphore pprof = new Semaphore(1);
        HTTPServer server;
        String where = hostAndPort(options.host(), options.port());
        try {
            server = builder.registry(registry.getPrometheusRegistry())
                    .defaultHandler(exchange -> route(exchange, service, heavy, pprof))
                    .buildAndStart();
        } catch (BindException e) {
            metrics.close();
            throw bindFailure(e, where, options.host());
        } catch (IOException | RuntimeException e) {
            metrics.close();
            throw e;
        }
        String scheme = options.tls() == null ? "http" : "https";
        String url = scheme + "://" + hostAndPort(options.host(), server.getPort());
        if (!address.isLoopbackAddress() && credentials == null) {
            Agent.log("WARNING: " + url + " is open to other machines without authentication: whoever reaches it reads "
                    + "every thread's stack (/stacks, /flamegraph, /metrics). Set authFile= (and tls=), or host=127.0.0.1");
        }
        return new AgentHttpServer(server, url);
    }

    private static IOException bindFailure(BindException e, String where, String host) {
        if (String.valueOf(e.getMessage()).contains("in use")) {
            return new IOException(where + " is already in use (by another program, or another JVM's agent): "
                    + "choose a free port with port=<n>", e);
        }
        return new IOException("cannot listen on " + where + ": " + e.getMessage() + " (is " + host
                + " an address of this machine?)", e);
    }

    private static InetAddress resolve(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("host=" + host + " is neither an IP address nor a name this machine can "
                    + "resolve; give one of its addresses, e.g. host=127.0.0.1");
        }
    }

    private static String hostAndPort(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    /** This machine's names, which clients on other machines may rightly put in the Host header. */
    private static List<String> machineNames(InetAddress bound) {
        List<String> names = new ArrayList<>();
        if (bound.isLoopbackAddress()) return names;
        try {
            InetAddress local = InetAddress.getLocalHost();
            names.add(local.getHostName());
            names.add(local.getCanonicalHostName());
        } catch (UnknownHostException e) {
            // no name of our own: IP literals and allowedHosts still work
        }
        return names;
    }

    int port() {
        return server.getPort();
    }

    String url() {
        return url;
    }

    private static void route(HttpExchange exchange, StacktraceService service, Semaphore heavy, Semaphore pprof)
            throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/flamegraph" -> {
                    Map<String, String> filter = LabelFilter.parse(exchange.getRequestURI().getRawQuery());
                    if (filter == null) {
                        send(exchange, 400, "text/plain", "Bad label filter: use /flamegraph?label=key=value"
                                + " (repeat label= for more; URL-encoded)\n");
                        return;
                    }
                    String title = "stacktrace: " + service.mode() + " profile, pid " + ProcessHandle.current().pid()
                            + (filter.isEmpty() ? "" : ", labels " + filter);
                    oneAtATime(exchange, heavy, "text/html", () -> service.flameGraph(title, filter).orElse(null));
                }
                case "/stacks" -> oneAtATime(exchange, heavy, "text/plain", () -> service.dumpAllThreads(100));
                case PprofEndpoint.PATH -> PprofEndpoint.serve(exchange, service, pprof);
                case "/" -> send(exchange, 200, "text/html", """
                        <!doctype html><html><head><meta charset="utf-8"><title>stacktrace</title></head><body>
                        <h1>stacktrace</h1><ul>
                        <li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
                        <li><a href="/flamegraph">/flamegraph</a>: flame graph of the current profile
                        (<code>/flamegraph?label=endpoint=/checkout</code>: only the samples taken under these labels)</li>
                        <li><a href="/stacks">/stacks</a>: every thread's stack with native frames</li>
                        <li><a href="/debug/pprof/profile?seconds=30">/debug/pprof/profile?seconds=30</a>: 30 s of
                        cpu samples as a pprof profile (go tool pprof, Pyroscope, Parca); &amp;mode=wall for wall clock</li>
                        </ul></body></html>
                        """);
                default -> send(exchange, 404, "text/plain", "Not found: " + path + " (try /metrics, /flamegraph, /stacks, /debug/pprof/profile)\n");
            }
        }
    }

    /** Computes the body while holding the one permit, and sends it after: a slow reader holds nothing. */
    private static void oneAtATime(HttpExchange exchange, Semaphore heavy, String type, Supplier<String> body)
            throws IOException {
        if (!heavy.tryAcquire()) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            send(exchange, 429, "text/plain", "Busy: another /stacks or /flamegraph request is being answered, and they "
                    + "are served one at a time; try again in a moment.\n");
            return;
        }
        String text;
        try {
            text = body.get();
        } finally {
            heavy.release();
        }
        if (text == null) {
            send(exchange, 404, "text/plain", "No profile yet: start the agent with profile=cpu (or wall), "
                    + "or call startProfilingAll on the MBean dev.stacktrace:type=NativeStacks.\n");
        } else {
            send(exchange, 200, type, text);
        }
    }

    static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
