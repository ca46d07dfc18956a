package dev.stacktrace.service;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.tools.Profiler;
import dev.stacktrace.tools.SampleError;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The monitoring service behind the adapters (MBean, metrics, agent HTTP): one profiling session at a
 * time for the whole JVM, its results, and totals that only grow across sessions (what counters
 * in Prometheus need). Built on the public API only.
 */
public final class StacktraceService {
    private static final StacktraceService INSTANCE = new StacktraceService();

    /** A symbol's name and library: the identity of a symbol across profiling sessions. */
    public record Symbol(String name, String library) {}

    /**
     * A thread as JMX clients list it. Threads without a java.lang.Thread (GC, JIT compilers, a native
     * library's own threads) have threadId {@link #NO_JAVA_THREAD}, the kernel's name (15 characters at
     * most) and the kernel's state ("S (sleeping)"); Java threads have their Thread.State.
     */
    public record ThreadRow(long threadId, int nativeTid, String name, String state) {
        public static final long NO_JAVA_THREAD = -1;

        public boolean isJava() {
            return threadId != NO_JAVA_THREAD;
        }
    }

    /** The longest sampling interval accepted: longer ones are surely a mistake (and would make stop wait). */
    public static final Duration MAX_INTERVAL = ProfileSettings.MAX_INTERVAL;
    /** The shortest sampling interval accepted. */
    public static final Duration MIN_INTERVAL = ProfileSettings.MIN_INTERVAL;
    /** The system property that sets up the thread dump on a signal at first use (a realtime signal number). */
    public static final String DUMP_SIGNAL_PROPERTY = Stacktrace.DUMP_SIGNAL_PROPERTY;
    /** The system property naming the file that dump appends to. */
    public static final String DUMP_FILE_PROPERTY = Stacktrace.DUMP_FILE_PROPERTY;

    /** Totals of the sessions that have ended: replaced whole and never changed, so readers need no lock. */
    private record Ended(long samples, Map<SampleError, Long> errors, long incomplete, long nanos, long maxNanos) {}

    private volatile Profiler current;
    private volatile Profiler last;
    private volatile String mode = "off";
    private volatile Duration interval = Duration.ZERO;
    private volatile Ended ended;
    // symbol self-sample totals: ended sessions, plus the live session's as last seen (guarded by symbolLock)
    private final Object symbolLock = new Object();
    private final Map<Symbol, Long> symbolTotals = new HashMap<>();
    private Map<Symbol, Long> liveSeen = new HashMap<>();
    private Profiler liveSeenOf;
    private long symbolsReadAt;

    private StacktraceService() {
        Map<SampleError, Long> none = new EnumMap<>(SampleError.class);
        for (SampleError reason : SampleError.values()) none.put(reason, 0L);
        ended = new Ended(0, none, 0, 0, 0);
    }

    public static StacktraceService get() {
        return INSTANCE;
    }

    /** Profiles one thread, or every thread when {@code thread} is null. */
    public void startProfiling(Thread thread, Profiler.Mode profileMode, Duration every) {
        startProfiling(thread, new ProfileSettings(profileMode, every));
    }

    /** Profiles one thread, or every thread when {@code thread} is null. */
    public synchronized void startProfiling(Thread thread, ProfileSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (current != null) {
            throw new IllegalStateException("profiling is already running (" + mode + " every " + describe(interval)
                    + "); stop it first");
        }
        Profiler.Builder b = Profiler.builder().mode(settings.mode()).interval(settings.interval());
        if (thread == null) b.allThreads();
        else b.thread(thread);
        Profiler started = b.build().start();
        synchronized (symbolLock) {
            liveSeen = new HashMap<>();
            liveSeenOf = started;
        }
        mode = settings.modeName();
        interval = settings.interval();
        current = started;
    }

    public synchronized void stopProfiling() {
        if (current == null) return;
        Profiler p = current;
        p.join();
        foldSymbols(p);
        Ended e = ended;
        Map<SampleError, Long> errors = new EnumMap<>(e.errors());
        p.errorsByReason().forEach((reason, n) -> errors.merge(reason, n, Long::sum));
        ended = new Ended(e.samples() + p.sampleCount(), errors, e.incomplete() + p.incompleteCount(),
                e.nanos() + p.sampleTime().toNanos(),
                Math.max(e.maxNanos(), p.maxSampleTime().toNanos()));
        last = p;
        current = null;
        mode = "off";
    }

