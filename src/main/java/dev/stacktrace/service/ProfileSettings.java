package dev.stacktrace.service;

import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How the service profiles: the mode and the interval, as every adapter takes them (agent options,
 * the CLI's flags, the MBean's arguments). The rules live here once: the mode names, the interval's
 * bounds, and the messages that name the option the user wrote.
 */
public record ProfileSettings(Profiler.Mode mode, Duration interval) {
    /** The interval the agent and the CLI use when none is given: 100 samples a second. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(10);
    /** The shortest sampling interval accepted. */
    public static final Duration MIN_INTERVAL = Profiler.MIN_INTERVAL;
    /** The longest sampling interval accepted: longer ones are surely a mistake (and would make stop wait). */
    public static final Duration MAX_INTERVAL = Profiler.MAX_INTERVAL;

    public ProfileSettings {
        Objects.requireNonNull(mode, "mode");
        checkInterval(Objects.requireNonNull(interval, "interval"), "interval");
    }

    /** cpu or wall, as users write it. */
    public String modeName() {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    /** The mode names with what they mean, for messages. */
    public static final String MODES = "cpu (running threads, per CPU time) or wall (every thread, per wall-clock time)";

    /**
     * A mode by its name, cpu or wall in any case.
     *
     * @param option how the user gave it (--mode, mode), for the message
     */
    public static Profiler.Mode mode(String name, String option) {
        Profiler.Mode mode = modeOrNull(name);
        if (mode == null) throw new IllegalArgumentException(option + " must be " + MODES + ", not '" + name + "'");
        return mode;
    }

    /** A mode by its name, cpu or wall in any case; null for anything else. */
    public static Profiler.Mode modeOrNull(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> Profiler.Mode.CPU;
            case "wall" -> Profiler.Mode.WALL;
            default -> null;
        };
    }

    /** An interval as people write it (10ms, 500us, 2s), within the bounds. */
    public static Duration interval(String text, String option) {
        return checkInterval(DurationText.parse(text), option);
    }

    /** Milliseconds as a JMX client passes them: a finite number, within the bounds. */
    public static Duration intervalMillis(double millis, String option) {
        if (!Double.isFinite(millis)) throw outOfRange(option, Double.toString(millis));
        if (millis > MAX_INTERVAL.toMillis() * 2.0) throw outOfRange(option, millis + " ms");  // no overflow below
        Duration interval = Duration.ofNanos(Math.round(millis * 1_000_000));
        if (!within(interval)) throw outOfRange(option, millis + " ms");
        return interval;
    }

    /** The interval, if it is from {@link #MIN_INTERVAL} to {@link #MAX_INTERVAL}. */
    public static Duration checkInterval(Duration interval, String option) {
        if (!within(interval)) throw outOfRange(option, DurationText.format(interval));
        return interval;
    }

    private static boolean within(Duration interval) {
        return Profiler.allowsInterval(interval);
    }

    private static IllegalArgumentException outOfRange(String option, String shown) {
        return new IllegalArgumentException(option + " must be from 100us to 60s (0.1 to 60000 ms; 10ms gives 100 "
                + "samples a second), not " + shown);
    }
}
