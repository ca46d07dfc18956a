package dev.stacktrace.push;

import dev.stacktrace.service.ProfileDelta;
import dev.stacktrace.service.StacktraceService;
import dev.stacktrace.tools.ProfileSnapshot;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Pushes the profile of each interval to profile stores (Pyroscope, an OTLP endpoint), from one
 * daemon thread: every {@code interval} it takes what the service's profile gained since the last
 * time ({@link ProfileDelta}), encodes it once per target, queues it, and sends what is queued until
 * the next interval begins.
 *
 * <p>It never holds up sampling or the application: sampling and aggregation happen in native
 * memory whatever this thread does, and nothing here waits without a deadline. A target that fails
 * is retried with exponential backoff and jitter within the interval; what is still unsent stays
 * queued for the next one, at most {@value #QUEUE_LIMIT} profiles a target, the oldest dropped (and
 * counted) past that. Each request has a connect timeout and an overall deadline.
 */
public final class ProfilePusher implements AutoCloseable {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MAX_INTERVAL = Duration.ofMinutes(10);
    public static final String THREAD_NAME = "stacktrace-push";
    /** Profiles kept per target while it cannot take them: bounds memory when a store is down. */
    public static final int QUEUE_LIMIT = 4;

    /** One target's queue, backoff and counts; touched by the pusher thread only (counts read by anyone). */
    private static final class Lane {
        final PushTarget target;
        final ArrayDeque<PushTarget.Request> queue = new ArrayDeque<>();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
        volatile int queued;
        int attempts;
        long retryAt;
        /** The kind of failure last logged (a status, a timeout, an exception class); null while pushes succeed. */
        String reported;

        Lane(PushTarget target) {
            this.target = target;
        }
    }

    private final ProfileDelta delta;
    private final Duration interval;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final List<Lane> lanes = new ArrayList<>();
    private final Consumer<String> log;
    private final HttpPost http = new HttpPost();
    private final Thread thread;
    private volatile boolean closed;

    private ProfilePusher(StacktraceService service, List<PushTarget> targets, Duration interval, Consumer<String> log) {
        this.delta = new ProfileDelta(service);
        this.interval = interval;
        this.log = log;
        // a request must end well within its interval, so a hung server only ever costs one interval
        this.connectTimeout = clamp(interval.dividedBy(4), Duration.ofMillis(100), Duration.ofSeconds(5));
        this.requestTimeout = clamp(interval.dividedBy(2), Duration.ofSeconds(1), Duration.ofSeconds(10));
        for (PushTarget t : targets) lanes.add(new Lane(t));
        this.thread = new Thread(this::run, THREAD_NAME);
        thread.setDaemon(true);
    }

