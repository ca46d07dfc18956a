package dev.stacktrace.bench;

import dev.stacktrace.service.DemoProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;

/**
 * The cost of a Prometheus scrape: a workload with 60 hot methods ({@link ManySymbols}) with the
 * agent (profile=cpu, top=50) in a child JVM, and this process GETting /metrics over loopback, once
 * 50 symbol series (and [other]) exist. Prints
 * p50/p99/max of 1,000 scrapes. Run by bench/scrape.sh after `mvn package`.
 */
public final class ScrapeBenchmark {
    public static void main(String[] args) throws Exception {
        int port = DemoProcess.freePort();
        String classpath = System.getProperty("java.class.path");
        try (DemoProcess demo = DemoProcess.startMain("port=" + port + ",profile=cpu,interval=1ms,top=50", classpath,
                ManySymbols.class, "300")) {
            demo.awaitReady(Duration.ofSeconds(60));
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
            long series = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            String body = "";
            while (series < 51 && System.nanoTime() < deadline) {
                Thread.sleep(1000);
                body = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
                series = body.lines().filter(l -> l.startsWith("stacktrace_symbol_samples_total{")).count();
            }
            System.out.printf("symbol series: %d (50 + [other]), response %d bytes, %d lines%n", series, body.length(),
                    body.lines().count());
            for (int i = 0; i < 200; i++) http.send(request, HttpResponse.BodyHandlers.ofString());  // warm-up
            long[] nanos = new long[1000];
            for (int i = 0; i < nanos.length; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                nanos[i] = System.nanoTime() - t0;
                if (r.statusCode() != 200) throw new IllegalStateException("status " + r.statusCode());
            }
            Arrays.sort(nanos);
            System.out.printf("scrape of /metrics over loopback, %d scrapes: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    nanos.length, nanos[nanos.length / 2] / 1e6, nanos[nanos.length * 99 / 100] / 1e6,
                    nanos[nanos.length - 1] / 1e6);
        }
    }
}
