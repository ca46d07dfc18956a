package dev.stacktrace.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sampling-overhead benchmark: runs {@link OverheadWorkload} in a fresh JVM per
 * configuration (same java, same flags, same classpath), the configurations interleaved in rounds
 * (each round in a rotated order, so no configuration always runs first or last), and prints per
 * configuration the median throughput, its spread, and the loss against no profiler: both from the
 * medians and as the median of the per-round paired losses (each configuration against the
 * no-profiler run of the same round).
 *
 * <p>Run through {@code bench/overhead.sh}. Options: {@code --rounds N} (5), {@code --warmup S} (5),
 * {@code --measure S} (15), {@code --configs a,b,...} (default
 * {@code none,ours100,ours1000,async100,jfr}; also {@code oursN} for N Hz, {@code asyncN},
 * {@code async-ctimerN} and {@code async-cpuN}), {@code --logs DIR} (each child's output, default
 * {@code target/overhead}), {@code --async-cstack MODE} (vmx), {@code --quiet CPUS} and
 * {@code --max-wait S} (before each run, wait up to S seconds, default 90, until other processes use
 * less than CPUS, default 0.25). JVM flags given to this JVM are given to every child.
 */
public final class OverheadBenchmark {

    private static int rounds = 5;
    private static double warmup = 5;
    private static double measure = 15;
    private static List<String> configs = List.of("none", "ours100", "ours1000", "async100", "jfr");
    private static Path logs = Path.of("target/overhead");
    private static String asyncCstack = "vmx";
    /** Other processes' CPU use (in CPUs) above which the machine is not quiet enough for a run. */
    private static double quiet = 0.25;
    private static double maxWaitSeconds = 90;

