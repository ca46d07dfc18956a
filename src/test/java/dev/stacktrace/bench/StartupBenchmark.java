package dev.stacktrace.bench;

import java.io.File;
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
 * Start-up cost: a hello-world JVM ({@link StartupHello}) alone, with our agent
 * ({@code profile=cpu}; {@code port=0}) and with async-profiler 4.6 as an agent
 * ({@code -agentpath:libasyncProfiler.so=start,event=itimer,cstack=vmx}), and with JNA alone (no agent:
 * the application calls one libc function through JNA, the floor of any binding through it), the configurations
 * interleaved in rounds; wall time and peak RSS (getrusage's maxrss through {@code /usr/bin/time},
 * the same figure as VmHWM) and CPU time (user + system) of each, medians and the excess over the plain JVM. Then, each in fresh
 * JVMs ({@link FirstStackProbe}): the first named stack after the library loads, and the stacks a
 * Timer at 5 ms delivers in its first second.
 *
 * <p>Run through {@code bench/startup.sh}. Options: {@code --runs N} (5), {@code --app-sleep-ms MS}
 * (0: the application sleeps this long before it ends, so that an agent's background work counts),
 * {@code --async-lib PATH} (libasyncProfiler.so; by default extracted from the async-profiler jar on
 * the class path), {@code --skip-probe}.
 */
public final class StartupBenchmark {
    private static int runs = 5;
    private static long appSleepMs = 0;
    private static String asyncLib;
    private static boolean skipProbe;

    record Result(double wallMs, long rssKb, double cpuMs) {}

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        String java = ProcessHandle.current().info().command().orElse("java");
        Path agentJar = Path.of("target/stacktrace.jar").toAbsolutePath();
        if (!Files.isRegularFile(agentJar)) throw new IllegalStateException(agentJar + " is missing: run mvn package");
        if (asyncLib == null) asyncLib = AsyncProfilerLibrary.extract().toString();
        // JNA's jar after the application's classes: only the "JNA alone" row loads anything from it
        String jnaJar = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> Path.of(e).getFileName().toString().matches("jna-\\d.*\\.jar")).findFirst()
                .orElseThrow(() -> new IllegalStateException("JNA's jar is not on the class path"));
        String testClasses = Path.of("target/test-classes").toAbsolutePath() + File.pathSeparator + jnaJar;
        List<String> extra = nativeAccessFlag(java);

        Map<String, List<String>> configs = new LinkedHashMap<>();
        configs.put("plain", List.of());
        configs.put("agent profile=cpu", List.of("-javaagent:" + agentJar + "=profile=cpu"));
        configs.put("agent port=0", List.of("-javaagent:" + agentJar + "=port=0"));
        configs.put("async-profiler", List.of("-agentpath:" + asyncLib + "=start,event=itimer,cstack=vmx"));
        configs.put("JNA alone", List.of("-Dstartup.jna=true"));

        System.out.printf("StartupBenchmark: %s (java %s), %d cpus, %d runs, application sleeps %d ms; load average "
                + "before: %s%n", java, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                runs, appSleepMs, Machine.loadAverage());
        Map<String, List<Result>> results = new LinkedHashMap<>();
        configs.keySet().forEach(k -> results.put(k, new ArrayList<>()));
        List<String> names = new ArrayList<>(configs.keySet());
        for (int round = 0; round < runs; round++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((k + round) % names.size());
                List<String> cmd = new ArrayList<>(List.of(java));
                cmd.addAll(extra);
                cmd.addAll(configs.get(name));
                cmd.addAll(List.of("-cp", testClasses, StartupHello.class.getName(), Long.toString(appSleepMs)));
                Result r = timed(cmd);
                results.get(name).add(r);
                System.out.printf("round %d %-18s %7.0f ms %7.1f MB  cpu %6.0f ms%n", round + 1, name, r.wallMs,
                        r.rssKb / 1024.0, r.cpuMs);
            }
        }
        double plainWall = Stats.median(results.get("plain").stream().mapToDouble(Result::wallMs).toArray());
        double plainRss = Stats.median(results.get("plain").stream().mapToDouble(Result::rssKb).toArray()) / 1024;
        System.out.printf("%n== Hello-world JVM, medians of %d (load average now %s) ==%n", runs, Machine.loadAverage());
        double plainCpu = Stats.median(results.get("plain").stream().mapToDouble(Result::cpuMs).toArray());
        System.out.printf("%-18s %9s %9s %10s %10s %9s %9s%n", "config", "wall ms", "+ms", "peak MB", "+MB", "cpu ms",
                "+cpu ms");
        Map<String, double[]> added = new LinkedHashMap<>();
        for (var e : results.entrySet()) {
            double wall = Stats.median(e.getValue().stream().mapToDouble(Result::wallMs).toArray());
            double rss = Stats.median(e.getValue().stream().mapToDouble(Result::rssKb).toArray()) / 1024;
            double cpu = Stats.median(e.getValue().stream().mapToDouble(Result::cpuMs).toArray());
            added.put(e.getKey(), new double[] {wall - plainWall, rss - plainRss});
            System.out.printf("%-18s %9.0f %+9.0f %10.1f %+10.1f %9.0f %+9.0f%n", e.getKey(), wall, wall - plainWall, rss,
                    rss - plainRss, cpu, cpu - plainCpu);
        }
        System.out.println("cpu ms: user + system CPU time of the whole JVM (all its threads): on a loaded machine "
                + "the wall time mostly measures the wait for a CPU, this does not");
        double asyncRss = added.get("async-profiler")[1];
        for (String ours : List.of("agent profile=cpu", "agent port=0")) {
            double[] a = added.get(ours);
            System.out.printf("%s adds %.0f ms <= 100 ms: %s; adds %.1f MB <= async-profiler's %.1f MB: %s%n", ours, a[0],
                    a[0] <= 100 ? "met" : "MISSED", a[1], asyncRss, a[1] <= asyncRss ? "met" : "MISSED");
        }
        if (!skipProbe) probe(java, extra);
    }

    /** The first-stack and Timer figures, each in fresh JVMs on the test class path. */
    private static void probe(String java, List<String> extra) throws Exception {
        String classpath = System.getProperty("java.class.path");
        Map<String, List<Map<String, Double>>> byMode = new LinkedHashMap<>();
        for (String mode : List.of("stack", "timer", "jna")) byMode.put(mode, new ArrayList<>());
        List<Map<String, Double>> stack = byMode.get("stack"), timer = byMode.get("timer"), jna = byMode.get("jna");
        for (int round = 0; round < runs; round++) {
            for (String mode : byMode.keySet()) {
                List<String> cmd = new ArrayList<>(List.of(java));
                cmd.addAll(extra);
                cmd.addAll(List.of("-cp", classpath, FirstStackProbe.class.getName(), mode));
                Map<String, Double> f = resultLine(cmd);
                byMode.get(mode).add(f);
                System.out.printf("round %d %-6s %s%n", round + 1, mode, f);
            }
        }
        double named = Stats.median(stack.stream().mapToDouble(m -> m.get("first_named_stack_ms")).toArray());
        double first = Stats.median(stack.stream().mapToDouble(m -> m.get("first_stack_ms")).toArray());
        double stacks = Stats.median(timer.stream().mapToDouble(m -> m.get("timer_first_second_stacks")).toArray());
        double timerFirst = Stats.median(timer.stream().mapToDouble(m -> m.get("timer_first_stack_ms")).toArray());
        System.out.printf("%n== First use of the library in a fresh JVM, medians of %d (load average now %s) ==%n", runs,
                Machine.loadAverage());
        System.out.printf("first stack (library load included) %.1f ms; first named stack %.1f ms <= 50 ms: %s "
                + "(CPU until then: %.0f ms on its thread, %.0f ms in the JVM)%n", first, named,
                named >= 0 && named <= 50 ? "met" : "MISSED",
                Stats.median(stack.stream().mapToDouble(m -> m.get("thread_cpu_ms")).toArray()),
                Stats.median(stack.stream().mapToDouble(m -> m.get("process_cpu_ms")).toArray()));
        System.out.printf("Timer at 5 ms: first stack after %.1f ms, %.0f stacks in its first second >= 180: %s%n",
                timerFirst, stacks, stacks >= 180 ? "met" : "MISSED");
        System.out.printf("the floor of a first use through JNA (one libc call by direct mapping, nothing of ours): "
                        + "%.1f ms (CPU: %.0f ms on its thread, %.0f ms in the JVM)%n",
                Stats.median(jna.stream().mapToDouble(m -> m.get("jna_first_call_ms")).toArray()),
                Stats.median(jna.stream().mapToDouble(m -> m.get("thread_cpu_ms")).toArray()),
                Stats.median(jna.stream().mapToDouble(m -> m.get("process_cpu_ms")).toArray()));
    }

    /** Runs a command under /usr/bin/time: its wall time (measured here) and its peak RSS. */
    private static Result timed(List<String> command) throws Exception {
        Path rss = Files.createTempFile("startup-rss", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M %U %S", "-o", rss.toString()));
            cmd.addAll(command);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("did not end in 120 s: " + command);
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            if (p.exitValue() != 0 || !out.contains("hello")) {
                throw new IllegalStateException("exit " + p.exitValue() + ", output: " + out + " from " + command);
            }
            if (!out.strip().equals("hello")) System.out.println("  (said: " + out.strip().replace('\n', ' ') + ")");
            String[] f = Files.readString(rss).strip().split("\\s+");
            return new Result(ms, Long.parseLong(f[0]), 1000 * (Double.parseDouble(f[1]) + Double.parseDouble(f[2])));
        } finally {
            Files.deleteIfExists(rss);
        }
    }

    private static Map<String, Double> resultLine(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("did not end in 60 s: " + command);
        }
        String line = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no RESULT line: " + out));
        Map<String, Double> f = new LinkedHashMap<>();
        for (String kv : line.substring(7).split(" ")) {
            int eq = kv.indexOf('=');
            f.put(kv.substring(0, eq), Double.parseDouble(kv.substring(eq + 1)));
        }
        return f;
    }

    private static List<String> nativeAccessFlag(String java) throws Exception {
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-version").redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0 ? List.of("--enable-native-access=ALL-UNNAMED") : List.of();
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--app-sleep-ms" -> appSleepMs = Long.parseLong(args[++i]);
                case "--async-lib" -> asyncLib = args[++i];
                case "--skip-probe" -> skipProbe = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --runs N, --app-sleep-ms MS, --async-lib PATH, --skip-probe");
            }
        }
    }
}
