package dev.stacktrace.bench;

import one.profiler.AsyncProfiler;

/**
 * async-profiler (its Maven jar's library, loaded into this JVM) profiling one thread, for the
 * benchmarks that set its view beside ours: started with a thread filter holding only that thread
 * and {@code threads} (each stack's root frame is {@code [name tid=N]}); stopped, it gives its
 * profile as collapsed stacks.
 */
final class AsyncProfilerSession {
    private final AsyncProfiler profiler = AsyncProfiler.getInstance();
    private final String options;

    /**
     * @param event    cpu, itimer, ctimer or wall (see async-profiler's docs)
     * @param cstack   how native stacks are walked: vmx (Java and native frames interleaved), vm, dwarf, fp
     */
    AsyncProfilerSession(String event, double intervalMillis, String cstack) {
        this.options = "event=" + event + ",interval=" + Math.round(intervalMillis * 1000) + "us,cstack=" + cstack
                + ",filter,threads";
    }

    String version() {
        return profiler.getVersion();
    }

    String options() {
        return options;
    }

    /** Starts profiling one thread; returns what async-profiler said. */
    String start(Thread thread) throws Exception {
        String said = profiler.execute("start," + options).trim();
        profiler.addThread(thread);
        return said;
    }

    /** Stops and returns the profile as collapsed stacks ({@code ann}: Java frames carry {@code _[j]}, {@code _[i]}...). */
    String stopCollapsed() throws Exception {
        profiler.execute("stop");
        return profiler.execute("collapsed,ann");
    }
}
