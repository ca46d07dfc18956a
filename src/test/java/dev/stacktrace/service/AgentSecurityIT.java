package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent's HTTP endpoints guarded as the README's Security section says: auth, TLS, Host check, one heavy request at a time. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentSecurityIT {
    private static final String PASSWORD = "s3cret pass";

    @Test
    void basicAuthOverTlsWithTheKeystoreAndPasswordFromFiles(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("agent.p12");
        Path storePassword = privateFile(dir.resolve("store.pass"), "changeit-123\n");
        keytool("-genkeypair", "-alias", "agent", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit-123", "-keypass", "changeit-123");
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(PASSWORD.getBytes(StandardCharsets.UTF_8)));
        Path auth = privateFile(dir.resolve("auth"), "# who may read the stacks\nops:sha256:" + hash + "\n");
        int port = DemoProcess.freePort();
        String options = "port=" + port + ",authFile=" + auth + ",tls=" + keystore + ",tlsPasswordFile=" + storePassword;
        try (DemoProcess demo = DemoProcess.start(options, List.of(), Duration.ofSeconds(150))) {
            demo.awaitReady(Duration.ofSeconds(60));
            assertTrue(demo.output().contains("serving https://127.0.0.1:" + port), demo.output());
            HttpClient https = HttpClient.newBuilder().sslContext(trusting(keystore, "changeit-123"))
                    .connectTimeout(Duration.ofSeconds(30)).build(); // the first handshake is slow on a loaded machine
            String base = "https://127.0.0.1:" + port;

            HttpResponse<String> anonymous = get(https, base + "/metrics", null);
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"), anonymous.headers().toString());
            assertEquals(401, get(https, base + "/stacks", null).statusCode());
            assertEquals(401, get(https, base + "/stacks", basic("ops", "wrong")).statusCode());
            assertEquals(401, get(https, base + "/stacks", basic("root", PASSWORD)).statusCode());

            HttpResponse<String> metrics = get(https, base + "/metrics", basic("ops", PASSWORD));
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("stacktrace_samples_total"), metrics.body());
            HttpResponse<String> stacks = get(https, base + "/stacks", basic("ops", PASSWORD));
            assertEquals(200, stacks.statusCode());
            assertTrue(stacks.body().contains("\"zlib-deflater\""), stacks.body());

            // plain HTTP gets no answer from the TLS port
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
            boolean plainRefused;
            try {
                plainRefused = get(http, "http://127.0.0.1:" + port + "/metrics", basic("ops", PASSWORD)).statusCode() != 200;
            } catch (java.io.IOException e) {
                plainRefused = true;
            }
            assertTrue(plainRefused, "plain HTTP must not be served on the TLS port");
        }
    }

    @Test
    void foreignHostHeaderIsRefusedOnEveryEndpoint() throws Exception {
        int port = DemoProcess.freePort();
        try (DemoProcess demo = DemoProcess.start("port=" + port + ",allowedHosts=stacks.example.org", List.of(), Duration.ofSeconds(150))) {
            demo.awaitReady(Duration.ofSeconds(60));
            for (String path : List.of("/metrics", "/stacks", "/flamegraph", "/")) {
                assertEquals(421, statusWithHost(port, path, "attacker.example:" + port), path);
                assertEquals(421, statusWithHost(port, path, "localhost.attacker.example"), path);
            }
            assertEquals(200, statusWithHost(port, "/metrics", "127.0.0.1:" + port));
            assertEquals(200, statusWithHost(port, "/metrics", "localhost:" + port));
            assertEquals(200, statusWithHost(port, "/metrics", "[::1]:" + port));
            assertEquals(200, statusWithHost(port, "/metrics", "stacks.example.org:" + port));
        }
    }

    /**
     * Two /stacks requests that overlap: the second gets 429 at once, and /metrics answers while the
     * first is still being worked on. Overlap is not forced, so it is tried until it happens (on a
     * loaded machine it happens sooner: /stacks only gets slower).
     */
    @Test
    void overlappingStacksGet429WhileMetricsKeepsAnswering() throws Exception {
        int port = DemoProcess.freePort();
        try (DemoProcess demo = DemoProcess.start("port=" + port, List.of(), Duration.ofSeconds(150))) {
            demo.awaitReady(Duration.ofSeconds(60));
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
            String base = "http://127.0.0.1:" + port;
            boolean seen = false;
            for (int attempt = 0; attempt < 50 && !seen; attempt++) {
                CompletableFuture<HttpResponse<String>> first = http.sendAsync(request(base + "/stacks", null),
                        HttpResponse.BodyHandlers.ofString());
                while (!first.isDone()) {
                    HttpResponse<String> second = http.send(request(base + "/stacks", null), HttpResponse.BodyHandlers.ofString());
                    if (second.statusCode() == 200) continue; // the first finished meanwhile, or had not begun
                    assertEquals(429, second.statusCode(), second.body());
                    assertTrue(second.body().contains("one at a time"), second.body());
                    assertEquals("1", second.headers().firstValue("Retry-After").orElse(""));
                    HttpResponse<String> metrics = http.send(request(base + "/metrics", null), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, metrics.statusCode());
                    assertTrue(metrics.body().contains("stacktrace_samples_total"));
                    if (!first.isDone()) seen = true; // /metrics answered while /stacks was still being worked on
                    break;
                }
                // 429 too when one of the others had begun before it
                int firstStatus = first.get(60, TimeUnit.SECONDS).statusCode();
                assertTrue(firstStatus == 200 || firstStatus == 429, "first /stacks: " + firstStatus);
            }
            assertTrue(seen, "never saw /metrics answer during a /stacks request that made another one wait");
            assertEquals(200, get(http, base + "/stacks", null).statusCode(), "served again once the first is done");
        }
    }

    static Path privateFile(Path file, String content) throws Exception {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
    }

    private static SSLContext trusting(Path keystore, String password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, password.toCharArray());
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpRequest request(String url, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (authorization != null) b.header("Authorization", authorization);
        return b.build();
    }

    private static HttpResponse<String> get(HttpClient client, String url, String authorization) throws Exception {
        return client.send(request(url, authorization), HttpResponse.BodyHandlers.ofString());
    }

    /** java.net.http will not send a Host header of our choosing: a plain socket does. */
    private static int statusWithHost(int port, String path, String host) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertFalse(response.isEmpty(), "no answer for Host " + host);
            return Integer.parseInt(response.substring(9, 12));
        }
    }
}
