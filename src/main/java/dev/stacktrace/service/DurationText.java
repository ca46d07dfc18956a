package dev.stacktrace.service;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them: 10ms, 500us, 2s, 1m (a bare number is milliseconds). */
public final class DurationText {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m)?");

    private DurationText() {}

    public static Duration parse(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration such as 10ms, 500us, 2s or 1m");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        double nanos = amount * switch (unit) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> 60e9;
        };
        return Duration.ofNanos(Math.round(nanos));
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