    /**
     * Starts pushing what the service profiles from now on; profiling itself is the caller's to
     * start. {@code log} hears when a target starts failing and when it recovers (not each failure).
     */
    public static ProfilePusher start(StacktraceService service, List<PushTarget> targets, Duration interval,
                                      Consumer<String> log) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(log, "log");
        checkInterval(interval);
        if (targets.isEmpty()) throw new IllegalArgumentException("no target to push to: give pyroscope= or otlp=");
        List<String> names = new ArrayList<>();
        for (PushTarget t : targets) {
            if (names.contains(t.name())) throw new IllegalArgumentException("target " + t.name() + " given twice");
            names.add(t.name());
        }
        ProfilePusher pusher = new ProfilePusher(service, targets, interval, log);
        pusher.thread.start();
        return pusher;
    }

    public static Duration checkInterval(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("pushInterval must be from 1s to 10m, not " + interval.toMillis() + " ms");
        }
        return interval;
    }

    public Duration interval() {
        return interval;
    }

    /** The targets' names, in the order given. */
    public List<String> targets() {
        return lanes.stream().map(l -> l.target.name()).toList();
    }

    /** What became of the profiles for the named target. */
    public PushCounts counts(String target) {
        for (Lane l : lanes) {
            if (l.target.name().equals(target)) return new PushCounts(l.sent.get(), l.failed.get(), l.dropped.get(), l.queued);
        }
        throw new IllegalArgumentException("no push target " + target + "; there are " + targets());
    }

    /** The pusher thread's id: its CPU time is the push's cost (with the deadline's watchdog, which sleeps). */
    public long threadId() {
        return thread.getId();
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    /** Stops the thread (a request under way is disconnected) and waits for it, a few seconds at most. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        http.close();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            delta.next();  // what was counted before now belongs to no interval of ours (read here, not by the caller)
        } catch (RuntimeException e) {
            // the first interval then holds it
        }
        long next = System.nanoTime() + interval.toNanos();
        while (!closed) {
            if (!sleepUntil(next)) return;
            try {
                collect();
            } catch (RuntimeException e) {
                // a profile that cannot be read now (a session stopping) is read with the next one
            }
            long now = System.nanoTime();
            next += interval.toNanos();
            if (next - now < interval.toNanos() / 2) next = now + interval.toNanos();  // fell behind: skip a beat
            // leave a little time to take the next profile on time
            deliver(next - Math.min(interval.toNanos() / 10, TimeUnit.MILLISECONDS.toNanos(200)));
        }
    }

    private void collect() {
        for (ProfileSnapshot profile : delta.next()) {
            for (Lane lane : lanes) {
                PushTarget.Request request;
                try {
                    request = lane.target.request(profile);
                } catch (IOException | RuntimeException | LinkageError e) {
                    // LinkageError: the OTLP classes missing from a library user's class path
                    lane.dropped.incrementAndGet();
                    report(lane, "encoding", "cannot encode the profile: " + e);
                    continue;
                }
                if (lane.queue.size() >= QUEUE_LIMIT) {
                    lane.queue.pollFirst();
                    lane.dropped.incrementAndGet();
                }
                lane.queue.addLast(request);
                lane.queued = lane.queue.size();
            }
        }
    }

    /** Sends queued profiles, every target in turn, until each queue is empty or the deadline comes. */
    private void deliver(long deadline) {
        while (!closed) {
            long now = System.nanoTime();
            if (now >= deadline) return;
            long wake = deadline;
            boolean pending = false;
            for (Lane lane : lanes) {
                if (lane.queue.isEmpty()) continue;
                if (lane.retryAt - now <= 0) {
                    if (!attempt(lane, deadline)) return;
                    now = System.nanoTime();
                }
                if (!lane.queue.isEmpty()) {
                    pending = true;
                    if (lane.retryAt - wake < 0) wake = lane.retryAt;
                }
            }
            if (!pending) return;
            if (wake - System.nanoTime() > 0 && !sleepUntil(wake)) return;
        }
    }

    /** One try at the lane's oldest profile; false when the thread is being stopped. */
    private boolean attempt(Lane lane, long deadline) {
        PushTarget.Request r = lane.queue.peekFirst();
        long left = deadline - System.nanoTime();
        if (left < requestTimeout.toNanos() / 4) {
            lane.retryAt = deadline;  // too little time for a fair try: wait for the next interval
            return true;
        }
        Duration timeout = Duration.ofNanos(Math.min(requestTimeout.toNanos(), left));
        String failure;
        String kind;
        try {
            int status = http.send(r.uri(), r.contentType(), r.body(), connectTimeout, timeout);
            if (status / 100 == 2) {
                lane.queue.pollFirst();
                lane.queued = lane.queue.size();
                lane.sent.incrementAndGet();
                lane.attempts = 0;
                lane.retryAt = 0;
                if (lane.reported != null) log.accept(lane.target.name() + ": pushing to " + r.uri().getHost() + " again");
                lane.reported = null;
                return true;
            }
            if (status == 408 || status == 429 || status / 100 == 5) {
                failure = "HTTP " + status;
                kind = failure;
            } else {
                // the server refuses this request for good: sending it again would not help
                lane.queue.pollFirst();
                lane.queued = lane.queue.size();
                lane.failed.incrementAndGet();
                lane.dropped.incrementAndGet();
                report(lane, "HTTP " + status, "HTTP " + status + " from " + r.uri() + "; the profile is dropped");
                return true;
            }
        } catch (SocketTimeoutException e) {
            if (closed) return false;
            failure = e.getMessage();
            kind = "timeout";
        } catch (IOException | RuntimeException e) {
            // RuntimeException: what HttpURLConnection throws for a URL it cannot take; counted, not fatal to the thread
            if (closed) return false;
            failure = e.getMessage() == null ? e.toString() : e.getMessage();
            kind = e.getClass().getName();
        }
        lane.failed.incrementAndGet();
        lane.attempts++;
        lane.retryAt = System.nanoTime() + backoff(lane.attempts);
        report(lane, kind, "push to " + r.uri() + " failed (" + failure + "); retrying with backoff, counted in "
                + "stacktrace.push.failed");
        return true;
    }

    /** Exponential from a twentieth of the interval, capped at half of it, with jitter over its upper half. */
    private long backoff(int attempts) {
        long base = clamp(interval.dividedBy(20), Duration.ofMillis(50), Duration.ofSeconds(2)).toNanos();
        long cap = interval.toNanos() / 2;
        long delay = attempts >= 20 ? cap : Math.min(cap, base << (attempts - 1));
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    /** Logs a failure when it is of another kind than the last one logged: a line per change, not per attempt. */
    private void report(Lane lane, String kind, String message) {
        if (!kind.equals(lane.reported)) log.accept(lane.target.name() + ": " + message);
        lane.reported = kind;
    }

    /** False when interrupted by close. */
    private boolean sleepUntil(long deadline) {
        while (!closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return true;
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                return false;
            }
        }
        return false;
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}
