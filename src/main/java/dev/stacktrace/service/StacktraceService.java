package dev.stacktrace.service;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.tools.ProfileSnapshot;
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
     * Where Java calls into native code: the library of a sample's top frame and the Java method
     * that called into it (the first Java frame below the native frames on top, e.g. the
     * {@code native} method {@code java.util.zip.Deflater.deflateBytesBytes}).
     */
    public record JniSite(String library, String caller) {}

    /** What {@link #sampleTotals(Duration)} returns: self-sample totals by symbol, library and JNI site. */
    public record SampleTotals(Map<Symbol, Long> symbols, Map<String, Long> libraries, Map<JniSite, Long> jniSites) {
        public static final SampleTotals NONE = new SampleTotals(Map.of(), Map.of(), Map.of());
    }

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

    /** The signal {@code -Ddev.stacktrace.dumpSignal} asks for; 0 when it is not set (see {@link Stacktrace#dumpSignalProperty}). */
    public static int dumpSignalProperty() {
        return Stacktrace.dumpSignalProperty();
    }
    /** The system property naming the file that dump appends to. */
    public static final String DUMP_FILE_PROPERTY = Stacktrace.DUMP_FILE_PROPERTY;

    /** The shortest window {@link #profileWindow} profiles. */
    public static final Duration MIN_WINDOW = Duration.ofSeconds(1);
    /** The longest window {@link #profileWindow} profiles: 5 minutes. */
    public static final Duration MAX_WINDOW = Duration.ofMinutes(5);
    /** The interval of a session {@link #profileWindow} starts: 100 samples a second, as Go's profiler takes. */
    public static final Duration WINDOW_INTERVAL = Duration.ofMillis(10);

    /** Totals of the sessions that have ended: replaced whole and never changed, so readers need no lock. */
    private record Ended(long samples, long walks, Map<SampleError, Long> errors, long incomplete, long nanos, long maxNanos) {}

    private volatile Profiler current;
    private volatile Profiler last;
    private volatile String mode = "off";
    private volatile Duration interval = Duration.ZERO;
    private volatile Ended ended;
    // self-sample totals: ended sessions, plus the live session's as last seen (guarded by symbolLock)
    private final Object symbolLock = new Object();
    private final GrowingTotals<Symbol> symbolTotals = new GrowingTotals<>();
    private final GrowingTotals<String> libraryTotals = new GrowingTotals<>();
    private final GrowingTotals<JniSite> jniTotals = new GrowingTotals<>();
    private Profiler liveSeenOf;
    private long symbolsReadAt;

    private StacktraceService() {
        Map<SampleError, Long> none = new EnumMap<>(SampleError.class);
        for (SampleError reason : SampleError.values()) none.put(reason, 0L);
        ended = new Ended(0, 0, none, 0, 0, 0);
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
            symbolTotals.newSession();
            libraryTotals.newSession();
            jniTotals.newSession();
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
        ended = new Ended(e.samples() + p.sampleCount(), e.walks() + p.walkCount(), errors, e.incomplete() + p.incompleteCount(),
                e.nanos() + p.sampleTime().toNanos(),
                Math.max(e.maxNanos(), p.maxSampleTime().toNanos()));
        last = p;
        current = null;
        mode = "off";
    }

    /**
     * The samples of every thread over the next {@code length} (1 s to 5 min), in {@code mode}: for
     * pprof clients that ask for "N seconds of profile". When a session runs in that mode, the
     * samples it takes in the window, and it keeps running; when none runs, a session of its own
     * ({@link #WINDOW_INTERVAL}), stopped at the end, which is then the last profile. Blocks for
     * {@code length}.
     *
     * @throws IllegalArgumentException for a length outside 1 s to 5 min
     * @throws IllegalStateException    when a session of the other mode runs
     * @throws InterruptedException     when interrupted while waiting (a session of its own is stopped)
     */
    public ProfileSnapshot profileWindow(Profiler.Mode profileMode, Duration length) throws InterruptedException {
        Objects.requireNonNull(profileMode, "mode");
        if (length.compareTo(MIN_WINDOW) < 0 || length.compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("the profile's duration must be from 1 to 300 seconds, not "
                    + (length.toMillis() % 1000 == 0 ? length.toSeconds() + " s" : length.toMillis() + " ms"));
        }
        Profiler running = current;
        if (running != null) {
            if (running.mode() != profileMode) {
                throw new IllegalStateException("a " + running.mode().name().toLowerCase() + " profiling session is "
                        + "running: ask for mode=" + running.mode().name().toLowerCase() + ", or stop that session first");
            }
            ProfileSnapshot before = running.snapshot();
            Thread.sleep(length.toMillis());
            return running.snapshot().since(before);
        }
        Profiler mine;
        synchronized (this) {
            startProfiling(null, new ProfileSettings(profileMode, WINDOW_INTERVAL));
            mine = current;
        }
        try {
            Thread.sleep(length.toMillis());
        } finally {
            synchronized (this) {
                if (current == mine) stopProfiling();  // unless someone stopped it (and started another) meanwhile
            }
        }
        return mine.snapshot();
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

    /**
     * The interval each thread of the running or last session actually gets ({@link
     * Profiler#effectiveInterval()}: in cpu mode on POSIX timers, the scheduler tick when it is longer
     * than asked); zero before any session.
     */
    public Duration effectiveInterval() {
        Profiler p = profile();
        return p == null ? Duration.ZERO : p.effectiveInterval();
    }

    public long sampleCount() {
        Profiler live = current;
        return ended.samples() + (live != null ? live.sampleCount() : 0);
    }

    /**
     * Stacks walked in all sessions: each is one sample or more. In cpu mode on task-clocks, an
     * interval that ended in the kernel is counted on the thread's next walk ({@link
     * Profiler#sampleCount()}), so {@code sampleCount() - walkCount()} says how many samples were
     * counted on a later stack of their thread than the one they ended in.
     */
    public long walkCount() {
        Profiler live = current;
        return ended.walks() + (live != null ? live.walkCount() : 0);
    }

    /** Threads the running profile could not sample at its last look ({@link Profiler#unsampledThreads()}); 0 when none runs. */
    public long unsampledThreads() {
        Profiler live = current;
        return live != null ? live.unsampledThreads() : 0;
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
        return sampleTotals(maxAge).symbols();
    }

    /**
     * Self-sample totals over all sessions, by symbol, by library and by JNI site (see
     * {@link SampleTotals#libraries()}, {@link JniSite}); they only grow, as counters must. Re-read
     * from the live profile at most once per {@code maxAge}.
     *
     * <p>By library: the library of each sample's top frame, "[java]" when Java code is on top (a
     * marker on top counts under the frame below it). By JNI site: samples whose top frame is native
     * (a library's or the JVM's) and that have a Java frame below the native ones; samples of threads
     * without Java frames (GC, JIT compilers) and samples with Java on top are left out.
     */
    public SampleTotals sampleTotals(Duration maxAge) {
        Profiler live = current;
        boolean due;
        synchronized (symbolLock) {
            due = live != null && System.nanoTime() - symbolsReadAt >= maxAge.toNanos();
            if (due) symbolsReadAt = System.nanoTime();
        }
        if (due) foldSymbols(live);
        synchronized (symbolLock) {
            return new SampleTotals(symbolTotals.snapshot(), libraryTotals.snapshot(), jniTotals.snapshot());
        }
    }

    /** Adds what the profile has counted since last seen to the totals; reads the profile unlocked. */
    private void foldSymbols(Profiler p) {
        Map<Symbol, Long> symbols = new HashMap<>();
        Map<String, Long> libraries = new HashMap<>();
        Map<JniSite, Long> jni = new HashMap<>();
        p.getStacks().forEach((frames, count) -> {
            if (count <= 0 || frames.isEmpty()) return;
            StackEntry top = frames.get(0);
            symbols.merge(new Symbol(top.name(), top.library()), count, Long::sum);
            int i = 0;
            while (i < frames.size() - 1 && frames.get(i).isMarker()) i++;
            StackEntry counted = frames.get(i);
            libraries.merge(counted.isJava() ? JAVA_LIBRARY : counted.library(), count, Long::sum);
            if (counted.isJava() || counted.isMarker()) return;
            for (int j = i + 1; j < frames.size(); j++) {
                if (frames.get(j).isJava()) {
                    jni.merge(new JniSite(counted.library(), frames.get(j).name()), count, Long::sum);
                    return;
                }
            }
        });
        synchronized (symbolLock) {
            if (liveSeenOf != p) return;  // a newer session started meanwhile
            symbolTotals.fold(symbols);
            libraryTotals.fold(libraries);
            jniTotals.fold(jni);
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

    /** The library a sample with a Java frame on top counts under. */
    public static final String JAVA_LIBRARY = "[java]";

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

    /**
     * The flame graph of the samples taken under labels that include all of {@code filter} (see
     * {@link dev.stacktrace.Labels}); empty before any profile.
     */
    public Optional<String> flameGraph(String title, Map<String, String> filter) {
        return Optional.ofNullable(profile()).map(p -> p.flameGraph(title, filter));
    }

    /** The profile as a gzip-compressed pprof profile; empty before any profile. */
    public Optional<byte[]> pprof() {
        return Optional.ofNullable(profile()).map(p -> p.snapshot().pprof());
    }

    private static String describe(Duration d) {
        return DurationText.format(d);
    }
}
