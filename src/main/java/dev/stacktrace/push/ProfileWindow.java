package dev.stacktrace.push;

import dev.stacktrace.StackEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The samples of one push interval: each distinct stack (innermost frame first) with the samples
 * it gained from {@code from} to {@code until}, taken every {@code period} in {@code mode}.
 *
 * @param mode "cpu" or "wall"
 */
public record ProfileWindow(Map<List<StackEntry>, Long> stacks, Instant from, Instant until, String mode,
                            Duration period) {
    public ProfileWindow {
        stacks = Map.copyOf(stacks);
    }

    public long sampleCount() {
        return stacks.values().stream().mapToLong(Long::longValue).sum();
    }
}
