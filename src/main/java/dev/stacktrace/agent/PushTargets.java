package dev.stacktrace.agent;

import dev.stacktrace.push.OtlpTarget;
import dev.stacktrace.push.PushTarget;
import dev.stacktrace.push.PyroscopeTarget;
import java.util.ArrayList;
import java.util.List;

/** The push targets the agent's options name. */
final class PushTargets {
    private PushTargets() {}

    static List<PushTarget> of(PushOptions options) {
        List<PushTarget> targets = new ArrayList<>();
        if (options.pyroscope() != null) {
            targets.add(new PyroscopeTarget(options.pyroscope(), options.appName(), options.labels()));
        }
        // the OTLP classes load only here, when otlp= asks for them
        if (options.otlp() != null) targets.add(new OtlpTarget(options.otlp(), options.appName(), options.labels()));
        return targets;
    }
}
