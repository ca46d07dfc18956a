package dev.stacktrace.bench;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.testlib.JitChurn;
import dev.stacktrace.testlib.Pipe;
import dev.stacktrace.testlib.ProcessStatus;
import dev.stacktrace.testlib.TestNative;
import dev.stacktrace.tools.Profiler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak: the sampler at 1 ms (cpu and wall mode, stopped and restarted every few seconds with
 * another table size) plus on-demand mixed stacks from 4 requesters, against a workload with Java
 * and pure-native thread churn, class loading and unloading, deoptimization, GC pressure (run it
 * with a small heap) and threads that block the signal. Prints what happened; exits 1 when
 * something that must never happen did (a false SIGNAL_BLOCKED, a failure of an unexpected kind,
 * the signal queue growing). Crashes and hangs are for the caller to see (exit code, watchdog).
 *
 * <p>Arguments: seconds [restart-seconds]. See bench/soak.sh.
 */
public final class Soak {
    static volatile boolean running = true;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        int restartSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int signal = NativeCapture.get().signal();
        long rssBefore = ProcessStatus.rssKib();
        int sigqBefore = ProcessStatus.queuedSignals();

        Set<Thread> targets = ConcurrentHashMap.newKeySet();
        List<Thread> blockers = new ArrayList<>();
        Set<Integer> blockerTids = ConcurrentHashMap.newKeySet();
        List<Thread> background = new ArrayList<>();
        AtomicLong javaThreads = new AtomicLong();

