package dev.stacktrace.push;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import dev.stacktrace.testlib.GoPprof;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pusher against a loopback receiver, with the service profiling a thread that spins in a known
 * method: what arrives is decoded with the real OTLP parser; a failing or hanging receiver is
 * retried, its drops counted, its memory bounded, and the application goes on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfilePusherTest {
    private static final Duration PERIOD = Duration.ofMillis(10);
    private static final Duration PUSH_EVERY = Duration.ofSeconds(1);
    private static final String SPIN = ProfilePusherTest.class.getName() + ".spin";
    private static volatile boolean working;
    private static final AtomicLong progress = new AtomicLong();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private Thread worker;

    static long spin(long x) {
        for (int i = 0; i < 50_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        return x;
    }

    @BeforeEach
    void startWorkload() {
        working = true;
        worker = new Thread(() -> {
            long x = 1;
            while (working) {
                x = spin(x);
                progress.incrementAndGet();
            }
            if (x == 42) System.out.println(x);
        }, "push-workload");
        worker.setDaemon(true);
        worker.start();
        StacktraceService.get().startProfiling(worker, Profiler.Mode.CPU, PERIOD);
    }

    @AfterEach
    void stopWorkload() throws InterruptedException {
        StacktraceService.get().stopProfiling();
        working = false;
        worker.join(10_000);
    }

    @Test
    void eachIntervalsSamplesArriveOnceAsOtlp() throws Exception {
        StacktraceService service = StacktraceService.get();
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.OK)) {
            OtlpTarget target = new OtlpTarget(receiver.base(), "push-test", Map.of("env", "ci"));
            List<LoopbackReceiver.Received> got;
            long profiled;
            try (ProfilePusher pusher = ProfilePusher.start(service, List.of(target), PUSH_EVERY, logged::add)) {
                long until = System.nanoTime() + 40_000_000_000L;
                while (pusher.counts("otlp").sent() < 4 && System.nanoTime() < until) Thread.sleep(50);
                pusher.close();
                got = distinct(receiver.received());
                profiled = service.profile().getStacks().values().stream().mapToLong(Long::longValue).sum();
                PushCounts c = pusher.counts("otlp");
                assertTrue(c.sent() >= 4, "4 pushes within 40 s at 1 s intervals: " + c + " " + logged);
                // a request the client gave up on (a loaded machine) may have reached the receiver and come again
                assertTrue(c.sent() <= got.size() && got.size() <= c.sent() + 1, c + ", " + got.size() + " received");
            }

            long pushed = 0;
            long spinSamples = 0;
            long previousEnd = 0;
            for (LoopbackReceiver.Received r : got) {
                assertEquals("/v1development/profiles", r.path());
                assertEquals("application/x-protobuf", r.contentType());
                ExportProfilesServiceRequest request = ExportProfilesServiceRequest.parseFrom(r.body());
                ProfilesDictionary d = request.getDictionary();
                Map<String, String> resource = new LinkedHashMap<>();
                request.getResourceProfiles(0).getResource().getAttributesList()
                        .forEach(a -> resource.put(a.getKey(), a.getValue().getStringValue()));
                assertEquals(Map.of("service.name", "push-test", "env", "ci"), resource);
                Profile p = request.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
                assertEquals(PERIOD.toNanos(), p.getPeriod());
                assertTrue(p.getTimeUnixNano() >= previousEnd, "windows do not overlap");
                previousEnd = p.getTimeUnixNano() + p.getDurationNano();
                assertTrue(p.getDurationNano() > 0 && p.getDurationNano() < 4_000_000_000L,
                        "a window lasts about one interval: " + p.getDurationNano() + " ns");
                assertTrue(r.atMillis() * 1_000_000L >= previousEnd - 50_000_000L, "sent after its window ended");
                long samples = 0;
                for (Sample s : p.getSamplesList()) {
                    assertEquals(0, s.getValues(0) % p.getPeriod(), "a value is samples x period");
                    long n = s.getValues(0) / p.getPeriod();
                    samples += n;
                    if (functions(d, s).contains(SPIN)) spinSamples += n;
                }
                // one thread's cpu samples of this window only, never the totals since the start
                long most = p.getDurationNano() / PERIOD.toNanos() * 2 + 10;
                assertTrue(samples <= most, samples + " samples in a window of " + p.getDurationNano() + " ns");
                pushed += samples;
            }
            assertTrue(spinSamples > 0, "the workload's method " + SPIN + " is in the pushed profiles");
            assertTrue(pushed <= profiled, "no sample pushed twice: " + pushed + " pushed of " + profiled + " profiled");
        }
    }

    @Test
    void eachIntervalsSamplesArriveAsPprofAtPyroscopesIngest() throws Exception {
        StacktraceService service = StacktraceService.get();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("env", "ci");
        labels.put("region", "eu-1");
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.OK)) {
            PyroscopeTarget target = new PyroscopeTarget(receiver.base(), "push-test", labels);
            List<LoopbackReceiver.Received> got;
            try (ProfilePusher pusher = ProfilePusher.start(service, List.of(target), PUSH_EVERY, logged::add)) {
                long until = System.nanoTime() + 40_000_000_000L;
                while (pusher.counts("pyroscope").sent() < 3 && System.nanoTime() < until) Thread.sleep(50);
                assertTrue(pusher.counts("pyroscope").sent() >= 3, pusher.counts("pyroscope") + " " + logged);
                pusher.close();
                got = distinct(receiver.received());
            }
            long previousUntil = 0;
            long spinSamples = 0;
            for (LoopbackReceiver.Received r : got) {
                assertEquals("/ingest", r.path());
                Map<String, String> q = r.query();
                assertEquals("push-test{env=ci,region=eu-1}", q.get("name"));
                assertEquals("pprof", q.get("format"));
                assertEquals("100", q.get("sampleRate"));
                assertEquals(PyroscopeTarget.SPY_NAME, q.get("spyName"));
                long from = Long.parseLong(q.get("from"));
                long until = Long.parseLong(q.get("until"));
                assertTrue(from < until && until - from <= 5, "from/until cover about one interval: " + q);
                assertTrue(from >= previousUntil - 1, "intervals follow each other: " + q + " after " + previousUntil);
                assertTrue(r.atMillis() / 1000 >= until - 1, "sent once its interval ended: " + q + " at " + r.atMillis());
                previousUntil = until;
                Path file = Files.createTempFile("pushed", ".pb.gz");
                try {
                    Files.write(file, r.body());
                    GoPprof.Raw raw = GoPprof.parseRaw(GoPprof.run(60, "-raw", file.toString()));
                    assertTrue(raw.totalCount() > 0 && raw.totalCount() <= 2 * 100 * (until - from) + 10,
                            "one interval's samples of one thread: " + raw.totalCount());
                    for (long[] sample : raw.samples()) {
                        for (int i = 2; i < sample.length; i++) {
                            if (raw.locations().get(sample[i]).contains(SPIN)) {
                                spinSamples += sample[0];
                                break;
                            }
                        }
                    }
                } finally {
                    Files.deleteIfExists(file);
                }
            }
            assertTrue(spinSamples > 0, "go tool pprof finds " + SPIN + " in the pushed profiles");
        }
    }

    @Test
    void aFailingServerIsRetriedWithBackoffAndItsDropsAreCountedWhileTheApplicationGoesOn() throws Exception {
        StacktraceService service = StacktraceService.get();
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.ERROR_500)) {
            OtlpTarget target = new OtlpTarget(receiver.base(), "push-test", Map.of());
            try (ProfilePusher pusher = ProfilePusher.start(service, List.of(target), PUSH_EVERY, logged::add)) {
                long progressBefore = progress.get();
                long samplesBefore = service.sampleCount();
                long start = System.nanoTime();
                int maxQueued = 0;
                // more intervals than the queue holds: the oldest profiles must go
                while (pusher.counts("otlp").dropped() < 2 && System.nanoTime() - start < 40_000_000_000L) {
                    maxQueued = Math.max(maxQueued, pusher.counts("otlp").queued());
                    Thread.sleep(50);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                PushCounts c = pusher.counts("otlp");
                assertTrue(c.dropped() >= 2, "profiles dropped once " + ProfilePusher.QUEUE_LIMIT + " wait: " + c);
                assertTrue(maxQueued <= ProfilePusher.QUEUE_LIMIT, "queue bounded: " + maxQueued);
                assertEquals(0, c.sent());
                int attempts = receiver.received().size();
                assertTrue(c.failed() >= attempts - 1 && c.failed() <= attempts, "each attempt counted failed: " + c
                        + ", " + attempts + " attempts");
                long windows = Math.round(seconds);
                assertTrue(attempts > windows, "retried within an interval: " + attempts + " attempts in " + seconds + " s");
                assertTrue(attempts < 20 * seconds, "backoff, not a busy loop: " + attempts + " attempts in " + seconds + " s");
                assertTrue(progress.get() > progressBefore, "the application went on");
                assertTrue(service.sampleCount() > samplesBefore, "sampling went on");
                assertTrue(logged.stream().anyMatch(l -> l.contains("HTTP 500")), logged.toString());
                // a line when a target starts failing (a cold first request may time out first), not one per attempt
                assertTrue(logged.size() <= 3, attempts + " attempts logged as " + logged);

                // the server recovers: what was queued goes out
                receiver.answer(LoopbackReceiver.Answer.OK);
                long until = System.nanoTime() + 20_000_000_000L;
                while (pusher.counts("otlp").sent() < ProfilePusher.QUEUE_LIMIT && System.nanoTime() < until) Thread.sleep(50);
                assertTrue(pusher.counts("otlp").sent() >= ProfilePusher.QUEUE_LIMIT, "the queue drained: " + pusher.counts("otlp"));
                assertTrue(logged.stream().anyMatch(l -> l.contains("again")), logged.toString());
            }
        }
    }

    @Test
    void aServerThatNeverAnswersCostsOneTimeoutPerAttemptAndStopsNothing() throws Exception {
        StacktraceService service = StacktraceService.get();
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.HANG)) {
            OtlpTarget target = new OtlpTarget(receiver.base(), "push-test", Map.of());
            ProfilePusher pusher = ProfilePusher.start(service, List.of(target), PUSH_EVERY, logged::add);
            try {
                long progressBefore = progress.get();
                long start = System.nanoTime();
                while (pusher.counts("otlp").dropped() < 1 && System.nanoTime() - start < 40_000_000_000L) Thread.sleep(50);
                PushCounts c = pusher.counts("otlp");
                assertTrue(c.dropped() >= 1, "windows kept coming while requests hung, and the oldest went: " + c);
                assertTrue(c.failed() >= 2, c.toString());
                assertTrue(c.queued() <= ProfilePusher.QUEUE_LIMIT, c.toString());
                assertTrue(progress.get() > progressBefore, "the application went on");
                assertTrue(logged.stream().anyMatch(l -> l.contains("no answer within")), logged.toString());
            } finally {
                long closing = System.nanoTime();
                pusher.close();
                assertTrue(!pusher.isRunning(), "the pusher stopped");
                assertTrue(System.nanoTime() - closing < 5_000_000_000L, "close does not wait for the hung request");
            }
        }
    }

    @Test
    void aRequestRefusedForGoodIsDroppedAtOnce() throws Exception {
        StacktraceService service = StacktraceService.get();
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.BAD_REQUEST_400)) {
            OtlpTarget target = new OtlpTarget(receiver.base(), "push-test", Map.of());
            try (ProfilePusher pusher = ProfilePusher.start(service, List.of(target), PUSH_EVERY, logged::add)) {
                long until = System.nanoTime() + 40_000_000_000L;
                while (pusher.counts("otlp").dropped() < 2 && System.nanoTime() < until) Thread.sleep(50);
                PushCounts c = pusher.counts("otlp");
                assertTrue(c.dropped() >= 2, c + " " + logged);
                assertEquals(0, c.sent());
                // a 400 is not retried: every request was dropped, or failed otherwise (a timeout) and was retried
                int requests = receiver.received().size();
                assertTrue(requests <= c.dropped() + (c.failed() - c.dropped()) + 1, requests + " requests, " + c);
                assertTrue(logged.stream().anyMatch(l -> l.contains("HTTP 400")), logged.toString());
            }
        }
    }

    /** The requests without repeats: one the pusher gave up on (a timeout) may have arrived and been sent again. */
    private static List<LoopbackReceiver.Received> distinct(List<LoopbackReceiver.Received> all) {
        List<LoopbackReceiver.Received> out = new ArrayList<>();
        for (LoopbackReceiver.Received r : all) {
            if (out.stream().noneMatch(o -> java.util.Arrays.equals(o.body(), r.body()))) out.add(r);
        }
        return out;
    }

    private static List<String> functions(ProfilesDictionary d, Sample s) {
        List<String> names = new ArrayList<>();
        for (int li : d.getStackTable(s.getStackIndex()).getLocationIndicesList()) {
            for (var line : d.getLocationTable(li).getLinesList()) {
                names.add(d.getStringTable(d.getFunctionTable(line.getFunctionIndex()).getNameStrindex()));
            }
        }
        return names;
    }
}