    record Run(String config, int round, double opsPerSecond, double cpu, double others, long samples,
               double samplesPerSecond, Map<String, String> fields) {}

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        Files.createDirectories(logs);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> flags = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String classpath = System.getProperty("java.class.path");
        System.out.printf("OverheadBenchmark: %s (java %s), %d cpus, flags %s%n", java,
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), flags);
        System.out.printf("%d rounds x %s, warm-up %.0f s + window %.0f s each; load average before: %s%n", rounds,
                configs, warmup, measure, Machine.loadAverage());
        long start = System.nanoTime();

        Map<String, List<Run>> runs = new LinkedHashMap<>();
        configs.forEach(c -> runs.put(c, new ArrayList<>()));
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < configs.size(); k++) {
                String config = configs.get((k + round) % configs.size());
                double waited = waitForQuiet();
                Run run = runOne(java, flags, classpath, config, round);
                if (waited > 0) System.out.printf("(waited %.0f s for other processes to quiet down)%n", waited);
                runs.get(config).add(run);
                System.out.printf("round %d %-14s %9.1f ops/s  cpu %.2f  others %.2f  samples %6d (%6.1f/s)%s%s%n",
                        round + 1, config, run.opsPerSecond, run.cpu, run.others, run.samples, run.samplesPerSecond,
                        run.fields.containsKey("handler_us_per_sample")
                                ? "  handler " + run.fields.get("handler_us_per_sample") + " us/sample" : "",
                        clean(run) ? "" : "  NOT CLEAN (others above " + quiet + ")");
            }
        }

        List<Run> base = runs.get("none");
        System.out.println();
        System.out.printf("== Throughput (ops/s, %d rounds) and loss vs none ==%n", rounds);
        System.out.printf("%-14s %9s %9s %9s %10s %13s %16s %14s %10s %7s%n", "config", "median", "min", "max",
                "loss(med)", "loss(paired)", "paired min/max", "ops/cpu-s loss", "samples/s", "clean");
        double baseMedian = base == null ? Double.NaN : Stats.median(base.stream().mapToDouble(Run::opsPerSecond).toArray());
        for (var e : runs.entrySet()) {
            double[] ops = e.getValue().stream().filter(OverheadBenchmark::clean).mapToDouble(Run::opsPerSecond)
                    .toArray();
            double med = Stats.median(ops);
            List<Double> pairedList = new ArrayList<>(), perCpuList = new ArrayList<>();
            if (base != null && !e.getKey().equals("none")) {
                for (int i = 0; i < e.getValue().size(); i++) {
                    Run r = e.getValue().get(i), b = base.get(i);
                    if (!clean(r) || !clean(b)) continue;
                    pairedList.add(1 - r.opsPerSecond / b.opsPerSecond);
                    perCpuList.add(1 - (r.opsPerSecond / r.cpu) / (b.opsPerSecond / b.cpu));
                }
            }
            double[] paired = pairedList.stream().mapToDouble(Double::doubleValue).toArray();
            double[] pairedPerCpu = perCpuList.stream().mapToDouble(Double::doubleValue).toArray();
            System.out.printf("%-14s %9.1f %9.1f %9.1f %10s %13s %16s %14s %10.1f %7s%n", e.getKey(), med,
                    Arrays.stream(ops).min().orElse(0), Arrays.stream(ops).max().orElse(0),
                    e.getKey().equals("none") ? "-" : pct(1 - med / baseMedian),
                    paired.length == 0 ? "-" : pct(Stats.median(paired)),
                    paired.length == 0 ? "-" : pct(Arrays.stream(paired).min().orElse(0)) + "/"
                            + pct(Arrays.stream(paired).max().orElse(0)),
                    pairedPerCpu.length == 0 ? "-" : pct(Stats.median(pairedPerCpu)),
                    Stats.median(e.getValue().stream().filter(OverheadBenchmark::clean).mapToDouble(Run::samplesPerSecond)
                            .toArray()),
                    e.getKey().equals("none") ? ops.length + "/" + e.getValue().size()
                            : paired.length + "/" + e.getValue().size());
        }
        System.out.println("loss(paired): median over rounds of 1 - ops/s / ops/s of none in the same round; "
                + "ops/cpu-s loss: the same for ops per CPU-second of the workload JVM (less sensitive to other "
                + "processes taking CPUs; it misses a profiler that stalls threads without using CPU). Only clean runs count: "
                + "other processes used at most " + quiet + " CPUs in the window (clean: runs, or pairs, of all).");
        double othersMax = runs.values().stream().flatMap(List::stream).mapToDouble(Run::others).max().orElse(0);
        System.out.printf("%nother processes took up to %.2f cpus during a window (see each round's 'others'); "
                + "total run time %.0f s; load average after: %s%n", othersMax, (System.nanoTime() - start) / 1e9,
                Machine.loadAverage());
        goals(runs, base);
    }

    private static void goals(Map<String, List<Run>> runs, List<Run> base) {
        if (base == null) return;
        System.out.println();
        System.out.println("== Goals (loss = median of per-round paired losses) ==");
        Double ours100 = pairedLoss(runs.get("ours100"), base);
        Double ours1000 = pairedLoss(runs.get("ours1000"), base);
        Double async100 = pairedLoss(runs.get("async100"), base);
        System.out.println("(a loss is a fraction of throughput; with run-to-run spread of several percent on this "
                + "machine, see the paired min/max, a goal of 1% is below what 5 rounds can resolve)");
        if (ours100 != null) {
            System.out.printf("ours@100Hz loss %s < 1%%: %s%n", pct(ours100), ours100 < 0.01 ? "met" : "MISSED");
            if (async100 != null) {
                System.out.printf("ours@100Hz loss %s <= async-profiler@100Hz loss %s: %s%n", pct(ours100),
                        pct(async100), ours100 <= async100 ? "met" : "MISSED");
            }
        }
        if (ours1000 != null) {
            System.out.printf("ours@1000Hz loss %s < 5%%: %s%n", pct(ours1000), ours1000 < 0.05 ? "met" : "MISSED");
        }
    }

    /**
     * Waits (at most --max-wait seconds) until other processes use less than --quiet CPUs over a
     * second: this machine is shared, and a run while someone else's build takes a core measures them,
     * not the profiler. Returns the seconds waited.
     */
    private static double waitForQuiet() throws InterruptedException {
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1e9 < maxWaitSeconds) {
            long[] a = busyTicks();
            Thread.sleep(1000);
            long[] b = busyTicks();
            if ((b[0] - a[0]) / 100.0 < quiet) break;
        }
        double waited = (System.nanoTime() - start) / 1e9;
        return waited < 1.5 ? 0 : waited;
    }

    /** The machine's busy ticks (user, nice, system, irq, softirq) from /proc/stat, in 1/100 s. */
    private static long[] busyTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            return new long[] {Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3])
                    + Long.parseLong(f[6]) + Long.parseLong(f[7])};
        } catch (Exception e) {
            return new long[] {0};
        }
    }

    private static Double pairedLoss(List<Run> runs, List<Run> base) {
        if (runs == null) return null;
        List<Double> paired = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            if (clean(runs.get(i)) && clean(base.get(i))) {
                paired.add(1 - runs.get(i).opsPerSecond / base.get(i).opsPerSecond);
            }
        }
        return paired.isEmpty() ? null : Stats.median(paired.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** A run during which other processes stayed under the quiet threshold. */
    private static boolean clean(Run r) {
        return r.others <= quiet;
    }

    private static Run runOne(String java, List<String> flags, String classpath, String config, int round)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", classpath, OverheadWorkload.class.getName(),
                "--warmup", Double.toString(warmup), "--measure", Double.toString(measure)));
        cmd.addAll(childArgs(config, round));
        Path log = logs.resolve(config + "-round" + (round + 1) + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = Math.round(warmup + measure) + 120;
        if (!p.waitFor(deadline, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(config + " (round " + (round + 1) + ") did not finish in " + deadline
                    + " s; see " + log);
        }
        String result = Files.readAllLines(log).stream().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException(config + " (round " + (round + 1) + ") exited with "
                        + p.exitValue() + " and no RESULT line; see " + log));
        Map<String, String> f = new LinkedHashMap<>();
        for (String kv : result.substring(7).split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) f.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return new Run(config, round, Double.parseDouble(f.get("ops_per_s")), Double.parseDouble(f.get("cpu_per_s")),
                Double.parseDouble(f.get("others_cpu_per_s")), Long.parseLong(f.get("samples")),
                Double.parseDouble(f.get("samples_per_s")), f);
    }

    /** The workload's options for a configuration name. */
    private static List<String> childArgs(String config, int round) {
        if (config.equals("none")) return List.of("--config", "none");
        if (config.equals("jfr")) {
            return List.of("--config", "jfr", "--jfr-file", logs.resolve("jfr-round" + (round + 1) + ".jfr").toString());
        }
        if (config.matches("ours\\d+")) {
            double hz = Double.parseDouble(config.substring(4));
            return List.of("--config", "ours", "--interval-ms", Double.toString(1000 / hz));
        }
        if (config.matches("async(-\\w+?)?\\d+")) {
            String event = config.startsWith("async-") ? config.substring(6).replaceAll("\\d+$", "") : "itimer";
            long hz = Long.parseLong(config.replaceAll("^\\D+", ""));
            String interval = (1_000_000 / hz) + "us";
            return List.of("--config", "async", "--async-options",
                    "event=" + event + ",interval=" + interval + ",cstack=" + asyncCstack);
        }
        throw new IllegalArgumentException("unknown configuration " + config
                + "; use none, jfr, oursN, asyncN, async-ctimerN or async-cpuN (N in Hz)");
    }

    private static String pct(double fraction) {
        return String.format("%+.2f%%", 100 * fraction);
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--measure" -> measure = Double.parseDouble(args[++i]);
                case "--configs" -> configs = List.of(args[++i].split(","));
                case "--logs" -> logs = Path.of(args[++i]);
                case "--async-cstack" -> asyncCstack = args[++i];
                case "--quiet" -> quiet = Double.parseDouble(args[++i]);
                case "--max-wait" -> maxWaitSeconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --rounds N, "
                        + "--warmup S, --measure S, --configs none,ours100,ours1000,async100,jfr, --logs DIR, "
                        + "--async-cstack MODE, --quiet CPUS, --max-wait S");
            }
        }
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be at least 1");
        configs.forEach(c -> childArgs(c, 0));  // fail early on a bad name
    }
}
