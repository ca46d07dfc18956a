package dev.stacktrace.bench;

import dev.stacktrace.Labels;
import java.util.Map;

/**
 * What a {@link Labels#run} costs the calling thread: nanoseconds per call around an empty body, with
 * a label set seen before (the steady state) and nested in an outer set. Prints figures; no JMH.
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) dev.stacktrace.bench.LabelsCost}
 */
public final class LabelsCost {
    private static int sink;

    private LabelsCost() {}

    public static void main(String[] args) {
        Map<String, String> labels = Map.of("endpoint", "/checkout");
        Map<String, String> inner = Map.of("step", "pay");
        Runnable body = () -> sink++;
        for (int round = 0; round < 5; round++) {
            long n = 2_000_000;
            long t0 = System.nanoTime();
            for (long i = 0; i < n; i++) Labels.run(labels, body);
            long t1 = System.nanoTime();
            try (Labels.Scope outer = Labels.with(labels)) {
                for (long i = 0; i < n; i++) Labels.run(inner, body);
            }
            long t2 = System.nanoTime();
            for (long i = 0; i < n; i++) body.run();
            long t3 = System.nanoTime();
            System.out.printf("round %d: Labels.run %.1f ns, nested in another set %.1f ns, the body alone %.1f ns%n",
                    round, (t1 - t0) / (double) n, (t2 - t1) / (double) n, (t3 - t2) / (double) n);
        }
    }
}
