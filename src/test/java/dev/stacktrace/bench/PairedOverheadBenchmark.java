package dev.stacktrace.bench;

import dev.stacktrace.testlib.TestNative;
import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Sampling overhead measured in one JVM: the workload of {@link OverheadWorkload} (JNI
 * deflate + a pure-Java kernel, one busy thread per core) runs throughout, and each profiler
 * configuration is switched on and off in short paired blocks: in each pair one block with the
 * profiler and one without, in random order, back to back. The loss of a pair is
 * {@code 1 - ops(on) / ops(off)}; slow drifts of the machine (other processes, frequency, JIT)
 * hit both blocks of a pair alike and cancel. Prints each configuration's mean loss with a 95%
 * confidence interval (Student's t over the pairs), the samples per second it delivered, and the
 * goals.
 *
 * <p>Configurations: {@code oursN} (our {@link Profiler}, CPU mode, all threads, N Hz) and
 * {@code asyncN} (async-profiler 4.6 through {@code one.profiler.AsyncProfiler} in this JVM,
 * {@code event=itimer,cstack=vmx}, N Hz; {@code asynccpuN} the same with {@code event=cpu}, its
 * perf_events cpu-clock, which is not held to the scheduler tick as itimer is); {@code floorN} is no
 * profiler but the floor of a cpu-mode sample: every thread gets a task-clock event at N Hz, armed as
 * ours are, whose signal's handler only arms it again (src/test/native/bare_clock.cpp), so a
 * profiler's loss above it is its own walk and bookkeeping. Never two at once; the pairs of all
 * configurations are interleaved, so each sees the same machine. Run through
 * {@code bench/overhead-paired.sh}. Options: {@code --pairs N} (20 per configuration),
 * {@code --block-ms MS} (1000), {@code --settle-ms MS} (100: after a switch, before a block counts),
 * {@code --warmup S} (10), {@code --configs ours100,async100,ours1000,async1000}, {@code --threads N},
 * {@code --async-cstack MODE} (vmx), {@code --seed N}.
 */
public final class PairedOverheadBenchmark {
    private static int pairs = 20;
    private static long blockMs = 1000;
    private static long settleMs = 100;
    private static double warmupSeconds = 10;
    private static List<String> configs = List.of("ours100", "async100", "ours1000", "async1000");
    private static int threads = Runtime.getRuntime().availableProcessors();
    private static String asyncCstack = "vmx";
    private static long seed = System.nanoTime();

    /** A profiler that can be switched on and off many times in one JVM. */
    private interface Switch {
        void on() throws Exception;

        /** Switches off; returns the samples taken while on. */
        long off() throws Exception;
    }

    private static final class Ours implements Switch {
        private final Duration interval;
        private Profiler profiler;

        Ours(Duration interval) {
            this.interval = interval;
        }

        public void on() {
            profiler = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(interval).build().start();
        }

        public long off() {
            profiler.join();
            return profiler.walkCount();  // stacks walked, as async-profiler counts its samples
        }
    }

    private static final class Async implements Switch {
        private final String options;
        private final one.profiler.AsyncProfiler profiler = one.profiler.AsyncProfiler.getInstance();

        Async(String options) {
            this.options = options;
        }

        public void on() throws Exception {
            profiler.execute("start," + options);
        }

        public long off() throws Exception {
            long samples = profiler.getSamples();
            profiler.execute("stop");
            return samples;
        }
    }

    /** The floor of a cpu-mode sample: the kernel's part only (bare_clock.cpp), on every thread of the JVM. */
    private static final class Floor implements Switch {
        private final long intervalNanos;

        Floor(long intervalNanos) {
            this.intervalNanos = intervalNanos;
        }

        public void on() throws Exception {
            int[] tids;
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                tids = tasks.mapToInt(t -> Integer.parseInt(t.getFileName().toString())).toArray();
            }
            int started = TestNative.stt_bare_clock_start(tids, tids.length, intervalNanos);
            if (started <= 0) throw new IllegalStateException("no task-clock event could be opened (" + started + ")");
        }

        public long off() {
            return TestNative.stt_bare_clock_stop();
        }
    }

    /** One configuration's pairs: ops/s off and on, samples/s on. */
    private record Pairs(List<double[]> blocks) {}

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        Map<String, Switch> switches = new LinkedHashMap<>();
        for (String c : configs) switches.put(c, switchFor(c));
        System.out.printf("PairedOverheadBenchmark: java %s, %d cpus, %d workers, %d pairs x %s, blocks of %d ms "
                        + "(+%d ms settling), seed %d; async-profiler %s; load average before: %s%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), threads, pairs, configs,
                blockMs, settleMs, seed, one.profiler.AsyncProfiler.getInstance().getVersion(), Machine.loadAverage());

        Thread[] workers = OverheadWorkload.startWorkers(threads, "both");
        // warm-up: the JIT, and each profiler once (its library loaded, its first-use costs paid)
        long warmEnd = System.nanoTime() + Math.round(warmupSeconds * 1e9);
        for (Switch s : switches.values()) {
            s.on();
            Thread.sleep(500);
            s.off();
        }
        while (System.nanoTime() < warmEnd) Thread.sleep(100);

        Random random = new Random(seed);
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        configs.forEach(c -> results.put(c, new ArrayList<>()));
        long cpu0 = processCpuNanos(), busy0 = machineBusyTicks(), t0 = System.nanoTime();
        for (int pair = 0; pair < pairs; pair++) {
            for (int k = 0; k < configs.size(); k++) {
                String config = configs.get((k + pair) % configs.size());
                Switch s = switches.get(config);
                boolean onFirst = random.nextBoolean();
                double[] first = block(onFirst ? s : null), second = block(onFirst ? null : s);
                double[] on = onFirst ? first : second, off = onFirst ? second : first;
                results.get(config).add(new double[] {off[0], on[0], on[1]});
            }
            if ((pair + 1) % 5 == 0) System.out.printf("%d pairs of each done, load average %s%n", pair + 1, Machine.loadAverage());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double ourCpu = (processCpuNanos() - cpu0) / 1e9 / seconds;
        double others = Math.max(0, (machineBusyTicks() - busy0) / 100.0 / seconds - ourCpu);
        OverheadWorkload.stopWorkers(workers);

        System.out.printf("%n== Throughput loss with the profiler on, paired blocks in one JVM (%d pairs each; %.0f s; "
                + "other processes took %.2f cpus on average; load average after: %s) ==%n", pairs, seconds, others,
                Machine.loadAverage());
        System.out.printf("%-10s %11s %11s %9s %20s %12s %10s%n", "config", "ops/s off", "ops/s on", "loss", "95% CI",
                "samples/s", "us/sample");
        Map<String, double[]> losses = new LinkedHashMap<>();
        Map<String, Double> perSample = new LinkedHashMap<>();
        for (var e : results.entrySet()) {
            List<double[]> b = e.getValue();
            double[] loss = b.stream().mapToDouble(x -> 1 - x[1] / x[0]).toArray();
            double mean = mean(loss);
            double half = tQuantile975(loss.length - 1) * sd(loss, mean) / Math.sqrt(loss.length);
            losses.put(e.getKey(), new double[] {mean, mean - half, mean + half});
            double samplesPerSecond = mean(b.stream().mapToDouble(x -> x[2]).toArray());
            // the workers' time lost per sample: the loss is of `threads` busy workers' time
            double micros = samplesPerSecond > 0 ? 1e6 * mean * threads / samplesPerSecond : Double.NaN;
            perSample.put(e.getKey(), micros);
            System.out.printf("%-10s %11.1f %11.1f %+8.2f%% [%+6.2f%%, %+6.2f%%] %12.1f %10.1f%n", e.getKey(),
                    mean(b.stream().mapToDouble(x -> x[0]).toArray()), mean(b.stream().mapToDouble(x -> x[1]).toArray()),
                    100 * mean, 100 * (mean - half), 100 * (mean + half), samplesPerSecond, micros);
        }
        System.out.println("loss: mean over pairs of 1 - ops/s(on) / ops/s(off); 95% CI: Student's t over the pairs. "
                + "samples/s: stacks the profiler took per second while on (all threads; floorN: signals). "
                + "us/sample: loss x workers / samples/s, the workers' time each sample cost.");
        aboveFloor(losses, perSample);
        goals(losses);
    }

    /** Each profiler's loss above the floor at its rate: its own walk and bookkeeping. */
    private static void aboveFloor(Map<String, double[]> losses, Map<String, Double> perSample) {
        for (String config : losses.keySet()) {
            String floor = config.replaceAll("^\\D+", "floor");
            if (config.startsWith("floor") || !losses.containsKey(floor)) continue;
            System.out.printf("%s above %s: %+.2f points, %+.1f us a sample (the floor %.1f us)%n", config, floor,
                    100 * (losses.get(config)[0] - losses.get(floor)[0]), perSample.get(config) - perSample.get(floor),
                    perSample.get(floor));
        }
    }

    private static void goals(Map<String, double[]> losses) {
        System.out.println();
        System.out.println("== Goals (the upper end of the 95% CI against the goal; the means against each other) ==");
        for (String[] g : new String[][] {{"ours100", "0.01", "async100"}, {"ours100", "", "asynccpu100"},
                {"ours1000", "0.03", "async1000"}, {"ours1000", "", "asynccpu1000"}}) {
            double[] ours = losses.get(g[0]);
            if (ours == null) continue;
            if (!g[1].isEmpty()) {
                double goal = Double.parseDouble(g[1]);
                System.out.printf("%s loss %+.2f%% (CI up to %+.2f%%) < %.0f%%: %s%n", g[0], 100 * ours[0], 100 * ours[2],
                        100 * goal, ours[2] < goal ? "met" : ours[0] < goal ? "met on the mean, not on the CI" : "MISSED");
            }
            double[] async = losses.get(g[2]);
            if (async != null) {
                System.out.printf("%s loss %+.2f%% <= %s loss %+.2f%%: %s%n", g[0], 100 * ours[0], g[2], 100 * async[0],
                        ours[0] <= async[0] ? "met" : ours[1] <= async[2] ? "MISSED on the mean, CIs overlap" : "MISSED");
            }
        }
    }

    /** One block: the profiler on (s != null) or off; returns ops/s and samples/s over the block. */
    private static double[] block(Switch s) throws Exception {
        if (s != null) s.on();
        Thread.sleep(settleMs);
        long ops0 = OverheadWorkload.totalOps(), t0 = System.nanoTime();
        Thread.sleep(blockMs);
        long ops1 = OverheadWorkload.totalOps(), t1 = System.nanoTime();
        long samples = s == null ? 0 : s.off();
        double seconds = (t1 - t0) / 1e9;
        return new double[] {(ops1 - ops0) / seconds, samples / ((t1 - t0) / 1e9 + settleMs / 1e3)};
    }

    private static Switch switchFor(String config) {
        if (!config.matches("(ours|async|asynccpu|floor)\\d+")) {
            throw new IllegalArgumentException("unknown configuration " + config
                    + "; use oursN, asyncN, asynccpuN or floorN (N in Hz)");
        }
        long hz = Long.parseLong(config.replaceAll("^\\D+", ""));
        if (config.startsWith("ours")) return new Ours(Duration.ofNanos(1_000_000_000L / hz));
        if (config.startsWith("floor")) return new Floor(1_000_000_000L / hz);
        // itimer fires on the scheduler tick; cpu is a perf_events cpu-clock, which delivers the rate
        String event = config.startsWith("asynccpu") ? "cpu" : "itimer";
        return new Async("event=" + event + ",interval=" + (1_000_000 / hz) + "us,cstack=" + asyncCstack);
    }

    /** The 97.5% quantile of Student's t with {@code df} degrees of freedom (Cornish-Fisher; within 0.5% for df >= 3). */
    static double tQuantile975(int df) {
        double z = 1.959964;
        double v = Math.max(1, df);
        return z + (z * z * z + z) / (4 * v) + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v)
                + (3 * Math.pow(z, 7) + 19 * Math.pow(z, 5) + 17 * z * z * z - 15 * z) / (384 * v * v * v);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    private static double sd(double[] v, double mean) {
        double s = 0;
        for (double x : v) s += (x - mean) * (x - mean);
        return v.length < 2 ? Double.NaN : Math.sqrt(s / (v.length - 1));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The machine's busy ticks (user, nice, system, irq, softirq) from /proc/stat, in 1/100 s. */
    private static long machineBusyTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]);
        } catch (Exception e) {
            return 0;
        }
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pairs" -> pairs = Integer.parseInt(args[++i]);
                case "--block-ms" -> blockMs = Long.parseLong(args[++i]);
                case "--settle-ms" -> settleMs = Long.parseLong(args[++i]);
                case "--warmup" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--configs" -> configs = List.of(args[++i].split(","));
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--async-cstack" -> asyncCstack = args[++i];
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --pairs N, "
                        + "--block-ms MS, --settle-ms MS, --warmup S, --configs ours100,async100,ours1000,async1000, "
                        + "--threads N, --async-cstack MODE, --seed N");
            }
        }
        if (pairs < 2) throw new IllegalArgumentException("--pairs must be at least 2 for a confidence interval");
    }
}
