package dev.stacktrace.bench;

import dev.stacktrace.internal.binding.LibStacktrace;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.stacks.StackResolver;
import dev.stacktrace.testlib.JitChurn;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * Samples a JIT-heavy thread (methods compiled, deoptimized, recompiled; hidden classes defined and
 * dropped) N times with the mixed walker, and reports what happened: nothing may crash or hang, and
 * a resolved stack must always reach the thread's start. Run by bench/jit-stress.sh (a million
 * samples) and, shorter, by JitStressTest.
 *
 * <p>Prints one summary line starting with "RESULT" that the test reads.
 */
public final class JitStress {
    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int resolveEvery = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        NativeCapture capture = NativeCapture.get();
        if (capture.javaFramesUnavailable() != null) throw new IllegalStateException(capture.javaFramesUnavailable());
        try (JitChurn churn = JitChurn.start("jit-churn", Duration.ofHours(1))) {
            Thread.sleep(500);  // let it compile something first
            int tid = Stacktrace.nativeThreadId(churn.thread());
            long[] info = new long[LibStacktrace.MIXED_INFO_WORDS];
            TreeMap<Long, Integer> agct = new TreeMap<>();
            TreeMap<Long, Integer> ends = new TreeMap<>();
            long[] handlerNs = new long[samples];
            long frames = 0, javaFrames = 0, errors = 0, resolved = 0, resolvedToBottom = 0, fromCache = 0;
            long start = System.nanoTime();
            for (int i = 0; i < samples; i++) {
                long[] words;
                try {
                    words = capture.captureMixed(tid, 256, info);
                } catch (RuntimeException e) {
                    errors++;
                    continue;
                }
                agct.merge(info[0] > 0 ? 1L : info[0], 1, Integer::sum);
                ends.merge(info[1], 1, Integer::sum);
                handlerNs[i] = info[5];
                fromCache += info[7];
                frames += words.length / 5;
                for (int w = 0; w < words.length; w += 5) if (words[w] >= 1 && words[w] <= 4) javaFrames++;
                if (resolveEvery > 0 && i % resolveEvery == 0) {
                    List<StackEntry> stack = StackResolver.mixedStack(words, 256, true, false);
                    resolved++;
                    if (!stack.isEmpty() && stack.get(stack.size() - 1).name().startsWith("clone")) resolvedToBottom++;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            JitChurn.Stats stats = churn.stop();
            long[] sorted = Arrays.stream(handlerNs).filter(v -> v > 0).sorted().toArray();
            long ok = ends.getOrDefault(0L, 0);
            System.out.printf("java %s, %d samples in %.1f s (%.0f/s), churn: %d rounds, %d hidden classes, %d CHA classes%n",
                    Runtime.version(), samples, seconds, samples / seconds, stats.rounds(), stats.hiddenClasses(),
                    stats.chaClasses());
            System.out.printf("handler time in the target: p50 %.1f us, p99 %.1f us, max %.1f us%n",
                    sorted[sorted.length / 2] / 1e3, sorted[(int) (sorted.length * 0.99)] / 1e3, sorted[sorted.length - 1] / 1e3);
            System.out.printf("frames per sample: %.1f (Java %.1f)%n", (double) frames / samples, (double) javaFrames / samples);
            System.out.println("AsyncGetCallTrace result (1 = frames, else its error code): " + agct);
            System.out.printf("inlined methods from the inlining cache (AsyncGetCallTrace not asked): %.1f%% of samples%n",
                    100.0 * fromCache / samples);
            System.out.println("walk end (0 = reached the thread's start, <0 = stopped early): " + ends);
            System.out.printf("RESULT samples=%d errors=%d walkedToBottom=%d resolved=%d resolvedToBottom=%d%n",
                    samples, errors, ok, resolved, resolvedToBottom);
        }
    }
}
