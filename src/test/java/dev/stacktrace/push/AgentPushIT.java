package dev.stacktrace.push;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.service.DemoProcess;
import dev.stacktrace.testlib.GoPprof;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged agent jar (the OTLP and protobuf classes shaded and relocated in it) pushing the demo's
 * profile to both targets at once, without profile=: it starts cpu profiling itself, names the
 * application after its main class, and counts what it sent on /metrics.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentPushIT {
    @Test
    void theAgentPushesToPyroscopeAndOtlpAndCountsIt() throws Exception {
        try (LoopbackReceiver pyroscope = new LoopbackReceiver(LoopbackReceiver.Answer.OK);
             LoopbackReceiver otlp = new LoopbackReceiver(LoopbackReceiver.Answer.OK)) {
            int port = DemoProcess.freePort();
            String args = "port=" + port + ",pyroscope=" + pyroscope.base() + ",otlp=" + otlp.base()
                    + ",pushInterval=1s,labels=env=it;zone=a";
            try (DemoProcess demo = DemoProcess.start(args, List.of(), Duration.ofSeconds(120))) {
                demo.awaitReady(Duration.ofSeconds(60));
                List<LoopbackReceiver.Received> fromPyroscope = pyroscope.await(2, 60_000);
                List<LoopbackReceiver.Received> fromOtlp = otlp.await(2, 60_000);
                assertTrue(fromPyroscope.size() >= 2 && fromOtlp.size() >= 2, "pushes arrived: " + fromPyroscope.size()
                        + " at pyroscope, " + fromOtlp.size() + " at otlp\n" + demo.output());

                LoopbackReceiver.Received p = fromPyroscope.get(fromPyroscope.size() - 1);
                assertEquals("dev.stacktrace.demo.Demo{env=it,zone=a}", p.query().get("name"));
                Path file = Files.createTempFile("agent-push", ".pb.gz");
                try {
                    Files.write(file, p.body());
                    String top = GoPprof.run(60, "-top", file.toString());
                    assertTrue(top.contains("flat"), top);
                } finally {
                    Files.deleteIfExists(file);
                }

                boolean deflate = false;
                for (LoopbackReceiver.Received r : otlp.received()) {
                    ExportProfilesServiceRequest request = ExportProfilesServiceRequest.parseFrom(r.body());
                    var resource = request.getResourceProfiles(0).getResource().getAttributesList();
                    assertEquals("service.name", resource.get(0).getKey());
                    assertEquals("dev.stacktrace.demo.Demo", resource.get(0).getValue().getStringValue());
                    ProfilesDictionary d = request.getDictionary();
                    deflate |= d.getFunctionTableList().stream()
                            .anyMatch(f -> d.getStringTable(f.getNameStrindex()).equals("java.util.zip.Deflater.deflate"));
                }
                assertTrue(deflate, "the demo's zlib thread (Deflater.deflate) is in the OTLP profiles");

                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(metrics.contains("stacktrace_push_sent_total{target=\"otlp\"}"), metrics);
                assertTrue(metrics.contains("stacktrace_push_sent_total{target=\"pyroscope\"}"), metrics);
                String log = String.join("\n", demo.output().lines().filter(l -> l.startsWith("[stacktrace]")).toList());
                // a cold JVM on a loaded machine may time out its first requests (and, at 1 s, drop a profile): counted
                assertTrue(metrics.contains("stacktrace_push_dropped_total{target=\"pyroscope\"}"), log + "\n" + metrics);
                assertTrue(metrics.contains("stacktrace_push_failed_total{target=\"otlp\"}"), log + "\n" + metrics);
                assertTrue(demo.output().contains("pushing profiles every 1s"), demo.output());
            }
        }
    }
}
