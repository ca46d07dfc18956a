package dev.stacktrace.bench;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.stacks.StackResolver;
import dev.stacktrace.testlib.TestNative;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Speed of the native core: one run, one target thread per scenario, every approach
 * timed per call with System.nanoTime (warm-up first, then N timed calls, sorted percentiles).
 *
 * <p>Targets: a Java thread blocked in native code (JNA → stt_recurse_then_read(30, pipe), about
 * 30 native frames above JNA/JIT/libjvm) and one spinning in native code (stt_recurse_then_spin).
 *
 * <p>Run through {@code bench/native-stack.sh}. Options: {@code --warmup N} (default 20000:
 * calls per row before timing; Temurin 25 recompiles the naming code after uncommon traps for
 * several thousand calls more than JDK 17 does, and fewer warm-up calls measure that, not the steady state),
 * {@code --calls N} (20000), {@code --depth N} (recursion depth, 30), {@code --max-seconds S}
 * (per-row time cap for the slow JVM rows, 12), {@code --target blocked|spinning|both|java-spin|all}
 * (default all; both = the two native targets; all adds a Java thread spinning in JIT code, as
 * context for Thread.getStackTrace),
 * {@code --print-stack} (print one resolved stack per target). java-deep is a thread ~30 Java
 * frames deep spinning in compiled code, started after the library was set up; java-deep-old the
 * same started before; java-deep-attached the same in a JVM of its own that never touched the
 * library until it was attached to (the CLI's case), measured there by an agent.
 */
public final class NativeStackBenchmark {

    private static int warmup = 20_000;
    private static int calls = 20_000;
    private static int depth = 30;
    private static double maxSeconds = 12;
    private static String targets = "all";
    private static boolean printStack;

    private static final double NO_CAP = Double.POSITIVE_INFINITY;
    /** Counts what the measuring thread allocates on the Java heap (the column B/call). */
    private static final com.sun.management.ThreadMXBean ALLOCATED =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Keeps results alive so that no call can be optimised away. */
    private static volatile long sink;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals(ATTACHED_CHILD)) {
            parse(Arrays.copyOfRange(args, 1, args.length));
            attachedChild();
            return;
        }
        parse(args);
        // A thread that exists before the library is loaded (as every thread of a JVM the CLI
        // attaches to): started first, it waits for the library before it goes deep.
        DeepJavaTarget early = wants("java-deep-old") ? new DeepJavaTarget("java-deep-old") : null;
        if (early != null) early.spawn();
        // Then set up: the other target threads are started after set-up, as in a running service.
        NativeCapture.get().javaFramesUnavailable();
        Locale.setDefault(Locale.ROOT);
        System.out.printf("NativeStackBenchmark: java %s (%s), %d cpus, warm-up %d, calls %d, depth %d%n",
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), warmup, calls, depth);
        System.out.println("load average before: " + Machine.loadAverage());
        NativeCapture.get();  // installs the handler before anything is timed
        long start = System.nanoTime();
        List<Scenario> done = new ArrayList<>();
        if (wants("blocked")) done.add(run(new BlockedTarget()));
        if (wants("spinning")) done.add(run(new SpinningTarget()));
        if (wants("java-spin")) done.add(run(new JavaSpinningTarget()));
        if (wants("java-deep")) done.add(run(new DeepJavaTarget("java-deep")));
        if (early != null) done.add(run(early));
        if (wants("java-deep-attached")) done.add(runAttached());
        System.out.println();
        System.out.println("== Goals (p50 ratios) ==");
        for (Scenario s : done) {
            double floor = s.p50("ping");
            double names = s.p50("names");
            double jvm = s.p50("getStackTrace");
            double mixed = s.p50("mixed");
            System.out.printf("%-13s floor (ping p50) %.1f us; mixed/floor = %.2f (goal <= 1.3: %s)%n", s.label,
                    floor / 1e3, mixed / floor, mixed / floor <= 1.3 ? "met" : "MISSED");
            System.out.printf("%-13s native: names/floor = %.2f (goal <= 2.0: %s), names/getStackTrace = %.3f "
                            + "(goal <= 0.2: %s); mixed: mixed/getStackTrace = %.3f (goal <= 0.25: %s)%n", s.label,
                    names / floor, names / floor <= 2.0 ? "met" : "MISSED", names / jvm, names / jvm <= 0.2 ? "met" : "MISSED",
                    mixed / jvm, mixed / jvm <= 0.25 ? "met" : "MISSED");
        }
        Scenario fresh = find(done, "java-deep");
        for (String label : new String[] {"java-deep-old", "java-deep-attached"}) {
            Scenario old = find(done, label);
            if (fresh == null || old == null) continue;
            double ratio = old.p50("mixed") / fresh.p50("mixed");
            System.out.printf("java-deep, %s / a thread started after the library: mixed p50 %.1f / %.1f us = %.2f "
                            + "(goal <= 1.1: %s); floors %.1f / %.1f us%n", label.equals("java-deep-old")
                            ? "a thread started before the library" : "a JVM the library was attached to",
                    old.p50("mixed") / 1e3, fresh.p50("mixed") / 1e3, ratio, ratio <= 1.1 ? "met" : "MISSED",
                    old.p50("ping") / 1e3, fresh.p50("ping") / 1e3);
        }
        System.out.printf("total run time %.1f s, load average after: %s%n", (System.nanoTime() - start) / 1e9,
                Machine.loadAverage());
    }

    private static boolean wants(String target) {
        for (String t : targets.split(",")) {
            if (t.equals(target) || t.equals("all")
                    || (t.equals("both") && (target.equals("blocked") || target.equals("spinning")))) return true;
        }
        return false;
    }

    // ---- a JVM the library is attached to ----

    private static final String ATTACHED_CHILD = "--attached-child";
    private static final String ATTACHED_THREAD = "bench-java-deep-attached";
    private static final String ATTACHED_RESULT = "ATTACHED-P50";
    private static final String[] ATTACHED_KEYS = {"ping", "raw", "names", "mixedRaw", "mixed", "getStackTrace"};

    /**
     * The java-deep target in a JVM of its own that never touched the library, which is then loaded
     * into it through the Attach API, as the CLI does: an agent whose agentmain is {@link #agentmain}
     * measures there, in the same way, and prints its table (echoed here) and its p50s.
     */
    private static Scenario runAttached() throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-XX:+IgnoreUnrecognizedVMOptions", "-XX:+EnableDynamicAgentLoading",
                "-cp", System.getProperty("java.class.path"), NativeStackBenchmark.class.getName(), ATTACHED_CHILD,
                "--depth", Integer.toString(depth)));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        java.nio.file.Path agentJar = java.nio.file.Files.createTempFile("stacktrace-bench-agent", ".jar");
        try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()))) {
            java.util.jar.Manifest manifest = new java.util.jar.Manifest();
            manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
            manifest.getMainAttributes().putValue("Agent-Class", NativeStackBenchmark.class.getName());
            try (var jar = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(agentJar), manifest)) {
                // the class itself is on the child's class path already
            }
            Scenario s = new Scenario("java-deep-attached");
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.equals("READY")) {
                    com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(Long.toString(child.pid()));
                    try {
                        vm.loadAgent(agentJar.toString(), String.join(" ", "--warmup", Integer.toString(warmup), "--calls",
                                Integer.toString(calls), "--depth", Integer.toString(depth), "--max-seconds",
                                Double.toString(maxSeconds), printStack ? "--print-stack" : ""));
                    } finally {
                        vm.detach();
                    }
                } else if (line.startsWith(ATTACHED_RESULT)) {
                    String[] values = line.substring(ATTACHED_RESULT.length()).trim().split(" ");
                    for (int i = 0; i < ATTACHED_KEYS.length; i++) {
                        long p50 = Long.parseLong(values[i]);
                        s.add(new Row(ATTACHED_KEYS[i], ATTACHED_KEYS[i], 0, p50, 0, 0, 0, 0));
                    }
                } else {
                    System.out.println(line);
                }
            }
            if (!child.waitFor(60, TimeUnit.SECONDS)) throw new IllegalStateException("the attached JVM did not end");
            if (child.exitValue() != 0 || s.rows.isEmpty()) {
                throw new IllegalStateException("the attached JVM failed (exit " + child.exitValue() + ")");
            }
            return s;
        } finally {
            child.destroyForcibly();
            java.nio.file.Files.deleteIfExists(agentJar);
        }
    }

    /** The attached JVM before the attach: the java-deep target spinning, the library never touched. */
    private static void attachedChild() throws Exception {
        DeepJavaTarget target = new DeepJavaTarget("java-deep-attached");
        Thread thread = new Thread(target::body, ATTACHED_THREAD);
        thread.setDaemon(true);
        thread.start();
        Thread.sleep(1500);  // long enough for C2 to compile the loop
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(10));  // the agent's measurement ends the JVM
        System.exit(3);
    }

    /** In the attached JVM: measures the target there on a thread of its own, prints, and ends the JVM. */
    public static void agentmain(String args, java.lang.instrument.Instrumentation instrumentation) {
        parse(args.isBlank() ? new String[0] : args.trim().split(" "));
        Thread measure = new Thread(() -> {
            int status = 1;
            try {
                Locale.setDefault(Locale.ROOT);
                Thread target = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().equals(ATTACHED_THREAD)).findFirst().orElseThrow();
                Scenario s = run(new AttachedTarget(target));
                StringBuilder line = new StringBuilder(ATTACHED_RESULT);
                for (String key : ATTACHED_KEYS) line.append(' ').append((long) s.p50(key));
                System.out.println(line);
                status = 0;
            } catch (Throwable e) {
                e.printStackTrace();
            }
            System.out.flush();
            System.exit(status);
        }, "bench-attached-measure");
        measure.start();
    }

    private static Scenario find(List<Scenario> done, String label) {
        for (Scenario s : done) if (s.label.equals(label)) return s;
        return null;
    }

    // ---- one target ----

    private static Scenario run(Target target) throws Exception {
        target.start();
        try {
            int tid = target.tid;
            Thread thread = target.thread;
            NativeCapture capture = NativeCapture.get();
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long javaId = thread.getId();

            System.out.println();
            System.out.printf("== Target: %s (tid %d, \"%s\") ==%n", target.label, tid, thread.getName());
            // What one capture sees, before anything is timed.
            long[] raw = capture.captureThread(tid, 100);
            List<StackEntry> stack = Stacktrace.getNativeThreadStack(tid, 100, true);
            describe(target, raw, stack);
            if (printStack) System.out.print(Stacktrace.format(stack));

            List<Spec> specs = new ArrayList<>();
            specs.add(measure("ping", "floor: NativeCapture.ping(tid)", NO_CAP, () -> {
                capture.ping(tid);
                return 1;
            }));
            long[][] parts = new long[5][calls];
            int[] nparts = {0};
            long[] one = new long[5];
            specs.add(measure("pingParts", "floor in parts: st_ping_parts(tid)", NO_CAP, () -> {
                if (LibStacktrace.st_ping_parts(tid, 1000, one) == 0 && nparts[0] < calls) {
                    for (int k = 0; k < 5; k++) parts[k][nparts[0]] = one[k];
                    nparts[0]++;
                }
                return 1;
            }));
            specs.add(measure("raw", "raw: NativeCapture.captureThread(tid, 100)", NO_CAP,
                    () -> capture.captureThread(tid, 100).length));
            specs.add(measure("names", "names: native frames only, with names", NO_CAP,
                    () -> StackResolver.interruptedStack(capture.captureThread(tid, 100), 100, true).size()));
            long[][] walk = new long[4][calls];
            int[] nwalk = {0};
            long[] walkInfo = new long[LibStacktrace.MIXED_INFO_WORDS];
            specs.add(measure("mixedRaw", "mixed raw: NativeCapture.captureMixed(tid, 100)", NO_CAP, () -> {
                int n = capture.captureMixed(tid, 100, walkInfo).length;
                if (nwalk[0] < calls) {
                    walk[0][nwalk[0]] = walkInfo[5];
                    walk[1][nwalk[0]] = walkInfo[4];
                    walk[3][nwalk[0]] = walkInfo[7];
                    walk[2][nwalk[0]++] = walkInfo[6];
                }
                return n;
            }));
            specs.add(measure("mixed", "mixed: Stacktrace.getNativeThreadStack(tid, 100, true)", NO_CAP,
                    () -> Stacktrace.getNativeThreadStack(tid, 100, true).size()));
            specs.add(measure("getStackTrace", "Thread.getStackTrace()", maxSeconds,
                    () -> thread.getStackTrace().length));
            specs.add(measure("threadInfo", "ThreadMXBean.getThreadInfo(id, MAX_VALUE)", maxSeconds, () -> {
                ThreadInfo info = mx.getThreadInfo(javaId, Integer.MAX_VALUE);
                return info == null ? 0 : info.getStackTrace().length;
            }));
            // Pieces of the names row, to see where the time goes.
            final long[] fixed = raw;
            specs.add(measure("resolve", "  piece: StackResolver.interruptedStack(raw) only", NO_CAP,
                    () -> StackResolver.interruptedStack(fixed, 100, true).size()));
            long[][] latest = {raw};
            specs.add(measure("resolveAfter", "  piece: the same, each right after an untimed capture", NO_CAP,
                    () -> latest[0] = capture.captureThread(tid, 100),
                    () -> StackResolver.interruptedStack(latest[0], 100, true).size()));
            specs.add(measure("jna", "  piece: one JNA direct call (st_gettid)", NO_CAP,
                    LibStacktrace::st_gettid));
            Scenario s = new Scenario(target.label);
            for (Row r : runInterleaved(specs)) s.add(r);
            s.print();
            printParts(parts, nparts[0]);
            printWalk(walk, nwalk[0]);

            // The stack is still what it was: the target never left its native frames.
            List<StackEntry> after = Stacktrace.getNativeThreadStack(tid, 100, true);
            if (count(after, "descend_") != count(stack, "descend_")) {
                System.out.println("WARNING: the target's stack changed during the run");
            }
            return s;
        } finally {
            target.stop();
        }
    }

    /** The floor's parts: medians of each, and how often the requester slept instead of spinning. */
    private static void printParts(long[][] parts, int n) {
        if (n == 0) return;
        String[] names = {"send (tgsigqueueinfo)", "delivery (sent -> handler start)", "handler",
                "wake-up (handler end -> requester sees it)"};
        StringBuilder line = new StringBuilder("floor in parts, p50 us:");
        for (int k = 0; k < 4; k++) {
            long[] v = Arrays.copyOf(parts[k], n);
            Arrays.sort(v);
            line.append(String.format(" %s %.1f;", names[k], pct(v, 0.5) / 1e3));
        }
        long slept = 0;
        for (int i = 0; i < n; i++) slept += parts[4][i];
        line.append(String.format(" slept on the futex in %.1f%% of %d", 100.0 * slept / n, n));
        System.out.println(line);
    }

    /** The mixed capture's time inside the target thread (no delivery, no scheduling): medians. */
    private static void printWalk(long[][] walk, int n) {
        if (n == 0) return;
        String[] names = {"whole walk", "of which AsyncGetCallTrace", "of which native frames below entry frames"};
        StringBuilder line = new StringBuilder("mixed walk inside the target, p50 us:");
        for (int k = 0; k < 3; k++) {
            long[] v = Arrays.copyOf(walk[k], n);
            Arrays.sort(v);
            line.append(String.format(" %s %.1f;", names[k], pct(v, 0.5) / 1e3));
        }
        long cached = 0;
        for (int i = 0; i < n; i++) cached += walk[3][i];
        line.append(String.format(" inlined methods from the cache (AsyncGetCallTrace not asked) in %.1f%% of %d", 100.0 * cached / n, n));
        System.out.println(line);
    }

    private static void describe(Target target, long[] raw, List<StackEntry> stack) {
        int named = 0;
        int firstJvm = -1;
        for (int i = 0; i < stack.size(); i++) {
            if (stack.get(i).hasName()) named++;
            if (firstJvm < 0 && stack.get(i).isJvm()) firstJvm = i;
        }
        System.out.printf("depth captured: %d raw frames, %d entries, %d with names, %d x %s, innermost %s, "
                        + "first JVM frame at #%d%n", raw.length, stack.size(), named, count(stack, target.recurser),
                target.recurser, stack.isEmpty() ? "-" : stack.get(0).name() + " (" + stack.get(0).library() + ")",
                firstJvm);
        // The frames just around the native → JVM boundary, and the outermost one.
        StringBuilder libs = new StringBuilder();
        String last = null;
        for (StackEntry e : stack) {
            if (!e.library().equals(last)) {
                if (last != null) libs.append(" > ");
                libs.append(e.library());
                last = e.library();
            }
        }
        System.out.println("libraries, innermost first: " + libs);
        if (!stack.isEmpty()) System.out.println("outermost: " + stack.get(stack.size() - 1).format());
    }

    private static int count(List<StackEntry> stack, String fragment) {
        int n = 0;
        for (StackEntry e : stack) if (e.name().contains(fragment)) n++;
        return n;
    }

    // ---- timing ----

    private static Spec measure(String key, String label, double capSeconds, IntSupplier call) {
        return measure(key, label, capSeconds, null, call);
    }

    /** @param before untimed work done before every call (null for none) */
    private static Spec measure(String key, String label, double capSeconds, Runnable before, IntSupplier call) {
        return new Spec(key, label, capSeconds, before, call);
    }

    /** Calls per turn: the rows take turns in blocks of this size, so that drift in the machine's load hits all alike. */
    private static final int BLOCK = 500;

    /** One row being measured. */
    private static final class Spec {
        final String key;
        final String label;
        final double capSeconds;
        final Runnable before;
        final IntSupplier call;
        final long[] times = new long[calls];
        int n;
        long spentNanos;
        /** Bytes the calls allocated on the Java heap, in all. */
        long allocated;

        Spec(String key, String label, double capSeconds, Runnable before, IntSupplier call) {
            this.key = key;
            this.label = label;
            this.capSeconds = capSeconds;
            this.before = before;
            this.call = call;
        }

        boolean capped() {
            return capSeconds != NO_CAP && spentNanos > capSeconds * 1e9;
        }

        void warmUp() {
            long acc = 0;
            long deadline = capSeconds == NO_CAP ? Long.MAX_VALUE : System.nanoTime() + (long) (capSeconds * 0.3e9);
            for (int i = 0; i < warmup; i++) {
                if (before != null) before.run();
                acc += call.getAsInt();
                if ((i & 63) == 0 && System.nanoTime() > deadline) break;
            }
            sink += acc;
        }

        void block() {
            long acc = 0;
            long blockStart = System.nanoTime();
            for (int k = 0; k < BLOCK && n < times.length; k++) {
                if (before != null) before.run();
                long a0 = ALLOCATED.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                acc += call.getAsInt();
                times[n++] = System.nanoTime() - t0;
                allocated += ALLOCATED.getCurrentThreadAllocatedBytes() - a0;
            }
            spentNanos += System.nanoTime() - blockStart;
            sink += acc;
        }

        Row row() {
            long[] timed = Arrays.copyOf(times, n);
            Arrays.sort(timed);
            double sum = 0;
            for (long v : timed) sum += v;
            return new Row(key, label, n, pct(timed, 0.50), pct(timed, 0.99), sum / n, timed[n - 1], allocated / n);
        }
    }

    /** Warms every row up, then runs them in turns of {@link #BLOCK} calls until each has its calls or its time. */
    private static List<Row> runInterleaved(List<Spec> specs) {
        for (Spec spec : specs) spec.warmUp();
        boolean more = true;
        while (more) {
            more = false;
            for (Spec spec : specs) {
                if (spec.n < calls && !spec.capped()) {
                    spec.block();
                    more |= spec.n < calls && !spec.capped();
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Spec spec : specs) rows.add(spec.row());
        return rows;
    }

    private static long pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private record Row(String key, String label, int n, long p50, long p99, double mean, long max, long bytesPerCall) {}

    private static final class Scenario {
        final String label;
        final List<Row> rows = new ArrayList<>();

        Scenario(String label) {
            this.label = label;
        }

        void add(Row r) {
            rows.add(r);
        }

        double p50(String key) {
            for (Row r : rows) if (r.key.equals(key)) return r.p50;
            throw new IllegalStateException(key);
        }

        void print() {
            double floor = p50("ping");
            System.out.printf("%-56s %7s %10s %10s %10s %10s %8s %8s%n", "call (" + label + " target)", "n", "p50 us",
                    "p99 us", "mean us", "max us", "p50/ping", "B/call");
            for (Row r : rows) {
                System.out.printf("%-56s %7d %10.1f %10.1f %10.1f %10.1f %8.2f %8d%n", r.label, r.n, r.p50 / 1e3,
                        r.p99 / 1e3, r.mean / 1e3, r.max / 1e3, r.p50 / floor, r.bytesPerCall);
            }
        }
    }

    // ---- targets ----

    private abstract static class Target {
        final String label;
        final String recurser;
        Thread thread;
        volatile int tid;
        final CountDownLatch ready = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);

        Target(String label, String recurser) {
            this.label = label;
            this.recurser = recurser;
        }

        /** Starts the thread; it waits for {@link #start} before it touches the library. */
        void spawn() {
            thread = new Thread(() -> {
                try {
                    if (!released.await(600, TimeUnit.SECONDS)) return;
                } catch (InterruptedException e) {
                    return;
                }
                tid = Stacktrace.currentNativeThreadId();
                ready.countDown();
                body();
            }, "bench-" + label);
            thread.setDaemon(true);
            thread.start();
        }

        void start() throws Exception {
            if (thread == null) spawn();
            released.countDown();
            if (!ready.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("target did not start");
            awaitArrival();
        }

        /** Waits until the target is inside its deepest frame. */
        void awaitArrival() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                List<StackEntry> s = Stacktrace.getNativeThreadStack(tid, 100, true);
                if (arrived(s)) break;
                if (System.nanoTime() > deadline) throw new IllegalStateException("target never reached depth "
                        + depth + ":\n" + Stacktrace.format(s));
                Thread.sleep(5);
            }
            Thread.sleep(50);
        }

        boolean arrived(List<StackEntry> stack) {
            return count(stack, recurser) >= depth - 1;
        }

        abstract void body();

        abstract void stop() throws Exception;
    }

    /** The java-deep target of a JVM the library was attached to: a thread that was running all along. */
    private static final class AttachedTarget extends Target {
        AttachedTarget(Thread running) {
            super("java-deep-attached", "descendJava");
            thread = running;
        }

        @Override
        void start() throws Exception {
            tid = Stacktrace.nativeThreadId(thread);
            awaitArrival();
        }

        @Override
        boolean arrived(List<StackEntry> stack) {
            return count(stack, "descendJava") >= depth - 2;
        }

        @Override
        void body() {
            throw new UnsupportedOperationException("runs in its own JVM's thread");
        }

        @Override
        void stop() {
            // the JVM ends after the measurement
        }
    }

    /** Blocked in read(2) on a pipe, about 30 native frames deep. */
    private static final class BlockedTarget extends Target {
        final int[] fds = new int[2];

        BlockedTarget() {
            super("blocked", "descend_read");
            if (TestNative.stt_pipe(fds) != 0) throw new IllegalStateException("pipe failed");
        }

        @Override
        void body() {
            TestNative.stt_recurse_then_read(depth, fds[0]);
        }

        @Override
        void stop() throws Exception {
            TestNative.stt_write(fds[1], new byte[] {1}, 1);
            thread.join(5_000);
            TestNative.stt_close(fds[0]);
            TestNative.stt_close(fds[1]);
        }
    }

    /** Spinning in native code, about 30 native frames deep. */
    private static final class SpinningTarget extends Target {
        SpinningTarget() {
            super("spinning", "descend_spin");
        }

        @Override
        void start() throws Exception {
            TestNative.stt_start_spinning();
            super.start();
        }

        @Override
        void body() {
            TestNative.stt_recurse_then_spin(depth, 600_000);
        }

        @Override
        void stop() throws Exception {
            TestNative.stt_stop_spinning();
            thread.join(5_000);
        }
    }

    /**
     * Context only: a Java thread spinning in JIT-compiled Java code, the case where the JVM's own
     * stack walk must wait for the thread to reach a safepoint poll. The native-only rows (raw,
     * names) stop at the first JIT frame here; the mixed rows walk the Java frames too.
     */
    private static final class JavaSpinningTarget extends Target {
        private volatile boolean running = true;
        private final long startNanos = System.nanoTime();

        JavaSpinningTarget() {
            super("java-spin", "spinJava");
        }

        @Override
        boolean arrived(List<StackEntry> stack) {
            return System.nanoTime() - startNanos > TimeUnit.MILLISECONDS.toNanos(500);  // C2 has compiled it
        }

        @Override
        void body() {
            long x = 1;
            while (running) x = spinJava(x);
            sink += x;
        }

        private static long spinJava(long x) {
            for (int i = 0; i < 1_000_000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
            return x;
        }

        @Override
        void stop() throws Exception {
            running = false;
            thread.join(5_000);
        }
    }

    /**
     * The mixed-mode target: ~30 Java frames (a recursion, then a loop in compiled code) over the
     * ~10 native frames of a thread's start. Thread.getStackTrace must reach it at a safepoint poll.
     */
    private static final class DeepJavaTarget extends Target {
        private volatile boolean running = true;
        private long startNanos;

        @Override
        void start() throws Exception {
            startNanos = System.nanoTime();
            super.start();
        }

        DeepJavaTarget(String label) {
            super(label, "descendJava");
        }

        @Override
        boolean arrived(List<StackEntry> stack) {
            return count(stack, "descendJava") >= depth - 2 && System.nanoTime() - startNanos > TimeUnit.MILLISECONDS.toNanos(500);
        }

        @Override
        void body() {
            sink += descendJava(depth);
        }

        private long descendJava(int level) {
            if (level > 1) return descendJava(level - 1) + 1;
            long x = 1;
            while (running) x = JavaSpinningTarget.spinJava(x);
            return x;
        }

        @Override
        void stop() throws Exception {
            running = false;
            thread.join(5_000);
        }
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--calls" -> calls = Integer.parseInt(args[++i]);
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--max-seconds" -> maxSeconds = Double.parseDouble(args[++i]);
                case "--target" -> targets = args[++i];
                case "--print-stack" -> printStack = true;
                default -> {
                    System.err.println("usage: NativeStackBenchmark [--warmup N] [--calls N] [--depth N] "
                            + "[--max-seconds S] [--target blocked|spinning|both|java-spin|java-deep|java-deep-old|java-deep-attached|all[,...]] "
                            + "[--print-stack]");
                    System.exit(2);
                }
            }
        }
        if (calls < 1 || warmup < 0 || depth < 2) throw new IllegalArgumentException("bad arguments");
    }
}
