package dev.stacktrace.push;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A profile store on 127.0.0.1 for tests: records each POST (path, query, content type, body, when it
 * came) and answers as told: 200, another status, or not at all until {@link #close()}.
 */
final class LoopbackReceiver implements AutoCloseable {
    record Received(String path, Map<String, String> query, String contentType, byte[] body, long atMillis) {}

    enum Answer { OK, ERROR_500, BAD_REQUEST_400, HANG }

    private final HttpServer server;
    private final List<Received> received = new ArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Answer answer;

    LoopbackReceiver(Answer answer) throws IOException {
        this.answer = answer;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "loopback-receiver");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    void answer(Answer a) {
        answer = a;
    }

    synchronized List<Received> received() {
        return List.copyOf(received);
    }

    /** Waits until {@code n} requests came, {@code timeoutMs} at most; returns them. */
    List<Received> await(int n, long timeoutMs) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMs;
        synchronized (this) {
            while (received.size() < n) {
                long left = end - System.currentTimeMillis();
                if (left <= 0) break;
                wait(left);
            }
            return List.copyOf(received);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readAllBytes();
            URI uri = exchange.getRequestURI();
            synchronized (this) {
                received.add(new Received(uri.getPath(), query(uri.getRawQuery()),
                        exchange.getRequestHeaders().getFirst("Content-Type"), body, System.currentTimeMillis()));
                notifyAll();
            }
            switch (answer) {
                case OK -> exchange.sendResponseHeaders(200, -1);
                case ERROR_500 -> exchange.sendResponseHeaders(500, -1);
                case BAD_REQUEST_400 -> exchange.sendResponseHeaders(400, -1);
                case HANG -> {
                    try {
                        closing.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }

    static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null) return q;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
    }
}
