package dev.stacktrace.agent;

import com.sun.net.httpserver.HttpExchange;
import dev.stacktrace.metrics.StacktraceMetrics;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The agent's HTTP side, on the Prometheus client's HTTP server: /metrics (Micrometer's Prometheus
 * registry), and through its default handler /flamegraph (the current or last profile as HTML),
 * /stacks (every thread's stack as text) and / (links).
 */
final class AgentHttpServer {
    private final HTTPServer server;

    private AgentHttpServer(HTTPServer server) {
        this.server = server;
    }

    static AgentHttpServer start(AgentOptions options, StacktraceService service) throws IOException {
        // The JDK's HTTP server writes headers and body apart; without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK add ~40 ms to every scrape. Read once, when it first starts.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new StacktraceMetrics(service, options.top(), StacktraceMetrics.DEFAULT_REFRESH).bindTo(registry);
        HTTPServer server = HTTPServer.builder()
                .hostname(options.host())
                .port(options.port())
                .registry(registry.getPrometheusRegistry())
                .defaultHandler(exchange -> route(exchange, service))
                .buildAndStart();
        return new AgentHttpServer(server);
    }

    int port() {
        return server.getPort();
    }

    private static void route(HttpExchange exchange, StacktraceService service) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/flamegraph" -> {
                    Profiler p = service.profile();
                    if (p == null) {
                        send(exchange, 404, "text/plain", "No profile yet: start the agent with profile=cpu (or wall), "
                                + "or call startProfilingAll on the MBean dev.stacktrace:type=NativeStacks.\n");
                    } else {
                        send(exchange, 200, "text/html", p.flameGraph("stacktrace: " + service.mode() + " profile, pid "
                                + ProcessHandle.current().pid()));
                    }
                }
                case "/stacks" -> send(exchange, 200, "text/plain", service.dumpAllThreads(100));
                case "/" -> send(exchange, 200, "text/html", """
                        <!doctype html><html><head><meta charset="utf-8"><title>stacktrace</title></head><body>
                        <h1>stacktrace</h1><ul>
                        <li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
                        <li><a href="/flamegraph">/flamegraph</a>: flame graph of the current profile</li>
                        <li><a href="/stacks">/stacks</a>: every thread's stack with native frames</li>
                        </ul></body></html>
                        """);
                default -> send(exchange, 404, "text/plain", "Not found: " + path + " (try /metrics, /flamegraph, /stacks)\n");
            }
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
