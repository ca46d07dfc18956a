package dev.stacktrace;

import dev.stacktrace.internal.labels.LabelSets;
import dev.stacktrace.internal.labels.ThreadLabels;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * Labels for the work of the current thread: every profiling sample taken while they are set
 * carries them, so one profile splits by endpoint, tenant or job.
 *
 * <pre>{@code
 * Labels.run(Map.of("endpoint", "/checkout"), () -> checkout(cart));
 * Receipt r = Labels.call(Map.of("endpoint", "/pay"), () -> pay(cart));
 * try (Labels.Scope scope = Labels.with(Map.of("tenant", "acme"))) {
 *     ...
 * }
 * }</pre>
 *
 * Labels nest: inner labels add to the outer ones (an inner value replaces the outer value of the
 * same key), and the outer labels are back when the inner scope ends. They belong to the thread
 * that set them; other threads, including those it starts, do not see them.
 *
 * <p>Bounded, because the sampler stores each distinct set as a small number: at most
 * {@value #MAX_KEYS} distinct keys and {@value #MAX_SETS} distinct label sets in the life of the
 * JVM, keys and values at most {@value #MAX_LENGTH} characters. Past these, setting labels throws
 * {@link IllegalStateException} (too many) or {@link IllegalArgumentException} (a bad key or
 * value), and the thread's labels stay as they were. Use values from a small set (an endpoint's
 * route, not its URL with ids).
 *
 * <p>Setting labels is cheap (a map lookup and one store into memory the sampler reads; no native
 * call once the thread has set labels before). Labels of a virtual thread are kept but not
 * attached to samples.
 */
public final class Labels {
    public static final int MAX_KEYS = LabelSets.MAX_KEYS;
    public static final int MAX_SETS = LabelSets.MAX_SETS;
    public static final int MAX_LENGTH = LabelSets.MAX_LENGTH;

    private Labels() {}

    /** Runs {@code body} with these labels added to the current thread's; restores them after. */
    public static void run(Map<String, String> labels, Runnable body) {
        Objects.requireNonNull(body, "body");
        try (Scope scope = with(labels)) {
            body.run();
        }
    }

    /** Calls {@code body} with these labels added to the current thread's; restores them after. */
    public static <T> T call(Map<String, String> labels, Callable<T> body) throws Exception {
        Objects.requireNonNull(body, "body");
        try (Scope scope = with(labels)) {
            return body.call();
        }
    }

    /**
     * Adds these labels to the current thread's until the returned scope is closed, which restores
     * the labels set before. Close it on the same thread, in a try-with-resources block.
     */
    public static Scope with(Map<String, String> labels) {
        Objects.requireNonNull(labels, "labels");
        ThreadLabels thread = ThreadLabels.current();
        int previous = thread.id();
        int id = thread.remembered(labels, previous);
        if (id < 0) {
            Map<String, String> merged;
            if (previous == 0) {
                merged = labels;
            } else {
                merged = new HashMap<>(LabelSets.labels(previous));
                merged.putAll(labels);
            }
            id = LabelSets.idOf(merged);  // throws past the bounds, before anything changed
            thread.remember(labels, previous, id);
        }
        thread.set(id);
        return new Scope(thread, previous, id);
    }

    /** The current thread's labels (empty when none), sorted by key. */
    public static Map<String, String> current() {
        return LabelSets.labels(ThreadLabels.current().id());
    }

    /** Labels set by {@link #with(Map)}, until closed. */
    public static final class Scope implements AutoCloseable {
        private final ThreadLabels thread;
        private final Thread owner = Thread.currentThread();
        private final int previous;
        private final int id;
        private boolean closed;

        private Scope(ThreadLabels thread, int previous, int id) {
            this.thread = thread;
            this.previous = previous;
            this.id = id;
        }

        /** The labels this scope set (its own and those it nests in). */
        public Map<String, String> labels() {
            return LabelSets.labels(id);
        }

        /** Restores the labels set before this scope; a second close does nothing. */
        @Override
        public void close() {
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("a Labels scope must be closed by the thread that opened it ("
                        + owner.getName() + "), not " + Thread.currentThread().getName());
            }
            if (closed) return;
            closed = true;
            thread.set(previous);
        }
    }
}
