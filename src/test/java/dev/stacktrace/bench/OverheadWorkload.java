package dev.stacktrace.bench;

import dev.stacktrace.tools.Profiler;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * One run of the sampling-overhead benchmark: a CPU-bound workload on every core, under
 * one profiler configuration, in this JVM. {@link OverheadBenchmark} starts one fresh JVM of this
 * per configuration and round; it can also be run by hand.
 *
 * <p>The workload: one worker thread per core (or {@code --threads N}), each looping the same
 * operation: deflate 16 KiB of text-like data with {@link Deflater} (JNI into libzip and zlib's
 * {@code deflate}: native code, native frames), checksum it with {@link CRC32}, then a pure-Java
 * integer kernel over a 4096-int array (C2-compiled Java, no calls). Roughly half the time is in
 * each. Throughput is operations per second of all workers over the measured window, after a
 * warm-up under the same profiler.
 *
 * <p>Configurations ({@code --config}): {@code none}; {@code ours} (our {@link Profiler}, all
 * threads, CPU mode, {@code --interval-ms}); {@code async} (async-profiler through its Java API,
 * {@code --async-options}); {@code jfr} (a {@link jdk.jfr.Recording} with JFR's {@code default}
 * settings). The profiler starts before the warm-up and stops after the window.
 *
 * <p>The last line is {@code RESULT key=value ...}, for the driver to parse.
 */
public final class OverheadWorkload {

    private static final int INPUT_BYTES = 16 * 1024;
    private static final int KERNEL_INTS = 4096;
    /** Passes of the Java kernel per operation: chosen so that Java and native time are about equal. */
    private static int kernelPasses = 48;
    private static final int STRIDE = 16;  // one counter per 128-byte line: no false sharing

    private static String config = "none";
    private static double intervalMs = 10;
    private static String asyncOptions = "event=itimer,interval=10ms,cstack=vmx";
    private static double warmupSeconds = 5;
    private static double measureSeconds = 15;
    private static int threads = Runtime.getRuntime().availableProcessors();
    private static String jfrFile = "overhead.jfr";
    private static boolean calibrate;
    /** both (the benchmark), or java / native alone (for finding where a profiler's cost goes). */
    private static String mix = "both";
    /** Our profiler on the worker threads only instead of every thread (for finding where its cost goes). */
    private static boolean oursWorkersOnly;

    private static AtomicLongArray done;
    private static volatile boolean stop;
    private static final long[] sinks = new long[64 * STRIDE];

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        if (calibrate) {
            calibrate();
            return;
        }
        System.out.printf("OverheadWorkload: config=%s, mix=%s, java %s (%s), %d cpus, %d workers, warm-up %.0f s, "
                        + "window %.0f s%n", config, mix, System.getProperty("java.version"),
                System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(), threads,
                warmupSeconds, measureSeconds);

        ProfilerUnderTest profiler = switch (config) {
            case "none" -> new NoProfiler();
            case "ours" -> new Ours(Duration.ofNanos(Math.round(intervalMs * 1e6)));
            case "async" -> new Async(asyncOptions);
            case "jfr" -> new Jfr(Path.of(jfrFile));
            default -> throw new IllegalArgumentException("--config must be none, ours, async or jfr, not " + config);
        };
        profiler.start();

        Thread[] workers = startWorkers(threads, mix);
        if (profiler instanceof Ours ours && oursWorkersOnly) ours.startOn(workers);

        Thread.sleep(Math.round(warmupSeconds * 1000));
        long samples0 = profiler.samples();
        long cpu0 = processCpuNanos();
        long[] stat0 = machineCpuTicks();
        long ops0 = totalOps();
        long t0 = System.nanoTime();
        Instant windowStart = Instant.now();
        Thread.sleep(Math.round(measureSeconds * 1000));
        long ops1 = totalOps();
        long t1 = System.nanoTime();
        Instant windowEnd = Instant.now();
        long cpu1 = processCpuNanos();
        long[] stat1 = machineCpuTicks();
        long samples1 = profiler.samples();

        stopWorkers(workers);
        profiler.stop();