    // The readers below take no lock: a scrape never waits for a profile being read or stopped.

    public boolean isProfiling() {
        return current != null;
    }

    /** "cpu", "wall", or "off". */
    public String mode() {
        return mode;
    }

    /** The interval of the running (or last) session; zero when none ran. */
    public Duration interval() {
        return interval;
    }

    public long sampleCount() {
        Profiler live = current;
        return ended.samples() + (live != null ? live.sampleCount() : 0);
    }

    /** Recorded samples whose stack ends in a marker frame (the walk stopped early), over all sessions. */
    public long incompleteCount() {
        Profiler live = current;
        return ended.incomplete() + (live != null ? live.incompleteCount() : 0);
    }

    /** Samples not recorded, by reason (table_full, busy, thread_gone: {@link SampleError#key()}), over all sessions. */
    public Map<String, Long> errorCounts() {
        Map<String, Long> errors = new LinkedHashMap<>();
        errorsByReason().forEach((reason, n) -> errors.put(reason.key(), n));
        return errors;
    }

    /** Samples not recorded, by reason, over all sessions: every reason, in its declared order. */
    public Map<SampleError, Long> errorsByReason() {
        Profiler live = current;
        Map<SampleError, Long> errors = new EnumMap<>(ended.errors());
        if (live != null) live.errorsByReason().forEach((reason, n) -> errors.merge(reason, n, Long::sum));
        return errors;
    }

    public long errorCount() {
        return errorCounts().values().stream().mapToLong(Long::longValue).sum();
    }

    /** Time spent taking samples, over all sessions. */
    public Duration sampleTime() {
        Profiler live = current;
        return Duration.ofNanos(ended.nanos() + (live != null ? live.sampleTime().toNanos() : 0));
    }

    public Duration maxSampleTime() {
        Profiler live = current;
        return Duration.ofNanos(Math.max(ended.maxNanos(), live != null ? live.maxSampleTime().toNanos() : 0));
    }

    /** The running session's profile, or the last one's; null before any. */
    public Profiler profile() {
        Profiler live = current;
        return live != null ? live : last;
    }

    /** The top symbols of the current (or last) profile, by self samples. */
    public List<Profiler.SymbolCount> topSymbols(int n) {
        if (n < 0) throw new IllegalArgumentException("n must not be negative, not " + n);
        Profiler p = profile();
        if (p == null) return List.of();
        // one row per name and library: overloads, or unnamed addresses of one library, add up
        Map<Symbol, long[]> merged = new HashMap<>();
        for (Profiler.SymbolCount c : p.getResult().values()) {
            long[] counts = merged.computeIfAbsent(new Symbol(c.name(), c.library()), k -> new long[2]);
            counts[0] += c.self();
            counts[1] += c.total();
        }
        List<Profiler.SymbolCount> all = new ArrayList<>();
        merged.forEach((s, c) -> all.add(new Profiler.SymbolCount(s.name(), s.library(), c[0], c[1])));
        all.sort(Comparator.comparingLong(Profiler.SymbolCount::self).reversed()
                .thenComparing(Comparator.comparingLong(Profiler.SymbolCount::total).reversed()));
        return List.copyOf(all.subList(0, Math.min(n, all.size())));
    }

    /**
     * Self-sample totals per symbol over all sessions: they only grow, as counters must. Re-read from
     * the live profile at most once per {@code maxAge}.
     */
    public Map<Symbol, Long> symbolTotals(Duration maxAge) {
        Profiler live = current;
        boolean due;
        synchronized (symbolLock) {
            due = live != null && System.nanoTime() - symbolsReadAt >= maxAge.toNanos();
            if (due) symbolsReadAt = System.nanoTime();
        }
        if (due) foldSymbols(live);
        synchronized (symbolLock) {
            return Map.copyOf(symbolTotals);
        }
    }

