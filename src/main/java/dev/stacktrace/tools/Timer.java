package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Takes a thread's stack at a fixed rate and hands each one to a callback, on a thread of its own:
 * {@link #join()} stops it and waits; it also stops by itself when the
 * target thread ends. Use it with try-with-resources.
 *
 * <pre>{@code
 * try (Timer t = new Timer(worker, stack -> System.out.println(stack.get(0))).start()) {
 *     Thread.sleep(1000);
 * }
 * }</pre>
 *
 * For profiles (counts over many samples, every thread, low overhead) use {@link Profiler}, which
 * samples from native timers without running Java per sample.
 */
public final class Timer implements AutoCloseable {
    /** The default: 20 samples a second. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(50);

    private final Thread target;
    private final int nativeTid;
    private final Consumer<List<StackEntry>> callback;
    private final Duration interval;
    private final int maxDepth;
    private final boolean showJvm;
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean stopping;
    private volatile Throwable failure;
    private Thread sampler;

    public Timer(Thread target, Consumer<List<StackEntry>> callback) {
        this(target, callback, DEFAULT_INTERVAL, Stacktrace.DEFAULT_MAX_DEPTH, true);
    }

    public Timer(Thread target, Consumer<List<StackEntry>> callback, Duration interval) {
        this(target, callback, interval, Stacktrace.DEFAULT_MAX_DEPTH, true);
    }

    public Timer(Thread target, Consumer<List<StackEntry>> callback, Duration interval, int maxDepth, boolean showJvm) {
        this(Objects.requireNonNull(target, "target"), 0, callback, interval, maxDepth, showJvm);
    }

    /** A thread by its OS id (jstack's nid), e.g. one that is not a Java thread. */
    public Timer(int nativeTid, Consumer<List<StackEntry>> callback, Duration interval, int maxDepth, boolean showJvm) {
        this(null, nativeTid, callback, interval, maxDepth, showJvm);
        if (nativeTid <= 0) throw new IllegalArgumentException("nativeTid must be positive, not " + nativeTid);
    }

    private Timer(Thread target, int nativeTid, Consumer<List<StackEntry>> callback, Duration interval, int maxDepth,
                  boolean showJvm) {
        this.target = target;
        this.nativeTid = nativeTid;
        this.callback = Objects.requireNonNull(callback, "callback");
        this.interval = Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, not " + interval);
        }
        if (maxDepth < 0 || maxDepth > Stacktrace.MAX_DEPTH) {
            throw new IllegalArgumentException("maxDepth must be between 0 and " + Stacktrace.MAX_DEPTH + ", not " + maxDepth);
        }
        this.maxDepth = maxDepth;
        this.showJvm = showJvm;
    }

    /** Starts sampling; returns this. */
    public synchronized Timer start() {
        if (sampler != null) throw new IllegalStateException("a Timer starts once");
        String name = "stacktrace-timer-" + (target != null ? target.getName() : Integer.toString(nativeTid));
        sampler = new Thread(this::run, name);
        sampler.setDaemon(true);
        sampler.start();
        return this;
    }

    private void run() {
        long period = interval.toNanos();
        long next = System.nanoTime();
        while (!stopping) {
            try {
                List<StackEntry> stack = target != null
                        ? Stacktrace.getThreadStack(target, maxDepth, showJvm)
                        : Stacktrace.getNativeThreadStack(nativeTid, maxDepth, showJvm);
                samples.incrementAndGet();
                callback.accept(stack);
            } catch (StacktraceException e) {
                if (e.reason() == StacktraceException.Reason.NO_SUCH_THREAD) return;  // the target ended
                errors.incrementAndGet();
            } catch (RuntimeException | Error e) {
                failure = e;  // the callback failed: stop, and let join() say why
                return;
            }
            next += period;
            long now = System.nanoTime();
            if (next < now) next = now;  // fell behind: skip ticks, don't burst
            while (!stopping && (now = System.nanoTime()) < next) LockSupport.parkNanos(this, next - now);
        }
    }

    /** Stops sampling and waits for the sampling thread to end. Rethrows what the callback threw. */
    public void join() throws InterruptedException {
        stopping = true;
        Thread s;
        synchronized (this) {
            s = sampler;
        }
        if (s != null) {
            LockSupport.unpark(s);
            s.join();
        }
        Throwable f = failure;
        if (f != null) throw new IllegalStateException("the Timer's callback failed: " + f, f);
    }

    @Override
    public void close() throws InterruptedException {
        join();
    }

    public boolean isRunning() {
        Thread s = sampler;
        return s != null && s.isAlive();
    }

    /** Stacks handed to the callback so far. */
    public long sampleCount() {
        return samples.get();
    }

    /** Samples that failed (the thread did not answer in time, say). */
    public long errorCount() {
        return errors.get();
    }
}
