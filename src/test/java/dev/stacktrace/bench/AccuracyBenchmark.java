package dev.stacktrace.bench;

import dev.stacktrace.testlib.AccuracyWorkload;
import dev.stacktrace.testlib.AccuracyWorkloads;
import dev.stacktrace.testlib.EntryShares;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/**
 * The accuracy benchmark (bench/accuracy.sh): for each workload of {@link AccuracyWorkloads}, one
 * thread runs it while our {@link Profiler} and async-profiler take turns profiling it, in blocks,
 * never both at once: ours in CPU mode, async-profiler's CPU event, ours in wall mode, async-profiler's
 * wall event, and again for each round. Each block measures its own truth (each part's thread CPU
 * time and wall time). Prints every block, then per workload and mode: the truth, our shares and
 * async-profiler's (samples pooled over the rounds).
 *
 * <pre>
 *   --workloads a,b,c,d  --rounds 2  --block-seconds 3  --warmup-seconds 2  --interval-ms 2
 *   --async-cpu-event cpu|itimer|ctimer  --async-cstack vmx|vm|dwarf|fp  --dump-dir DIR (async-profiler's profiles)
 * </pre>
 */
public final class AccuracyBenchmark {
    private static List<String> workloads = List.of("a", "b", "c", "d");
    private static int rounds = 2;
    private static double blockSeconds = 3;
    private static double warmupSeconds = 2;
    private static double intervalMs = 2;
    private static String asyncCpuEvent = "cpu";
    private static String asyncCstack = "vmx";
    private static String dumpDir;

