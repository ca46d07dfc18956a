package dev.stacktrace.agent;

import dev.stacktrace.service.DurationText;
import java.time.Duration;

/** Durations as people write them: 10ms, 500us, 2s, 1m (a bare number is milliseconds); see {@link DurationText}. */
public final class Durations {
    private Durations() {}

    public static Duration parse(String text) {
        return text == null ? null : DurationText.parse(text);
    }

    /** The way {@link #parse} reads it, in the largest unit that keeps it short: 500us, 10ms, 2.5ms, 2s, 1.5s, 5m. */
    public static String format(Duration d) {
        return DurationText.format(d);
    }
}
