package dev.stacktrace.agent;

import java.math.BigDecimal;
import java.time.Duration;

/** Durations as people write them: 10ms, 500us, 2s, 1m (a bare number is milliseconds). */
public final class Durations {
    private Durations() {}

    public static Duration parse(String text) {
        return AgentOptions.duration(text, null);
    }

    /** The way {@link #parse} reads it, in the largest unit that keeps it short: 500us, 10ms, 2.5ms, 2s, 1.5s, 5m. */
    public static String format(Duration d) {
        if (d.isNegative()) return "-" + format(d.negated());
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException e) {
            return d.toMinutes() + "m";
        }
        if (nanos == 0) return "0ms";
        if (nanos >= 60_000_000_000L && nanos % 60_000_000_000L == 0) return nanos / 60_000_000_000L + "m";
        if (nanos >= 1_000_000_000L) return decimal(nanos, 9) + "s";
        if (nanos >= 1_000_000L) return decimal(nanos, 6) + "ms";
        if (nanos >= 1_000L) return decimal(nanos, 3) + "us";
        return nanos + "ns";
    }

    private static String decimal(long nanos, int scale) {
        return BigDecimal.valueOf(nanos, scale).stripTrailingZeros().toPlainString();
    }
}
