package dev.stacktrace.bench;

import dev.stacktrace.internal.binding.LibStacktrace;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Where a sample's time goes on the overhead benchmark's workload: runs
 * {@link OverheadWorkload}'s workers and takes N mixed stacks of one of them through the capture
 * path ({@code NativeCapture.captureMixed}), which runs the same walk in the target's signal
 * handler as the profiler's timer signal does, and reports the walk's own timings: the whole walk,
 * AsyncGetCallTrace, and the native unwinder's steps below entry frames; plus the bare signal round
 * trip ({@code ping}) for scale.
 *
 * <pre>
 *   java -cp ... dev.stacktrace.bench.OverheadProbe [samples] [mix: both|java|native]
 * </pre>
 */
public final class OverheadProbe {
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        String mix = args.length > 1 ? args[1] : "both";
        NativeCapture capture = NativeCapture.get();
        if (capture.javaFramesUnavailable() != null) throw new IllegalStateException(capture.javaFramesUnavailable());
        Thread[] workers = OverheadWorkload.startWorkers(1, mix);
        Thread.sleep(3000);  // compiled, steady
        int tid = Stacktrace.nativeThreadId(workers[0]);
        long[] info = new long[LibStacktrace.MIXED_INFO_WORDS];
        long[] walk = new long[samples], agct = new long[samples], unwind = new long[samples], ping = new long[samples];
        TreeMap<Long, Integer> ends = new TreeMap<>();
        long frames = 0;
        for (int i = 0; i < samples; i++) {
            long[] words = capture.captureMixed(tid, 256, info);
            frames += words.length / 5;
            ends.merge(info[1], 1, Integer::sum);
            agct[i] = info[4];
            walk[i] = info[5];
            unwind[i] = info[6];
            long t0 = System.nanoTime();
            capture.ping(tid);
            ping[i] = System.nanoTime() - t0;
            if ((i & 15) == 0) Thread.sleep(0, 200_000);  // leave the worker mostly undisturbed
        }
        OverheadWorkload.stopWorkers(workers);
        System.out.printf("OverheadProbe: java %s, mix %s, %d samples of one busy worker, %.1f frames a sample%n",
                Runtime.version(), mix, samples, (double) frames / samples);
        print("walk in handler (whole)", walk);
        print("  of which AsyncGetCallTrace", agct);
        print("  of which native steps below entry frames", unwind);
        print("ping round trip (requester)", ping);
        System.out.println("walk end (0 = reached the thread's start): " + ends);
    }

    private static void print(String what, long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        double mean = Arrays.stream(s).average().orElse(0);
        System.out.printf("%-40s mean %7.1f us  p50 %7.1f  p90 %7.1f  p99 %7.1f  max %8.1f%n", what, mean / 1e3,
                s[s.length / 2] / 1e3, s[(int) (s.length * 0.9)] / 1e3, s[(int) (s.length * 0.99)] / 1e3,
                s[s.length - 1] / 1e3);
    }
}
