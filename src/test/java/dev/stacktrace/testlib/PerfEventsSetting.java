package dev.stacktrace.testlib;

import dev.stacktrace.internal.capture.NativeSampler;

/** Runs a test body with cpu mode's clock chosen by {@link NativeSampler#PERF_EVENTS_PROPERTY}, then restores it. */
public final class PerfEventsSetting {
    /** A test body. */
    public interface Body {
        void run() throws Exception;
    }

    private PerfEventsSetting() {}

    /** {@code "true"}: task-clocks where the kernel allows them; {@code "false"}: POSIX timers only. */
    public static void with(String value, Body body) throws Exception {
        String before = System.getProperty(NativeSampler.PERF_EVENTS_PROPERTY);
        System.setProperty(NativeSampler.PERF_EVENTS_PROPERTY, value);
        try {
            body.run();
        } finally {
            if (before == null) System.clearProperty(NativeSampler.PERF_EVENTS_PROPERTY);
            else System.setProperty(NativeSampler.PERF_EVENTS_PROPERTY, before);
        }
    }
}