    /** Adds what the profile has counted since last seen to the totals; reads the profile unlocked. */
    private void foldSymbols(Profiler p) {
        Map<Symbol, Long> now = new HashMap<>();
        for (Profiler.SymbolCount c : p.getResult().values()) {
            if (c.self() > 0) now.merge(new Symbol(c.name(), c.library()), c.self(), Long::sum);
        }
        synchronized (symbolLock) {
            if (liveSeenOf != p) return;  // a newer session started meanwhile
            Map<Symbol, Long> seen = liveSeen;
            now.forEach((symbol, count) -> {
                long delta = count - seen.getOrDefault(symbol, 0L);
                if (delta > 0) symbolTotals.merge(symbol, delta, Long::sum);
            });
            // counts only grow: keep the larger of what was seen and what is seen now
            seen.forEach((symbol, count) -> now.merge(symbol, count, Math::max));
            liveSeen = now;
        }
    }

    /**
     * Every thread of this process, Java or not, with its Java id, OS id, name and state. Needs no
     * safepoint: it answers while the VM cannot reach one.
     */
    public List<ThreadRow> listThreads() {
        return ProcessThreads.list();
    }

    /** The Java thread with this id (as JConsole and ThreadMXBean show it), found without a safepoint. */
    public Thread thread(long threadId) {
        if (threadId <= 0) {
            throw new IllegalArgumentException("threadId must be a Java thread id (1 or more, as JConsole's Threads tab "
                    + "shows), not " + threadId);
        }
        Thread t = ProcessThreads.javaThread(threadId);
        if (t == null) {
            throw new IllegalArgumentException("no live thread with id " + threadId + "; listThreads() shows the live ones");
        }
        return t;
    }

    /** Every thread's mixed stack, like jstack with native frames, native-only threads included; no safepoint. */
    public String dumpAllThreads(int maxDepth) {
        String nl = System.lineSeparator();
        StringBuilder out = new StringBuilder();
        out.append("Full thread dump with native frames (stacktrace), pid ").append(ProcessHandle.current().pid())
                .append(nl).append(nl);
        for (ThreadRow row : listThreads()) {
            out.append('"').append(row.name()).append('"');
            if (row.isJava()) out.append(" #").append(row.threadId());
            out.append(" nid=").append(row.nativeTid()).append(' ').append(row.state()).append(nl);
            try {
                out.append(Stacktrace.format(Stacktrace.getNativeThreadStack(row.nativeTid(), maxDepth, true)));
            } catch (StacktraceException e) {
                out.append("  (no stack: ").append(e.getMessage()).append(')').append(nl);
            }
            out.append(nl);
        }
        return out.toString();
    }

    // ---- one thread's stack ----

    /** The stack of the Java thread with this id (see {@link #thread(long)}). */
    public List<StackEntry> threadStack(long threadId, int maxDepth, boolean showJvm) {
        return Stacktrace.getThreadStack(thread(threadId), maxDepth, showJvm);
    }

    /** {@link #threadStack} as printed text, at the default depth with the JVM's frames. */
    public String formatThreadStack(long threadId) {
        return Stacktrace.format(threadStack(threadId, Stacktrace.DEFAULT_MAX_DEPTH, true));
    }

    /** The stack of any thread of this process by its OS id, Java or not. */
    public List<StackEntry> nativeThreadStack(int nativeTid, int maxDepth, boolean showJvm) {
        return Stacktrace.getNativeThreadStack(nativeTid, maxDepth, showJvm);
    }

    /** From now on, the realtime signal {@code signal} dumps every thread to {@code file} (null: stderr). */
    public void dumpOnSignal(int signal, Path file) {
        Stacktrace.dumpOnSignal(signal, file);
    }

    // ---- the current (or last) profile's forms ----

    /** The profile as collapsed stacks (flamegraph.pl, speedscope); empty before any profile. */
    public Optional<String> collapsed() {
        return Optional.ofNullable(profile()).map(Profiler::collapsed);
    }

    /** The profile as a self-contained HTML flame graph; empty before any profile. */
    public Optional<String> flameGraph(String title) {
        return Optional.ofNullable(profile()).map(p -> p.flameGraph(title));
    }

    private static String describe(Duration d) {
        return DurationText.format(d);
    }
}
