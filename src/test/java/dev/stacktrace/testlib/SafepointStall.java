package dev.stacktrace.testlib;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child JVM that cannot reach a safepoint: one thread runs a C2-compiled counted loop nest that
 * has no safepoint poll ({@link #JVM_FLAGS}), another then calls {@code System.gc()}, and the VM
 * waits for the spinner with every other Java thread stopped: a parked thread, a sleeping thread, a
 * thread blocked in native read(2) (via TestNative) and a heartbeat thread that bumps a native
 * counter through JNI every 5 ms. A native watchdog pthread (src/test/native/safepoint_stall.cpp),
 * which no safepoint stops, prints {@code STALLED pid=<pid> ...} once the heartbeat has been quiet for
 * 1 s and {@code RESUMED ...} when it beats again. The spinner checks the clock (an
 * intrinsic, no poll) every ~50 ms and ends at the deadline (args[0] seconds from start, default 30,
 * at most 120); then the GC completes and the child exits 0.
 *
 * <p>From a test: {@code try (var c = SafepointStall.launch(Duration.ofSeconds(20))) { long pid =
 * c.awaitStalled(Duration.ofSeconds(30)); ... }}. Other lines printed: {@code SPINNER tid=<tid>},
 * {@code HELD parked=<thread name> ...}, {@code SAFEPOINT_REQUEST
 * mono_ms=...}, {@code GC_DONE ...}, {@code DONE ...}. (mono_ms: CLOCK_MONOTONIC in ms, in all lines.)
 */
public final class SafepointStall {
    /** What the child needs: no safepoint polls in counted loops (which also turns off loop strip mining). */
    public static final List<String> JVM_FLAGS = List.of("-XX:-UseCountedLoopSafepoints", "-XX:LoopStripMiningIter=0",
            "-Xmx256m");

    private static final int INNER = 1 << 24;
    private static volatile int sink;
    private static volatile boolean spinning;

    private SafepointStall() {}

    static native void beat();

    static native long monoMillis();

    static native int tid();

    static native int startWatchdog(int quietMillis, int maxMillis);

    /**
     * The loop nest: two counted int loops with no call (System.nanoTime is an intrinsic) and no
     * allocation, so C2 puts no poll in them. Ends after {@code outer} rounds or at {@code deadline}.
     */
    public static int spin(int outer, int inner, long deadline) {
        int acc = 1;
        for (int j = 0; j < outer; j++) {
            for (int i = 0; i < inner; i++) {
                acc = (acc ^ i) * 0x9E3779B1 + (acc >>> 13);
            }
            if (System.nanoTime() - deadline > 0) break;
        }
        return acc;
    }

    public static void main(String[] args) throws Exception {
        int seconds = Math.min(120, args.length > 0 ? Integer.parseInt(args[0]) : 30);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        JniCallbacks.loadLibrary();

        // Compile spin() with C2 (outer varies, so no branch looks never-taken), and give the
        // compiler time to finish.
        for (int k = 0; k < 3000; k++) sink += spin(2 + (k & 3), 2000, deadline);
        Thread.sleep(500);

        Thread parked = daemon("stall-parked", () -> {
            while (System.nanoTime() < deadline) LockSupport.parkNanos(deadline - System.nanoTime());
        });
        Thread sleeping = daemon("stall-sleeping", () -> {
            try {
                Thread.sleep(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException ignored) {
                // ends
            }
        });
        Pipe pipe = new Pipe();  // never written: the reader holds until the process exits
        Thread reading = daemon("stall-reading", () -> TestNative.stt_recurse_then_read(3, pipe.readFd()));
        Thread heartbeat = daemon("stall-heartbeat", () -> {
            while (System.nanoTime() - deadline < 5_000_000_000L) {  // outlives the stall: RESUMED
                beat();
                LockSupport.parkNanos(5_000_000);
            }
        });
        Thread.sleep(50);
        if (startWatchdog(1000, seconds * 1000 + 5000) != 0) throw new IllegalStateException("watchdog not started");

        Thread spinner = new Thread(() -> {
            System.out.println("SPINNER tid=" + tid());
            spinning = true;
            sink += spin(Integer.MAX_VALUE, INNER, deadline);  // no safepoint until the deadline
        }, "stall-spinner");
        spinner.setDaemon(true);
        spinner.start();

        Thread requester = daemon("stall-requester", () -> {
            while (!spinning) Thread.onSpinWait();
            LockSupport.parkNanos(200_000_000);
            System.out.println("SAFEPOINT_REQUEST mono_ms=" + monoMillis());
            System.gc();
            System.out.println("GC_DONE mono_ms=" + monoMillis());
        });
        System.out.printf("HELD parked=%s sleeping=%s reading=%s heartbeat=%s requester=%s%n",
                parked.getName(), sleeping.getName(), reading.getName(), heartbeat.getName(), requester.getName());
        spinner.join(seconds * 1000L + 30_000);
        requester.join(10_000);
        Thread.sleep(100);  // lets the watchdog see the heartbeat again
        System.out.println("DONE mono_ms=" + monoMillis() + " spinner_alive=" + spinner.isAlive());
        System.exit(spinner.isAlive() ? 1 : 0);
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A running stall child; {@link #close()} kills it if it is still running. */
    public static final class Child implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> seen = new ArrayList<>();

        Child(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) lines.add(l);
                } catch (IOException ignored) {
                    // the child is gone
                }
            }, "stall-child-reader");
            reader.setDaemon(true);
            reader.start();
        }

        public Process process() {
            return process;
        }

        public long pid() {
            return process.pid();
        }

        /** Waits for the first line starting with {@code prefix}; every line read so far is kept in {@link #output()}. */
        public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (String s : seen) if (s.startsWith(prefix)) return s;
            while (true) {
                String l = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null) throw new AssertionError("no line " + prefix + " in " + timeout + "; output: " + seen);
                seen.add(l);
                if (l.startsWith(prefix)) return l;
            }
        }

        /** Waits until the child reports the stall; returns its pid. */
        public long awaitStalled(Duration timeout) throws InterruptedException {
            awaitLine("STALLED pid=", timeout);
            return pid();
        }

        public List<String> output() {
            lines.drainTo(seen);
            return List.copyOf(seen);
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /** Starts the child JVM (same JDK and classpath, {@link #JVM_FLAGS}) that stalls for about {@code spin}. */
    public static Child launch(Duration spin) throws IOException {
        return launch(spin, SafepointStall.class, List.of());
    }

    /** The same with another main class (which ends by calling {@link #main}) and more JVM options. */
    public static Child launch(Duration spin, Class<?> mainClass, List<String> jvmArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(JVM_FLAGS);
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName(),
                Long.toString(Math.max(1, spin.toSeconds()))));
        return new Child(new ProcessBuilder(command).redirectErrorStream(true).start());
    }
}
