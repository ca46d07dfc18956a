package dev.stacktrace.bench;

import com.sun.net.httpserver.HttpServer;
import dev.stacktrace.push.OtlpTarget;
import dev.stacktrace.push.ProfilePusher;
import dev.stacktrace.push.PushCounts;
import dev.stacktrace.push.PyroscopeTarget;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.Profiler;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Deflater;

/**
 * The CPU cost of pushing: a JVM profiling every thread (cpu, 10 ms) while two threads work (zlib
 * through JNI, and Java code in a few methods), pushing to a loopback Pyroscope and OTLP receiver
 * in this JVM every {@code --interval}. The push's cost is the CPU time of the pusher thread and of
 * the HTTP threads (polled every 200 ms, so threads that end are counted too); the
 * receiver's threads are left out of the process's CPU time. Prints per push, per minute, and as a
 * share of one core and of the process.
 *
 *   bench/push.sh [--interval 15s] [--duration 120s]
 */
public final class PushBenchmark {
    private static volatile boolean running = true;
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        Duration interval = Duration.ofSeconds(15);
        Duration duration = Duration.ofSeconds(120);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--interval" -> interval = Duration.ofMillis(millis(args[++i]));
                case "--duration" -> duration = Duration.ofMillis(millis(args[++i]));
                default -> throw new IllegalArgumentException("usage: [--interval 15s] [--duration 120s]");
            }
        }
        AtomicLong received = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bench-receiver");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                bytes.addAndGet(in.readAllBytes().length);
                received.incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
            }
        });
        server.start();
        URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());

        List<Thread> workers = List.of(new Thread(PushBenchmark::zlib, "bench-zlib"), new Thread(PushBenchmark::java, "bench-java"));
        workers.forEach(t -> {
            t.setDaemon(true);
            t.start();
        });
        StacktraceService service = StacktraceService.get();
        service.startProfiling(null, Profiler.Mode.CPU, Duration.ofMillis(10));
        Thread.sleep(5_000);  // warm-up: the profile's first stacks are named, the code compiled

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Map<Long, Long> pushCpu = new HashMap<>();
        Map<Long, Long> receiverCpu = new HashMap<>();
        poll(threads, Map.of(), receiverCpu, null);
        Map<Long, Long> receiverAtStart = new HashMap<>(receiverCpu);
        long processStart = os.getProcessCpuTime();
        long wallStart = System.nanoTime();
        ProfilePusher pusher = ProfilePusher.start(service, List.of(new PyroscopeTarget(base, "bench", Map.of("env", "bench")),
                new OtlpTarget(base, "bench", Map.of("env", "bench"))), interval, m -> System.out.println("[push] " + m));
        // the first push loads and first runs HTTP, protobuf and the encoders: a cost paid
        // once per JVM, shown apart from the steady state that follows it
        long firstPushCpu = -1;
        long firstPushWall = 0;
        long firstPushSent = 0;
        List<Long> pushEnds = new ArrayList<>();  // the push CPU so far when each push reached both targets
        while (System.nanoTime() - wallStart < duration.toNanos()) {
            Thread.sleep(200);
            poll(threads, pushCpu, receiverCpu, pusher);
            long sentNow = Math.min(pusher.counts("pyroscope").sent(), pusher.counts("otlp").sent());
            if (sentNow > pushEnds.size()) pushEnds.add(sum(pushCpu));
            if (firstPushCpu < 0 && pusher.counts("pyroscope").sent() + pusher.counts("otlp").sent() >= 2) {
                firstPushCpu = sum(pushCpu);
                firstPushWall = System.nanoTime() - wallStart;
                firstPushSent = pusher.counts("pyroscope").sent();
            }
        }
        poll(threads, pushCpu, receiverCpu, pusher);
        long wall = System.nanoTime() - wallStart;
        long process = os.getProcessCpuTime() - processStart;
        pusher.close();
        phases(service, interval, threads, base);
        running = false;
        service.stopProfiling();
        server.stop(0);

        long push = sum(pushCpu);
        long receiver = receiverCpu.values().stream().mapToLong(Long::longValue).sum()
                - receiverAtStart.values().stream().mapToLong(Long::longValue).sum();
        long processWithoutReceiver = process - receiver;
        PushCounts p = pusher.counts("pyroscope");
        PushCounts o = pusher.counts("otlp");
        long intervals = Math.max(1, Math.round((double) wall / interval.toNanos()));
        System.out.printf("machine: %d cpus, %s %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"));
        System.out.printf("push every %s for %.1f s: pyroscope %s, otlp %s; %d requests, %.1f KB a request%n",
                interval, wall / 1e9, p, o, received.get(), bytes.get() / 1024.0 / Math.max(1, received.get()));
        System.out.printf("pusher CPU (its thread, its deadline watchdog, the JDK keep-alive timer): %.1f ms in all, %.2f ms a push interval "
                + "(both targets), %.1f ms a minute%n", push / 1e6, push / 1e6 / intervals, push / 1e6 * 60e9 / wall);
        System.out.printf("share of one core: %.4f %%; share of the process's CPU (receiver left out): %.4f %% "
                + "(process %.1f%% of one core)%n", 100.0 * push / wall, 100.0 * push / processWithoutReceiver,
                100.0 * processWithoutReceiver / wall);
        System.out.printf("of it the pusher thread alone: %.1f ms%n", pushCpu.getOrDefault(pusher.threadId(), 0L) / 1e6);
        if (firstPushCpu >= 0) {
            long steady = push - firstPushCpu;
            long steadyWall = wall - firstPushWall;
            long steadyPushes = p.sent() - firstPushSent;
            System.out.printf("first push (loads HTTP, protobuf and the encoders; once per JVM): "
                    + "%.1f ms of CPU until both targets had one%n", firstPushCpu / 1e6);
            System.out.printf("after it (steady state, %.1f s, %d pushes to each target): %.1f ms in all, %.2f ms a push, "
                    + "%.1f ms a minute, share of one core: %.4f %%%n", steadyWall / 1e9, steadyPushes, steady / 1e6,
                    steady / 1e6 / Math.max(1, steadyPushes), steady / 1e6 * 60e9 / steadyWall, 100.0 * steady / steadyWall);
        } else {
            System.out.println("no push reached both targets: no steady-state figure");
        }
        List<Long> each = new ArrayList<>();
        for (int i = 0; i < pushEnds.size(); i++) each.add(pushEnds.get(i) - (i == 0 ? 0 : pushEnds.get(i - 1)));
        System.out.println("CPU of each push as it reached both targets, in order (ms): "
                + each.stream().map(n -> String.format("%.1f", n / 1e6)).toList());
        if (each.size() >= 4) {
            List<Long> lastHalf = new ArrayList<>(each.subList(each.size() / 2, each.size()));
            long lastHalfSum = lastHalf.stream().mapToLong(Long::longValue).sum();
            lastHalf.sort(null);
            System.out.printf("last half of the pushes (%d): median %.1f ms, mean %.1f ms a push: %.4f %% of one core at "
                    + "this interval%n", lastHalf.size(), lastHalf.get(lastHalf.size() / 2) / 1e6,
                    lastHalfSum / 1e6 / lastHalf.size(), 100.0 * lastHalfSum / lastHalf.size() / interval.toNanos());
        }
        System.out.println("goal: under 0.2 % CPU beside the profiler's own cost at a 15 s interval");
        if (sink == 42) System.out.println(sink);
    }

    /**
     * Where a push's CPU goes, on this thread with the code as warm as the run left it: taking the
     * interval's samples (a snapshot of the whole profile and its difference from the last one), and
     * encoding them for each target; 5 intervals, medians.
     */
    private static void phases(StacktraceService service, Duration interval, ThreadMXBean threads, URI base)
            throws Exception {
        dev.stacktrace.service.ProfileDelta delta = new dev.stacktrace.service.ProfileDelta(service);
        delta.next();
        PyroscopeTarget pyroscope = new PyroscopeTarget(base, "bench", Map.of());
        OtlpTarget otlp = new OtlpTarget(base, "bench", Map.of());
        long[][] cpu = new long[3][5];
        int stacks = 0;
        for (int i = 0; i < 5; i++) {
            Thread.sleep(Math.min(interval.toMillis(), 5_000));
            long t0 = threads.getCurrentThreadCpuTime();
            List<dev.stacktrace.tools.ProfileSnapshot> gained = delta.next();
            long t1 = threads.getCurrentThreadCpuTime();
            for (var g : gained) pyroscope.request(g);
            long t2 = threads.getCurrentThreadCpuTime();
            for (var g : gained) otlp.request(g);
            long t3 = threads.getCurrentThreadCpuTime();
            cpu[0][i] = t1 - t0;
            cpu[1][i] = t2 - t1;
            cpu[2][i] = t3 - t2;
            for (var g : gained) stacks = g.samples().size();
        }
        for (long[] c : cpu) java.util.Arrays.sort(c);
        System.out.printf("phases (CPU, median of 5 intervals of %d s, ~%d distinct stacks an interval, %d in the whole "
                + "profile): samples of the interval %.1f ms, pprof %.1f ms, OTLP %.1f ms%n",
                Math.min(interval.toSeconds(), 5), stacks, service.profile().getStacks().size(),
                cpu[0][2] / 1e6, cpu[1][2] / 1e6, cpu[2][2] / 1e6);
    }

    private static long sum(Map<Long, Long> cpu) {
        return cpu.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The CPU time of each push thread and receiver thread seen so far (the last value a thread had). */
    private static void poll(ThreadMXBean threads, Map<Long, Long> push, Map<Long, Long> receiver, ProfilePusher pusher) {
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t == null) continue;
            String name = t.getThreadName();
            long cpu = threads.getThreadCpuTime(t.getThreadId());
            if (cpu < 0) continue;
            // the pusher, its deadline's watchdog, and the JDK's thread that closes idle kept-alive connections
            boolean isPush = pusher != null && (t.getThreadId() == pusher.threadId()
                    || name.startsWith(ProfilePusher.THREAD_NAME) || name.equals("Keep-Alive-Timer"));
            if (isPush) push.merge(t.getThreadId(), cpu, Math::max);
            if (name.equals("bench-receiver")) receiver.merge(t.getThreadId(), cpu, Math::max);
        }
    }

    private static void zlib() {
        byte[] input = new byte[64 * 1024];
        new java.util.Random(1).nextBytes(input);
        for (int i = 0; i < input.length; i += 3) input[i] = 'a';
        byte[] out = new byte[128 * 1024];
        Deflater d = new Deflater(6);
        while (running) {
            d.reset();
            d.setInput(input);
            d.finish();
            while (!d.finished()) sink += d.deflate(out);
        }
    }

    private static void java() {
        long x = 1;
        while (running) {
            x = mix(x) + fold(x) + hash(x);
        }
        sink = x;
    }

    private static long mix(long x) {
        for (int i = 0; i < 20_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
        return x;
    }

    private static long fold(long x) {
        for (int i = 0; i < 20_000; i++) x = (x ^ (x >>> 7)) * 0x9E3779B97F4A7C15L + i;
        return x;
    }

    private static long hash(long x) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) l.add(x + i);
        return l.hashCode();
    }

    private static long millis(String s) {
        if (s.endsWith("ms")) return Long.parseLong(s.substring(0, s.length() - 2));
        if (s.endsWith("s")) return Long.parseLong(s.substring(0, s.length() - 1)) * 1000;
        if (s.endsWith("m")) return Long.parseLong(s.substring(0, s.length() - 1)) * 60_000;
        return Long.parseLong(s);
    }
}