        // threads that block the signal, for the whole run
        List<Pipe> pipes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Pipe pipe = new Pipe();
            pipes.add(pipe);
            Thread t = new Thread(() -> {
                blockerTids.add(Stacktrace.currentNativeThreadId());
                TestNative.stt_read_with_signal_blocked(signal, pipe.readFd());
            }, "soak-blocker-" + i);
            t.setDaemon(true);
            t.start();
            blockers.add(t);
        }
        // GC pressure
        background.add(daemon("soak-garbage", () -> {
            List<byte[]> keep = new ArrayList<>();
            while (running) {
                keep.add(new byte[ThreadLocalRandom.current().nextInt(64, 64 * 1024)]);
                if (keep.size() > 200) keep.subList(0, 100).clear();
            }
        }));
        // Java thread churn: short-lived threads, a couple of hundred a second
        background.add(daemon("soak-java-churn", () -> {
            while (running) {
                for (int i = 0; i < 20; i++) {
                    Thread t = new Thread(() -> recurseAndSleep(10 + ThreadLocalRandom.current().nextInt(20)), "soak-short");
                    t.setDaemon(true);
                    targets.add(t);
                    t.start();
                    javaThreads.incrementAndGet();
                }
                targets.removeIf(t -> t.getState() == Thread.State.TERMINATED && t.getName().equals("soak-short"));
                sleep(100);
            }
        }));
        // pure native thread churn, the JVM never sees these
        AtomicLong nativeThreads = new AtomicLong();
        background.add(daemon("soak-native-churn", () -> {
            while (running) {
                nativeThreads.addAndGet(TestNative.stt_spawn_native_threads(20));
                sleep(100);
            }
        }));
        // compiled code made and thrown away, classes loaded and unloaded
        JitChurn churn = JitChurn.start("soak-jit", Duration.ofSeconds(seconds + 5));
        targets.addAll(background);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("soak-jit")) targets.add(t);
        }

        // the pending-signal high-water mark (SigQ counts every process of this user)
        int[] sigqHigh = {sigqBefore};
        background.add(daemon("soak-sigq", () -> {
            while (running) {
                try {
                    sigqHigh[0] = Math.max(sigqHigh[0], ProcessStatus.queuedSignals());
                } catch (IOException e) {
                    return;
                }
                sleep(10);
            }
        }));

        // 4 requesters of mixed stacks
        Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
        AtomicLong requests = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        List<Thread> requesters = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            requesters.add(daemon("soak-requester-" + r, () -> {
                while (running) {
                    // now and then a thread that blocks the signal (each costs a timeout), mostly the others
                    Thread[] all = ThreadLocalRandom.current().nextInt(20) == 0 ? blockers.toArray(new Thread[0])
                            : targets.toArray(new Thread[0]);
                    if (all.length == 0) continue;
                    Thread target = all[ThreadLocalRandom.current().nextInt(all.length)];
                    int tid;
                    try {
                        tid = Stacktrace.nativeThreadId(target);
                    } catch (RuntimeException e) {
                        continue;  // not started yet, or gone
                    }
                    requests.incrementAndGet();
                    try {
                        Stacktrace.getNativeThreadStack(tid, 128, true);
                        ok.incrementAndGet();
                    } catch (StacktraceException e) {
                        String reason = e.reason().toString();
                        if (e.reason() == StacktraceException.Reason.SIGNAL_BLOCKED && !blockerTids.contains(tid)) {
                            reason = "FALSE_SIGNAL_BLOCKED";
                        }
                        failures.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
                    }
                }
            }));
        }

        // the profiler, restarted with other settings every few seconds
        int[] tables = {1024, 16384, 256, 65536, 4096};
        long cpuSamples = 0;
        long wallSamples = 0;
        long walks = 0;
        long tableReads = 0;
        int restarts = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            Profiler.Mode mode = restarts % 2 == 0 ? Profiler.Mode.CPU : Profiler.Mode.WALL;
            Profiler p = Profiler.builder().allThreads().mode(mode).interval(Duration.ofMillis(1))
                    .tableSize(tables[restarts % tables.length]).build().start();
            long stopAt = Math.min(end, System.nanoTime() + TimeUnit.SECONDS.toNanos(restartSeconds));
            while (System.nanoTime() < stopAt) {
                Thread.sleep(Math.max(1, Math.min(500, TimeUnit.NANOSECONDS.toMillis(stopAt - System.nanoTime()))));
                p.getStacks();  // reads the table while it is written
                tableReads++;
            }
            p.close();
            walks += NativeSampler.counters().walks();
            if (mode == Profiler.Mode.CPU) cpuSamples += p.sampleCount();
            else wallSamples += p.sampleCount();
            restarts++;
        }

        running = false;
        for (Thread t : requesters) t.join(10_000);
        churn.stop();
        for (Thread t : background) t.join(10_000);
        for (Pipe pipe : pipes) pipe.write(new byte[] {1});
        Thread.sleep(200);
        pipes.forEach(Pipe::close);
        System.gc();
        Thread.sleep(200);
        long rssAfter = ProcessStatus.rssKib();
        int sigqAfter = ProcessStatus.queuedSignals();

        long failed = failures.values().stream().mapToLong(AtomicLong::get).sum();
        System.out.printf("soak: JDK %d, %d s, samples %d (cpu %d, wall %d), stacks walked by the handler %d, "
                + "profiler restarts %d, table reads %d%n", Runtime.version().feature(), seconds, cpuSamples + wallSamples,
                cpuSamples, wallSamples, walks, restarts, tableReads);
        System.out.printf("soak: requests %d, ok %d, failed %d %s%n", requests.get(), ok.get(), failed, failures);
        System.out.printf("soak: threads started: java %d, native %d%n", javaThreads.get(), nativeThreads.get());
        System.out.printf("soak: pending signals (SigQ, this user): before %d, high-water %d (+%d), after %d%n",
                sigqBefore, sigqHigh[0], sigqHigh[0] - sigqBefore, sigqAfter);
        System.out.printf("soak: RSS before %d kB, after %d kB%n", rssBefore, rssAfter);
        boolean fine = cpuSamples + wallSamples > 0 && ok.get() > 0
                && failures.keySet().stream().allMatch(r -> Set.of("TIMEOUT", "BUSY", "NO_SUCH_THREAD", "SIGNAL_BLOCKED").contains(r))
                && sigqHigh[0] - sigqBefore <= 1000;
        System.out.println(fine ? "soak: PASS" : "soak: FAIL");
        System.exit(fine ? 0 : 1);
    }

    private static void recurseAndSleep(int depth) {
        if (depth > 0) {
            recurseAndSleep(depth - 1);
            return;
        }
        sleep(2 + ThreadLocalRandom.current().nextInt(10));
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
