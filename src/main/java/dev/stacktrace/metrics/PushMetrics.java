package dev.stacktrace.metrics;

import dev.stacktrace.push.ProfilePusher;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;

/**
 * What became of the profiles a {@link ProfilePusher} pushes, per target (tag {@code target}:
 * pyroscope, otlp): {@code stacktrace.push.sent} (profiles the server accepted),
 * {@code stacktrace.push.failed} (attempts that did not succeed), {@code stacktrace.push.dropped}
 * (profiles given up: queue full, or refused for good) and {@code stacktrace.push.queued} (gauge:
 * profiles waiting).
 */
public final class PushMetrics implements MeterBinder {
    private final ProfilePusher pusher;

    public PushMetrics(ProfilePusher pusher) {
        this.pusher = Objects.requireNonNull(pusher, "pusher");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String target : pusher.targets()) {
            FunctionCounter.builder("stacktrace.push.sent", pusher, p -> p.counts(target).sent())
                    .description("Profiles pushed and accepted by the server").tag("target", target).register(registry);
            FunctionCounter.builder("stacktrace.push.failed", pusher, p -> p.counts(target).failed())
                    .description("Push attempts that failed (refused, timed out, HTTP error); retried while time allows")
                    .tag("target", target).register(registry);
            FunctionCounter.builder("stacktrace.push.dropped", pusher, p -> p.counts(target).dropped())
                    .description("Profiles given up: the queue was full, or the server refused them for good")
                    .tag("target", target).register(registry);
            Gauge.builder("stacktrace.push.queued", pusher, p -> p.counts(target).queued())
                    .description("Profiles waiting to be pushed").tag("target", target).register(registry);
        }
    }
}
