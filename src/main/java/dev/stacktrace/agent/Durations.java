package dev.stacktrace.agent;

import java.time.Duration;

/** Durations as people write them: 10ms, 500us, 2s, 1m (a bare number is milliseconds). */
public final class Durations {
    private Durations() {}

    public static Duration parse(String text) {
        return AgentOptions.duration(text, null);
    }
}