    /** One block: who profiled, how, what they saw and what was true. */
    private record Block(String profiler, Profiler.Mode mode, AccuracyWorkload.Split truth, EntryShares seen,
                         long dropped) {}

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        AsyncProfilerSession probe = new AsyncProfilerSession(asyncCpuEvent, intervalMs, asyncCstack);
        System.out.printf("AccuracyBenchmark: java %s (%s), %d cpus; workloads %s, %d rounds of %.0f s blocks, "
                        + "interval %.1f ms; async-profiler %s (cpu: %s; wall: event=wall)%n",
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), workloads, rounds, blockSeconds, intervalMs,
                probe.version(), probe.options());
        Map<String, List<Block>> all = new LinkedHashMap<>();
        for (String name : workloads) {
            FutureTask<List<Block>> task = new FutureTask<>(() -> runWorkload(name));
            Thread worker = new Thread(task, "accuracy-" + name);
            worker.setDaemon(true);
            worker.start();
            all.put(name, task.get(Math.round(120 + rounds * 4 * blockSeconds * 3), TimeUnit.SECONDS));
        }
        summary(all);
    }

    private static List<Block> runWorkload(String name) throws Exception {
        List<Block> blocks = new ArrayList<>();
        try (AccuracyWorkload w = AccuracyWorkloads.create(name)) {
            System.out.printf("%n(%s) %s%n", name, w.description());
            w.warmUp(Duration.ofMillis(Math.round(warmupSeconds * 1000)));
            for (int r = 0; r < rounds; r++) {
                for (Profiler.Mode mode : Profiler.Mode.values()) {
                    blocks.add(print(ours(w, mode)));
                    blocks.add(print(async(w, mode)));
                }
            }
            if (w.sink() == 42) System.out.print("");
        }
        return blocks;
    }

    private static Block ours(AccuracyWorkload w, Profiler.Mode mode) throws Exception {
        Profiler p = Profiler.builder().thread(Thread.currentThread()).mode(mode)
                .interval(Duration.ofNanos(Math.round(intervalMs * 1e6))).build();
        AccuracyWorkload.Split truth;
        p.start();
        long end = System.nanoTime() + Math.round(blockSeconds * 1e9);
        try {
            truth = w.run(() -> System.nanoTime() < end);
        } finally {
            p.join();
        }
        var stacks = p.getStacks();
        long recorded = stacks.values().stream().mapToLong(Long::longValue).sum();
        return new Block("ours", mode, truth, EntryShares.ofStacks(stacks, p.sampleCount()),
                Math.max(0, p.sampleCount() - recorded));
    }

    private static Block async(AccuracyWorkload w, Profiler.Mode mode) throws Exception {
        AsyncProfilerSession a = new AsyncProfilerSession(mode == Profiler.Mode.CPU ? asyncCpuEvent : "wall",
                intervalMs, asyncCstack);
        AccuracyWorkload.Split truth;
        String said = a.start(Thread.currentThread());
        long end = System.nanoTime() + Math.round(blockSeconds * 1e9);
        if (!said.startsWith("Profiling started")) System.out.println("  async-profiler: " + said.replace('\n', ' '));
        String collapsed;
        try {
            truth = w.run(() -> System.nanoTime() < end);
        } finally {
            collapsed = a.stopCollapsed();
        }
        if (dumpDir != null) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(dumpDir, "async-" + Thread.currentThread().getName()
                    + "-" + mode + "-" + System.nanoTime() + ".collapsed"), collapsed);
        }
        return new Block("async-profiler", mode, truth, EntryShares.ofCollapsed(collapsed, Thread.currentThread().getName()),
                0);
    }

    private static Block print(Block b) {
        System.out.printf("  %-14s %-4s truth cpu native %.3f java %.3f, wall native %.3f java %.3f | seen native %.3f java %.3f"
                        + " | %5d samples%s%n", b.profiler(), b.mode(), b.truth().nativeCpuShare(), b.truth().javaCpuShare(),
                b.truth().nativeWallShare(), b.truth().javaWallShare(), b.seen().nativeShare(), b.seen().javaShare(),
                b.seen().samples(), b.profiler().equals("ours") ? ", " + b.dropped() + " not recorded" : "");
        return b;
    }

    /** Per workload and mode: each profiler's truth (its own blocks) and shares, pooled over the rounds. */
    private static void summary(Map<String, List<Block>> all) {
        System.out.println();
        System.out.println("| workload | mode | truth native / java (ours' blocks) | ours native / java (samples, not recorded) "
                + "| truth native / java (async-profiler's blocks) | async-profiler native / java (samples) |");
        System.out.println("|---|---|---:|---:|---:|---:|");
        for (var e : all.entrySet()) {
            for (Profiler.Mode mode : Profiler.Mode.values()) {
                List<Block> bs = e.getValue().stream().filter(b -> b.mode() == mode).toList();
                EntryShares ours = pool(bs, "ours");
                EntryShares theirs = pool(bs, "async-profiler");
                long dropped = bs.stream().filter(b -> b.profiler().equals("ours")).mapToLong(Block::dropped).sum();
                System.out.printf("| (%s) | %s | %s | %.2f / %.2f (%d, %.0f%%) | %s | %.2f / %.2f (%d) |%n",
                        e.getKey(), mode.name().toLowerCase(Locale.ROOT), truth(bs, "ours", mode), ours.nativeShare(),
                        ours.javaShare(), ours.samples(), 100.0 * dropped / Math.max(1, ours.samples()),
                        truth(bs, "async-profiler", mode), theirs.nativeShare(), theirs.javaShare(), theirs.samples());
            }
        }
        System.out.println("truth: each part's share of the thread's CPU time (cpu rows) or wall time (wall rows) in that "
                + "profiler's blocks; seen: samples holding the part's entry frame / all samples of the thread "
                + "(ours: also those not recorded)");
    }

    private static String truth(List<Block> blocks, String profiler, Profiler.Mode mode) {
        long nat = 0, java = 0, total = 0;
        for (Block b : blocks) {
            if (!b.profiler().equals(profiler)) continue;
            boolean cpu = mode == Profiler.Mode.CPU;
            nat += cpu ? b.truth().nativeCpu() : b.truth().nativeWall();
            java += cpu ? b.truth().javaCpu() : b.truth().javaWall();
            total += cpu ? b.truth().totalCpu() : b.truth().totalWall();
        }
        return String.format("%.2f / %.2f", (double) nat / total, (double) java / total);
    }

    private static EntryShares pool(List<Block> blocks, String profiler) {
        long n = 0, j = 0, s = 0;
        for (Block b : blocks) {
            if (!b.profiler().equals(profiler)) continue;
            n += b.seen().nativeSamples();
            j += b.seen().javaSamples();
            s += b.seen().samples();
        }
        return new EntryShares(n, j, s);
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--workloads" -> workloads = List.of(args[++i].split(","));
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--block-seconds" -> blockSeconds = Double.parseDouble(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--interval-ms" -> intervalMs = Double.parseDouble(args[++i]);
                case "--async-cpu-event" -> asyncCpuEvent = args[++i];
                case "--async-cstack" -> asyncCstack = args[++i];
                case "--dump-dir" -> dumpDir = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --workloads a,b,c,d "
                        + "--rounds N --block-seconds S --warmup-seconds S --interval-ms MS --async-cpu-event cpu|itimer|ctimer "
                        + "--async-cstack vmx|vm|dwarf|fp --dump-dir DIR");
            }
        }
    }
}
