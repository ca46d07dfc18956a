package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Profiler}'s counts at one moment, or between two moments of one profiler
 * ({@link #since}): each distinct stack with its samples, the mode, the interval and the time
 * covered. What the profile formats ({@link Pprof}) are written from; immutable.
 *
 * <pre>{@code
 * ProfileSnapshot before = profiler.snapshot();
 * Thread.sleep(15_000);
 * ProfileSnapshot window = profiler.snapshot().since(before);  // the last 15 s only
 * window.writePprof(out);
 * }</pre>
 */
public final class ProfileSnapshot {

    /**
     * One distinct stack (innermost frame first) with the labels its samples carried and their count.
     * The labels are empty unless samples were labelled.
     */
    public record Sample(List<StackEntry> frames, Map<String, String> labels, long count) {
        public Sample {
            frames = List.copyOf(frames);
            labels = Map.copyOf(labels);
            if (count < 0) throw new IllegalArgumentException("count must not be negative, not " + count);
        }
    }

    /** Identifies a stack across two snapshots. */
    private record Key(List<StackEntry> frames, Map<String, String> labels) {}

    private final Object session;
    private final Profiler.Mode mode;
    private final Duration interval;
    private final Instant start;
    private final Duration duration;
    private final List<Sample> samples;

    /**
     * @param session  what the counts belong to: {@link #since} only subtracts counts of the same session
     * @param start    when the time covered begins
     * @param duration how long it lasts
     */
    ProfileSnapshot(Object session, Profiler.Mode mode, Duration interval, Instant start, Duration duration,
                    List<Sample> samples) {
        this.session = Objects.requireNonNull(session, "session");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.start = Objects.requireNonNull(start, "start");
        this.duration = duration.isNegative() ? Duration.ZERO : duration;
        this.samples = List.copyOf(samples);
    }

    /** A snapshot of samples collected elsewhere (tests, converters): {@link #since} accepts only another of its own. */
    public static ProfileSnapshot of(Profiler.Mode mode, Duration interval, Instant start, Duration duration,
                                     List<Sample> samples) {
        return new ProfileSnapshot(new Object(), mode, interval, start, duration, samples);
    }

    public Profiler.Mode mode() {
        return mode;
    }

    /** The sampling interval: each sample stands for this much CPU (cpu mode) or wall-clock (wall mode) time. */
    public Duration interval() {
        return interval;
    }

    /** When the time covered begins. */
    public Instant start() {
        return start;
    }

    /** How long the time covered lasts. */
    public Duration duration() {
        return duration;
    }

    /** When the time covered ends. */
    public Instant end() {
        return start.plus(duration);
    }

    /** The distinct stacks with their counts; samples whose count is 0 are left out. */
    public List<Sample> samples() {
        return samples;
    }

    /** All samples together. */
    public long totalCount() {
        long n = 0;
        for (Sample s : samples) n += s.count();
        return n;
    }

    /**
     * The samples taken after {@code earlier} up to this snapshot, covering the time between their
     * ends. Both must come from the same profiler, {@code earlier} first.
     *
     * @throws IllegalArgumentException for snapshots of two profilers, or one taken after this one
     */
    public ProfileSnapshot since(ProfileSnapshot earlier) {
        if (earlier.session != session) {
            throw new IllegalArgumentException("the snapshots come from two profilers: counts of one cannot be "
                    + "subtracted from the other's");
        }
        if (earlier.end().isAfter(end())) {
            throw new IllegalArgumentException("the earlier snapshot (ending " + earlier.end() + ") was taken after this "
                    + "one (ending " + end() + ")");
        }
        Map<Key, Long> before = new HashMap<>(earlier.samples.size() * 2);
        for (Sample s : earlier.samples) before.merge(new Key(s.frames(), s.labels()), s.count(), Long::sum);
        List<Sample> delta = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            long n = s.count() - before.getOrDefault(new Key(s.frames(), s.labels()), 0L);
            if (n > 0) delta.add(n == s.count() ? s : new Sample(s.frames(), s.labels(), n));
        }
        return new ProfileSnapshot(session, mode, interval, earlier.end(), Duration.between(earlier.end(), end()), delta);
    }

    /** Writes the snapshot as a gzip-compressed pprof profile ({@link Pprof}); {@code out} is left open. */
    public void writePprof(OutputStream out) throws IOException {
        Pprof.write(this, out);
    }

    /** The snapshot as a gzip-compressed pprof profile ({@link Pprof}). */
    public byte[] pprof() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
        try {
            writePprof(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return bytes.toByteArray();
    }
}