        double seconds = (t1 - t0) / 1e9;
        double opsPerSecond = (ops1 - ops0) / seconds;
        double cpuUse = (cpu1 - cpu0) / 1e9 / seconds;
        // the whole machine's busy CPUs (from /proc/stat) less ours: what other processes took
        double machineBusy = (stat1[0] - stat0[0]) / (double) CLOCK_TICKS / seconds;
        double steal = (stat1[1] - stat0[1]) / (double) CLOCK_TICKS / seconds;
        double others = Math.max(0, machineBusy - cpuUse);
        long windowSamples = profiler.windowSamples(windowStart, windowEnd, samples1 - samples0);
        profiler.report(seconds);
        long sink = 0;
        for (long s : sinks) sink ^= s;
        System.out.printf("RESULT config=%s ops=%d seconds=%.3f ops_per_s=%.2f cpu_per_s=%.3f samples=%d "
                        + "samples_per_s=%.1f others_cpu_per_s=%.3f steal_per_s=%.3f load=%s%s sink=%d%n", profiler.label(),
                ops1 - ops0, seconds, opsPerSecond, cpuUse, windowSamples, windowSamples / seconds, others, steal,
                loadAverage(), profiler.extra(), sink & 0xff);
    }

    // ---- the workload ----

    /** Starts n workers running the operation mix; also for {@link OverheadProbe}. */
    static Thread[] startWorkers(int n, String operationMix) {
        threads = n;
        mix = operationMix;
        done = new AtomicLongArray(n * STRIDE);
        Thread[] workers = new Thread[n];
        for (int i = 0; i < n; i++) {
            int slot = i;
            workers[i] = new Thread(() -> work(slot), "worker-" + i);
            workers[i].start();
        }
        return workers;
    }

    static void stopWorkers(Thread[] workers) throws InterruptedException {
        stop = true;
        for (Thread w : workers) w.join(10_000);
    }

    private static void work(int slot) {
        byte[] input = input(slot);
        byte[] output = new byte[INPUT_BYTES + 1024];
        int[] ints = new int[KERNEL_INTS];
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        CRC32 crc = new CRC32();
        long local = 0;
        long sink = 0;
        while (!stop) {
            sink += operation(deflater, crc, input, output, ints, sink);
            done.lazySet(slot * STRIDE, ++local);
        }
        deflater.end();
        sinks[slot * STRIDE] = sink;
    }

    private static long operation(Deflater deflater, CRC32 crc, byte[] input, byte[] output, int[] ints, long seed) {
        return switch (mix) {
            case "java" -> javaPart(ints, seed);
            case "native" -> nativePart(deflater, crc, input, output);
            default -> nativePart(deflater, crc, input, output) + javaPart(ints, seed);
        };
    }

    /** JNI: Deflater.deflateBytesBytes → zlib deflate; CRC32 (an intrinsic once compiled, JNI before). */
    private static long nativePart(Deflater deflater, CRC32 crc, byte[] input, byte[] output) {
        deflater.reset();
        deflater.setInput(input);
        deflater.finish();
        int n = 0;
        while (!deflater.finished()) n += deflater.deflate(output);
        crc.reset();
        crc.update(output, 0, Math.min(n, output.length));
        return crc.getValue() + n;
    }

    /** Pure Java, no calls, no allocation: a mixing pass over an int array, several times. */
    private static long javaPart(int[] a, long seed) {
        long h = 0;
        for (int pass = 0; pass < kernelPasses; pass++) h += dev.stacktrace.testlib.AccuracyWorkload.integerKernel(a, seed + pass);
        return h;
    }

    /** Text-like bytes, seeded per worker: compresses about 3:1. */
    private static byte[] input(int slot) {
        return dev.stacktrace.testlib.AccuracyWorkload.text(INPUT_BYTES, slot);
    }

    static long totalOps() {
        long sum = 0;
        for (int i = 0; i < threads; i++) sum += done.get(i * STRIDE);
        return sum;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** USER_HZ: /proc/stat counts in 1/100 s on Linux x86-64. */
    private static final int CLOCK_TICKS = 100;

    /** The machine's busy ticks (all but idle and iowait) and steal ticks, from /proc/stat's first line. */
    private static long[] machineCpuTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5 && i != 8) busy += Long.parseLong(f[i]);  // not idle, iowait, steal
            }
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            return new long[] {busy, steal};
        } catch (Exception e) {
            return new long[] {0, 0};
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0];
        } catch (Exception e) {
            return "?";
        }
    }

    /** Times the two halves on one thread, for choosing kernelPasses. */
    private static void calibrate() {
        byte[] input = input(0);
        byte[] output = new byte[INPUT_BYTES + 1024];
        int[] ints = new int[KERNEL_INTS];
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        CRC32 crc = new CRC32();
        long sink = 0;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            int n = 0;
            while (System.nanoTime() - t0 < 1_000_000_000L) { sink += nativePart(deflater, crc, input, output); n++; }
            double nativeUs = (System.nanoTime() - t0) / 1e3 / n;
            long t1 = System.nanoTime();
            int m = 0;
            while (System.nanoTime() - t1 < 1_000_000_000L) { sink += javaPart(ints, sink); m++; }
            double javaUs = (System.nanoTime() - t1) / 1e3 / m;
            long t2 = System.nanoTime();
            System.out.printf("native part %.1f us, java part (%d passes) %.1f us, compressed to %d bytes%n",
                    nativeUs, kernelPasses, javaUs, deflater.getBytesWritten());
        }
        System.out.println("sink " + (sink & 0xff));
    }

    // ---- the profilers ----

    private interface ProfilerUnderTest {
        void start() throws Exception;

        /** Samples so far, where the profiler can tell while running; -1 where it cannot. */
        long samples() throws Exception;

        void stop() throws Exception;

        /** Samples taken in the window (by default the difference of {@link #samples()}). */
        default long windowSamples(Instant from, Instant to, long difference) throws Exception {
            return difference;
        }

        default void report(double seconds) throws Exception {}

        String label();

        default String extra() {
            return "";
        }
    }

    private static final class NoProfiler implements ProfilerUnderTest {
        public void start() {}

        public long samples() {
            return 0;
        }

        public void stop() {}

        public String label() {
            return "none";
        }
    }

    private static final class Ours implements ProfilerUnderTest {
        private final Duration interval;
        private Profiler profiler;
        private long nanos0, nanos1, samplesAt0, samplesAt1;
        private int calls;

        Ours(Duration interval) {
            this.interval = interval;
        }

        public void start() {
            if (oursWorkersOnly) return;  // started with the workers
            profiler = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(interval).build().start();
        }

        void startOn(Thread[] workers) {
            profiler = Profiler.builder().threads(java.util.List.of(workers)).mode(Profiler.Mode.CPU).interval(interval)
                    .build().start();
        }

        public long samples() {
            // the first call is at the window's start, the second at its end
            long s = profiler.sampleCount();
            long n = profiler.sampleTime().toNanos();
            if (calls++ == 0) { samplesAt0 = s; nanos0 = n; } else { samplesAt1 = s; nanos1 = n; }
            return s;
        }

        public void stop() {
            profiler.join();
        }

        public void report(double seconds) {
            long samples = samplesAt1 - samplesAt0;
            double handlerNanos = nanos1 - nanos0;
            System.out.printf("ours: interval %s, CPU mode, " + (oursWorkersOnly ? "workers only" : "all threads")
                            + "; in window: %d samples (%.1f/s), "
                            + "time in handler %.1f ms/s = %.3f%% of all cpus, %.1f us/sample; whole run: %d samples, "
                            + "max %.1f us, errors %s%n", interval, samples, samples / seconds,
                    handlerNanos / 1e6 / seconds, 100 * handlerNanos / 1e9 / seconds
                            / Runtime.getRuntime().availableProcessors(),
                    samples == 0 ? 0 : handlerNanos / 1e3 / samples, profiler.sampleCount(),
                    profiler.maxSampleTime().toNanos() / 1e3, profiler.errorCounts());
            var top = profiler.getSorted();
            long total = profiler.sampleCount();
            System.out.println("ours: top symbols by self samples:");
            top.stream()
                    .sorted((a, b) -> Long.compare(b.getValue().self(), a.getValue().self()))
                    .limit(6)
                    .forEach(e -> System.out.printf("  %5.1f%% self  %s (%s)%n", 100.0 * e.getValue().self() / total,
                            e.getValue().name(), e.getValue().library()));
        }

        public String label() {
            return "ours@" + fmt(1000.0 / (interval.toNanos() / 1e6)) + "Hz";
        }

        public String extra() {
            long samples = samplesAt1 - samplesAt0;
            return String.format(" handler_ns=%d handler_us_per_sample=%.2f errors=%s", nanos1 - nanos0,
                    samples == 0 ? 0.0 : (nanos1 - nanos0) / 1e3 / samples,
                    profiler.errorCounts().values().stream().mapToLong(Long::longValue).sum());
        }
    }

    private static final class Async implements ProfilerUnderTest {
        private final String options;
        private one.profiler.AsyncProfiler profiler;

        Async(String options) {
            this.options = options;
        }

        public void start() throws Exception {
            profiler = one.profiler.AsyncProfiler.getInstance();
            System.out.println("async-profiler " + profiler.getVersion() + ": "
                    + profiler.execute("start," + options).trim());
        }

        public long samples() {
            return profiler.getSamples();
        }

        public void stop() throws Exception {
            System.out.println("async-profiler status: " + profiler.execute("status").trim().replace('\n', ' '));
            profiler.execute("stop");
        }

        public void report(double seconds) throws Exception {
            String flat = profiler.execute("flat=6,traces=0");
            System.out.println("async-profiler: total samples " + profiler.getSamples() + "; top symbols:");
            flat.lines().filter(l -> !l.isBlank()).limit(12).forEach(l -> System.out.println("  " + l));
        }

        public String label() {
            return "async@" + options.replaceAll(".*interval=([^,]*).*", "$1");
        }
    }

    private static final class Jfr implements ProfilerUnderTest {
        private final Path file;
        private jdk.jfr.Recording recording;
        private String settings = "";

        Jfr(Path file) {
            this.file = file;
        }

        public void start() throws Exception {
            jdk.jfr.Configuration c = jdk.jfr.Configuration.getConfiguration("default");
            Map<String, String> s = c.getSettings();
            settings = "jdk.ExecutionSample#period=" + s.get("jdk.ExecutionSample#period")
                    + " jdk.NativeMethodSample#period=" + s.get("jdk.NativeMethodSample#period");
            System.out.println("jfr: settings=default (" + c.getLabel() + "), " + settings);
            recording = new jdk.jfr.Recording(c);
            recording.setToDisk(true);
            recording.setDestination(file);
            recording.start();
        }

        public long samples() {
            return -1;
        }

        public void stop() {
            recording.stop();  // writes the file (destination set)
            recording.close();
        }

        private long javaSamples, nativeSamples;

        public long windowSamples(Instant from, Instant to, long difference) throws Exception {
            long java = 0, nat = 0;
            try (jdk.jfr.consumer.RecordingFile f = new jdk.jfr.consumer.RecordingFile(file)) {
                while (f.hasMoreEvents()) {
                    jdk.jfr.consumer.RecordedEvent e = f.readEvent();
                    Instant t = e.getStartTime();
                    if (t.isBefore(from) || t.isAfter(to)) continue;
                    String name = e.getEventType().getName();
                    if (name.equals("jdk.ExecutionSample")) java++;
                    else if (name.equals("jdk.NativeMethodSample")) nat++;
                }
            }
            javaSamples = java;
            nativeSamples = nat;
            System.out.printf("jfr: in window %d jdk.ExecutionSample + %d jdk.NativeMethodSample events; file %d KiB%n",
                    java, nat, Files.size(file) / 1024);
            Files.deleteIfExists(file);
            return java + nat;
        }

        public String label() {
            return "jfr-default";
        }

        public String extra() {
            return " execution_samples=" + javaSamples + " native_method_samples=" + nativeSamples;
        }
    }

    private static String fmt(double hz) {
        return hz == Math.rint(hz) ? Long.toString((long) hz) : String.format("%.1f", hz);
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--config" -> config = args[++i];
                case "--interval-ms" -> intervalMs = Double.parseDouble(args[++i]);
                case "--async-options" -> asyncOptions = args[++i];
                case "--warmup" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--measure" -> measureSeconds = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--jfr-file" -> jfrFile = args[++i];
                case "--kernel-passes" -> kernelPasses = Integer.parseInt(args[++i]);
                case "--calibrate" -> calibrate = true;
                case "--mix" -> mix = args[++i];
                case "--ours-workers-only" -> oursWorkersOnly = true;
                default -> throw new IllegalArgumentException("unknown option " + a + "; options: --config "
                        + "none|ours|async|jfr, --interval-ms MS, --async-options OPTS, --warmup S, --measure S, "
                        + "--threads N, --jfr-file PATH, --kernel-passes N, --calibrate, --mix both|java|native, --ours-workers-only");
            }
        }
        if (!mix.matches("both|java|native")) throw new IllegalArgumentException("--mix must be both, java or native");
        if (threads < 1 || threads > 64) throw new IllegalArgumentException("--threads must be 1..64, not " + threads);
    }
}
