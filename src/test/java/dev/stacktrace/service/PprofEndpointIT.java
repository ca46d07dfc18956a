package dev.stacktrace.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.GoPprof;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's /debug/pprof/profile endpoint read by the real client, {@code go tool pprof}, over HTTP
 * with the agent's basic authentication: the demo's known workload on top, bad requests refused with
 * 400, a second request while one runs refused with 429.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PprofEndpointIT {
    private static final String PASSWORD = "pprof-secret-42";

    @Test
    void goToolPprofReadsTheEndpointAndFindsTheKnownWorkloadOnTop(@TempDir Path dir) throws Exception {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(PASSWORD.getBytes(StandardCharsets.UTF_8)));
        Path auth = AgentSecurityIT.privateFile(dir.resolve("auth"), "ops:sha256:" + hash + "\n");
        int port = DemoProcess.freePort();
        try (DemoProcess demo = DemoProcess.start("port=" + port + ",host=127.0.0.1,authFile=" + auth, List.of(),
                Duration.ofSeconds(200))) {
            demo.awaitReady(Duration.ofSeconds(60));
            String base = "http://127.0.0.1:" + port + "/debug/pprof/profile";
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

            // the endpoint is guarded like every other
            assertEquals(401, get(http, base + "?seconds=1", null).statusCode());
            // out-of-range and malformed requests are refused at once, with a reason
            for (String query : List.of("?seconds=0", "?seconds=301", "?seconds=abc", "?seconds=1.5", "?seconds=1&mode=user")) {
                HttpResponse<byte[]> bad = get(http, base + query, basic());
                assertEquals(400, bad.statusCode(), query);
                String why = new String(bad.body(), StandardCharsets.UTF_8);
                assertTrue(why.contains(query.contains("mode") ? "mode must be" : "seconds must be a whole number from 1 to 300"),
                        query + ": " + why);
            }

            // go tool pprof fetches 3 s of cpu samples (basic auth from the URL) and ranks the demo's work
            String url = "http://ops:" + PASSWORD + "@127.0.0.1:" + port + "/debug/pprof/profile?seconds=3";
            String topText = GoPprof.run(120, "-top", "-nodecount=500", "-sample_index=samples", url);
            List<GoPprof.TopRow> top = GoPprof.parseTop(topText);
            long total = top.stream().mapToLong(GoPprof.TopRow::flat).sum();
            assertTrue(total > 20, "samples: " + topText);
            List<String> firstThree = top.subList(0, Math.min(3, top.size())).stream().map(GoPprof.TopRow::name).toList();
            assertTrue(firstThree.contains("dev.stacktrace.demo.Demo.spin"), "the spinning thread on top: " + topText);
            GoPprof.TopRow deflate = top.stream().filter(r -> r.name().equals("java.util.zip.Deflater.deflate"))
                    .findFirst().orElseThrow(() -> new AssertionError("no Deflater.deflate: " + topText));
            assertTrue(deflate.cum() * 10 >= total, "the deflating thread's share: " + topText);

            // one request at a time: of two sent together, one is answered and the other gets 429 at once
            // (each asks for 5 s, so the other arrives while the first runs even on a stalled machine)
            CompletableFuture<HttpResponse<byte[]>> one = http.sendAsync(request(base + "?seconds=5", basic()),
                    HttpResponse.BodyHandlers.ofByteArray());
            CompletableFuture<HttpResponse<byte[]>> two = http.sendAsync(request(base + "?seconds=5", basic()),
                    HttpResponse.BodyHandlers.ofByteArray());
            HttpResponse<byte[]> a = one.get(60, TimeUnit.SECONDS);
            HttpResponse<byte[]> b = two.get(60, TimeUnit.SECONDS);
            assertEquals(java.util.Set.of(200, 429), java.util.Set.of(a.statusCode(), b.statusCode()),
                    "two requests at once: " + a.statusCode() + ", " + b.statusCode());
            HttpResponse<byte[]> busy = a.statusCode() == 429 ? a : b;
            HttpResponse<byte[]> firstDone = a.statusCode() == 200 ? a : b;
            assertTrue(busy.headers().firstValue("Retry-After").isPresent());
            assertEquals(200, firstDone.statusCode());
            assertEquals("application/octet-stream", firstDone.headers().firstValue("Content-Type").orElse(""));
            byte[] body = firstDone.body();
            assertTrue(body.length > 100 && (body[0] & 0xff) == 0x1f && (body[1] & 0xff) == 0x8b, "gzip-compressed");

            // wall clock: every thread, the sleeping and blocked ones too
            HttpResponse<byte[]> wall = get(http, base + "?seconds=2&mode=wall", basic());
            assertEquals(200, wall.statusCode());
            Path wallFile = dir.resolve("wall.pb.gz");
            Files.write(wallFile, wall.body());
            String raw = GoPprof.run(60, "-raw", wallFile.toString());
            assertTrue(raw.contains("PeriodType: wall nanoseconds"), raw);
            assertTrue(raw.contains("java.lang.Thread.sleep"), "the sleeper is sampled in wall mode: " + raw);
            assertTrue(demo.isAlive(), demo.output());
        }
    }

    private static String basic() {
        return "Basic " + Base64.getEncoder().encodeToString(("ops:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpRequest request(String url, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (authorization != null) b.header("Authorization", authorization);
        return b.build();
    }

    private static HttpResponse<byte[]> get(HttpClient client, String url, String authorization) throws Exception {
        return client.send(request(url, authorization), HttpResponse.BodyHandlers.ofByteArray());
    }
}
