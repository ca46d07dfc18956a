package dev.stacktrace.agent;

import com.sun.net.httpserver.HttpExchange;
import dev.stacktrace.service.ProfileSettings;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * {@code GET /debug/pprof/profile?seconds=N[&mode=wall]}: N seconds (1 to 300, default 30) of every
 * thread's samples as a gzip-compressed pprof profile, the endpoint Go's net/http/pprof serves and
 * {@code go tool pprof}, Grafana Alloy (Pyroscope) and Parca scrape. One request is answered at a time
 * (the next gets 429 at once); it does not hold up /stacks or /flamegraph. See
 * {@link StacktraceService#profileWindow} for how it shares a running session.
 */
final class PprofEndpoint {
    static final String PATH = "/debug/pprof/profile";
    private static final int DEFAULT_SECONDS = 30;

    private PprofEndpoint() {}

    static void serve(HttpExchange exchange, StacktraceService service, Semaphore permit) throws IOException {
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        int seconds;
        Profiler.Mode mode;
        try {
            seconds = seconds(query.get("seconds"));
            mode = ProfileSettings.mode(query.getOrDefault("mode", "cpu"), "mode");
        } catch (IllegalArgumentException e) {
            AgentHttpServer.send(exchange, 400, "text/plain", e.getMessage() + "\n");
            return;
        }
        if (!permit.tryAcquire()) {
            exchange.getResponseHeaders().set("Retry-After", Integer.toString(seconds));
            AgentHttpServer.send(exchange, 429, "text/plain", "Busy: another " + PATH + " request is being answered; "
                    + "they are served one at a time. Try again when it is done.\n");
            return;
        }
        byte[] body;
        try {
            body = service.profileWindow(mode, Duration.ofSeconds(seconds)).pprof();
        } catch (IllegalStateException e) {
            AgentHttpServer.send(exchange, 409, "text/plain", e.getMessage() + "\n");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            AgentHttpServer.send(exchange, 503, "text/plain", "The agent is shutting down.\n");
            return;
        } catch (RuntimeException e) {
            AgentHttpServer.send(exchange, 500, "text/plain", "Cannot profile: " + e.getMessage() + "\n");
            return;
        } finally {
            permit.release();
        }
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"profile.pb.gz\"");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** {@code seconds}: a whole number from 1 to 300; absent means 30. */
    private static int seconds(String value) {
        if (value == null) return DEFAULT_SECONDS;
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        long max = StacktraceService.MAX_WINDOW.toSeconds();
        if (n < StacktraceService.MIN_WINDOW.toSeconds() || n > max) {
            throw new IllegalArgumentException("seconds must be a whole number from 1 to " + max + ", not \"" + value + "\"");
        }
        return (int) n;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null || raw.isEmpty()) return params;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.putIfAbsent(key, value);
        }
        return params;
    }
}
