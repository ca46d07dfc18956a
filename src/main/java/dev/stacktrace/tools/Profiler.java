package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.capture.NativeSampler;
import dev.stacktrace.internal.labels.LabelSets;
import dev.stacktrace.internal.stacks.ProfileStacks;
import dev.stacktrace.internal.stacks.RawStack;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Samples threads and counts how often each symbol appears. One thread, a set, or every thread of the JVM; in {@link Mode#CPU} mode (a thread is
 * sampled per interval of its own CPU time, so only running threads use their budget) or
 * {@link Mode#WALL} mode (every thread at every interval, running or blocked).
 *
 * <p>Samples are taken by signals from native timers and aggregated in native memory (a fixed-size
 * table of distinct stacks): no Java code runs and nothing is allocated per sample. Java reads the
 * table when asked. Every sample is recorded: one whose stack walk stopped early keeps the frames
 * found and ends in a marker frame that says why ({@link #incompleteCount()}); one that could not be
 * taken at all is counted ({@link #errorCounts()}), never silently lost. One profiler runs at a time in a JVM.
 *
 * <pre>{@code
 * try (Profiler p = Profiler.builder().allThreads().mode(Profiler.Mode.CPU).interval(Duration.ofMillis(10)).build().start()) {
 *     work();
 *     p.join();
 *     p.getSorted().forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p>{@link #getResult()} is keyed by a symbol's start address (native frames; an unnamed frame by its
 * own address) or by the method's jmethodID (Java frames). A symbol counts once per sample, however
 * often it recurs in that stack ({@code total}); {@code self} counts the samples where it is the top frame.
 */
public final class Profiler implements AutoCloseable {
    /** How samples are timed. */
    public enum Mode {
        /**
         * Per interval of each thread's own CPU time: idle threads are not sampled. A thread clocked by
         * a perf_events task-clock (see {@link #effectiveInterval()}) is walked only in user code; its
         * time inside system calls is counted in its next sample (see {@link #sampleCount()}).
         */
        CPU,
        /** Per interval of wall-clock time, every sampled thread, running or blocked. */
        WALL,
    }

    /** How often a symbol was seen: at the top of the stack ({@code self}), anywhere in it ({@code total}). */
    public record SymbolCount(String name, String library, long self, long total) {
        /** Samples in which the symbol appears (its total). */
        public long count() {
            return total;
        }
    }

    /** The default interval (20 Hz). */
    public static final Duration DEFAULT_INTERVAL = Timer.DEFAULT_INTERVAL;
    /** The shortest interval between samples: 0.1 ms. */
    public static final Duration MIN_INTERVAL = NativeSampler.MIN_INTERVAL;
    /** The longest interval between samples: 60 s. */
    public static final Duration MAX_INTERVAL = NativeSampler.MAX_INTERVAL;

    /** Whether a profiler takes this interval: from {@link #MIN_INTERVAL} to {@link #MAX_INTERVAL}. */
    public static boolean allowsInterval(Duration interval) {
        return NativeSampler.allows(interval);
    }

    private final Mode mode;
    private final Duration interval;
    private final int maxDepth;
    private final boolean showJvm;
    private final int tableEntries;
    private final List<Thread> threads;
    private final int[] nativeTids;
    private final boolean allThreads;
    private volatile boolean running;
    private volatile boolean stopped;
    private long[] finalTable;
    private NativeSampler.Counters finalCounters;
    private volatile Duration finalEffectiveInterval;
    private final ProfileStacks named;
    private volatile Instant startedAt;
    private volatile long startedNanos;
    private volatile long stoppedNanos;

    private Profiler(Builder b) {
        this.mode = b.mode;
        this.interval = b.interval;
        this.maxDepth = b.maxDepth;
        this.showJvm = b.showJvm;
        this.tableEntries = b.tableEntries;
        this.threads = List.copyOf(b.threads);
        this.nativeTids = b.nativeTids.stream().mapToInt(Integer::intValue).toArray();
        this.allThreads = b.allThreads;
        this.named = new ProfileStacks(maxDepth, showJvm);
    }

    /** One thread, wall-clock sampling at the default interval. */
    public Profiler(Thread target) {
        this(builder().thread(target));
    }

    public Profiler(Thread target, Duration interval) {
        this(builder().thread(target).interval(interval));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts sampling; returns this. */
    public synchronized Profiler start() {
        if (running || stopped) throw new IllegalStateException("a Profiler starts once; make a new one");
        int[] tids;
        if (allThreads) {
            tids = new int[0];
        } else {
            int[] fromThreads = threads.stream().mapToInt(Stacktrace::nativeThreadId).toArray();
            tids = Arrays.copyOf(fromThreads, fromThreads.length + nativeTids.length);
            System.arraycopy(nativeTids, 0, tids, fromThreads.length, nativeTids.length);
        }
        NativeSampler.start(mode == Mode.CPU, interval, tids, ProfileStacks.recordedDepth(maxDepth, showJvm), tableEntries);
        startedAt = Instant.now();
        startedNanos = System.nanoTime();
        running = true;
        Duration effective = effectiveInterval();
        if (effective.compareTo(interval) > 0) {
            System.getLogger(Profiler.class.getName()).log(System.Logger.Level.WARNING,
                    "cpu mode samples every " + effective.toNanos() / 1e6 + " ms, not every " + interval.toNanos() / 1e6
                            + " ms as asked: POSIX CPU timers fire on the scheduler tick, and perf_events task-clocks, which"
                            + " deliver the interval, are " + (NativeSampler.perfEventsWanted()
                                    ? "refused by this kernel (or it is a 6.16/6.17 kernel, which they could hang)"
                                    : "turned off (-Ddev.stacktrace.perfEvents=false)"));
        }
        return this;
    }

    /** Stops sampling and waits until no sample can be added; the results stay. */
    public synchronized void join() {
        if (!running) return;
        finalEffectiveInterval = effectiveInterval();
        NativeSampler.stop();
        stoppedNanos = System.nanoTime();
        finalTable = NativeSampler.read();
        finalCounters = NativeSampler.counters();
        running = false;
        stopped = true;
    }

    @Override
    public void close() {
        join();
    }

    public boolean isRunning() {
        return running;
    }

    public Mode mode() {
        return mode;
    }

    public Duration interval() {
        return interval;
    }

    /**
     * The interval actually delivered to each sampled thread. In cpu mode each thread is clocked by a
     * perf_events task-clock where the kernel allows it, which delivers {@link #interval()} down to
     * about 1 ms; elsewhere, or with {@code -Ddev.stacktrace.perfEvents=false}, by a POSIX CPU-time timer, which
     * fires on the scheduler tick at the earliest (4 ms at CONFIG_HZ=250), and this says so (start also
     * logs a warning). Wall mode delivers the interval. Before start, the interval asked.
     */
    public Duration effectiveInterval() {
        Duration last = finalEffectiveInterval;
        if (last != null) return last;
        if (!running) return interval;
        long nanos = NativeSampler.clock().effectiveIntervalNanos();
        return nanos > interval.toNanos() ? Duration.ofNanos(nanos) : interval;
    }

    /**
     * Samples taken so far (recorded or not), in intervals: a stack walked stands for every interval
     * its thread was due a sample since the last one (in wall mode, ticks that waited behind a queued
     * one; in cpu mode on a task-clock, CPU time in the kernel (system calls, page faults), where the
     * clock does not fire). Such time lands on the thread's next sample, which may be up to an interval
     * of its code later.
     */
    public long sampleCount() {
        return counters().samples();
    }

    /** Stacks walked so far: the signals handled, each one sample of {@link #sampleCount()} or more. */
    public long walkCount() {
        return counters().walks();
    }

    /**
     * Samples not recorded, by reason ({@link SampleError#key()}): table_full (no room for another
     * distinct stack), busy (no scratch buffer free, or a signal could not be queued), thread_gone. A
     * sample whose stack walk stopped early is not an error: it is recorded as far as it went, ending
     * in a marker frame ({@link #incompleteCount()}).
     */
    public Map<String, Long> errorCounts() {
        Map<String, Long> errors = new LinkedHashMap<>();
        errorsByReason().forEach((reason, n) -> errors.put(reason.key(), n));
        return errors;
    }

    /** {@link #errorCounts()} keyed by the enum: every reason, in its declared order. */
    public Map<SampleError, Long> errorsByReason() {
        NativeSampler.Counters c = counters();
        Map<SampleError, Long> errors = new EnumMap<>(SampleError.class);
        errors.put(SampleError.TABLE_FULL, c.tableFull());
        errors.put(SampleError.BUSY, c.busy());
        errors.put(SampleError.THREAD_GONE, c.threadGone());
        errors.put(SampleError.SIGNAL_BLOCKED, c.signalBlocked());
        return errors;
    }

    /**
     * Recorded samples whose stack ends in a marker frame ({@link StackEntry.Kind#MARKER}): the walk
     * could not follow the thread's stack to its start, and the stack says where and why.
     */
    public long incompleteCount() {
        return counters().incomplete();
    }

    /**
     * Threads this profile should sample that it did not at its last look (every 100 ms), so their
     * samples are missing from it: threads beyond the first 4,096, or, in cpu mode with POSIX timers,
     * threads for which the user's pending-signal queue had no room. Each such timer holds one entry
     * of that queue (RLIMIT_SIGPENDING, shared by every process of the user) for as long as it
     * exists, so the profile takes at most a quarter of the limit and none once the queue is half
     * full. 0 when every thread is sampled; the threads are tried again at each look.
     */
    public long unsampledThreads() {
        return counters().unsampledThreads();
    }

    /** Time spent taking samples, inside the sampled threads: in total, and the longest one. */
    public Duration sampleTime() {
        return Duration.ofNanos(counters().nanos());
    }

    public Duration maxSampleTime() {
        return Duration.ofNanos(counters().maxNanos());
    }

    private NativeSampler.Counters counters() {
        NativeSampler.Counters c = finalCounters;
        if (c != null) return c;
        if (!running) return new NativeSampler.Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        return NativeSampler.counters();
    }

    /** Synchronized with join: a table read while running is never the next profiler's. */
    private synchronized long[] table() {
        long[] t = finalTable;
        if (t != null) return t;
        return running ? NativeSampler.read() : new long[0];
    }

    /** Each distinct stack (innermost frame first) with its sample count. */
    public Map<List<StackEntry>, Long> getStacks() {
        Map<List<StackEntry>, Long> stacks = new HashMap<>();
        forEachStack((frames, keys, count, label) -> stacks.merge(frames, count, Long::sum));
        return stacks;
    }

    /**
     * Each distinct stack with its sample count, by the {@link dev.stacktrace.Labels} of the sampled
     * thread when the sample was taken; samples taken without labels are under the empty map. Each
     * label map is sorted by key.
     */
    public Map<Map<String, String>, Map<List<StackEntry>, Long>> getStacksByLabels() {
        Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels = new HashMap<>();
        forEachStack((frames, keys, count, label) -> byLabels.computeIfAbsent(LabelSets.labels(label), l -> new HashMap<>())
                .merge(frames, count, Long::sum));
        return byLabels;
    }

    /**
     * The stacks sampled while the thread's labels included all of {@code filter} (every stack when
     * it is empty).
     */
    public Map<List<StackEntry>, Long> getStacks(Map<String, String> filter) {
        Objects.requireNonNull(filter, "filter");
        Map<List<StackEntry>, Long> stacks = new HashMap<>();
        forEachStack((frames, keys, count, label) -> {
            if (LabelSets.labels(label).entrySet().containsAll(filter.entrySet())) stacks.merge(frames, count, Long::sum);
        });
        return stacks;
    }

    /** Per symbol: name, library, self and total sample counts (see the class comment for the keys). */
    public Map<Long, SymbolCount> getResult() {
        Map<Long, long[]> counts = new HashMap<>();
        Map<Long, StackEntry> names = new HashMap<>();
        forEachStack((frames, keys, count, label) -> {
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < frames.size(); i++) {
                long key = keys[i];
                names.putIfAbsent(key, frames.get(i));
                long[] c = counts.computeIfAbsent(key, k -> new long[2]);
                if (i == 0) c[0] += count;
                if (seen.add(key)) c[1] += count;  // once per sample, however often it recurs
            }
        });
        Map<Long, SymbolCount> result = new HashMap<>();
        counts.forEach((key, c) -> {
            StackEntry e = names.get(key);
            result.put(key, new SymbolCount(e.name(), e.library(), c[0], c[1]));
        });
        return result;
    }

    /** {@link #getResult()}'s entries by total count, highest first (then by self count). */
    public List<Map.Entry<Long, SymbolCount>> getSorted() {
        List<Map.Entry<Long, SymbolCount>> sorted = new ArrayList<>(getResult().entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<Long, SymbolCount> e) -> e.getValue().total()).reversed()
                .thenComparing(Comparator.comparingLong((Map.Entry<Long, SymbolCount> e) -> e.getValue().self()).reversed())
                .thenComparing(e -> e.getValue().name()));
        return sorted;
    }

    /** The profile as collapsed stacks (flamegraph.pl, speedscope). */
    public String collapsed() {
        return FlameGraph.collapsed(getStacks());
    }

    public void writeCollapsed(Appendable out) throws IOException {
        FlameGraph.writeCollapsed(getStacks(), out);
    }

    /**
     * The profile as collapsed stacks; with {@code withLabels}, each stack sampled under
     * {@link dev.stacktrace.Labels} starts with one frame per label, {@code [label endpoint=/checkout]},
     * keys in order (so a flame graph splits by label at its root). Without, as {@link #collapsed()}.
     */
    public String collapsed(boolean withLabels) {
        return withLabels ? FlameGraph.collapsed(labeledStacks()) : collapsed();
    }

    public void writeCollapsed(Appendable out, boolean withLabels) throws IOException {
        FlameGraph.writeCollapsed(withLabels ? labeledStacks() : getStacks(), out);
    }

    /** The stacks with their labels as extra outermost frames (see {@link #collapsed(boolean)}). */
    private Map<List<StackEntry>, Long> labeledStacks() {
        Map<List<StackEntry>, Long> stacks = new HashMap<>();
        getStacksByLabels().forEach((labels, byStack) -> {
            List<StackEntry> roots = new ArrayList<>();
            labels.forEach((key, value) -> roots.add(0, StackEntry.marker("[label " + key + "=" + value + "]")));
            byStack.forEach((frames, count) -> {
                List<StackEntry> all = new ArrayList<>(frames);
                all.addAll(roots);
                stacks.merge(List.copyOf(all), count, Long::sum);
            });
        });
        return stacks;
    }

    /**
     * The profile as a self-contained HTML flame graph; when samples were taken under
     * {@link dev.stacktrace.Labels}, its menu shows one label's samples ({@link FlameGraph#labeledHtml}).
     */
    public String flameGraph(String title) {
        return FlameGraph.labeledHtml(getStacksByLabels(), title);
    }

    public void writeFlameGraph(String title, Appendable out) throws IOException {
        FlameGraph.writeLabeledHtml(getStacksByLabels(), title, out);
    }

    /**
     * The flame graph of the samples taken while the thread's {@link dev.stacktrace.Labels} included
     * all of {@code filter} (e.g. {@code Map.of("endpoint", "/checkout")}); every sample when it is empty.
     */
    public String flameGraph(String title, Map<String, String> filter) {
        return filter.isEmpty() ? flameGraph(title) : FlameGraph.html(getStacks(filter), title);
    }

    /**
     * The profile so far (or, once stopped, the whole profile) with the time it covers: what the
     * profile formats are written from. Two snapshots of one profiler give the samples between them
     * ({@link ProfileSnapshot#since}).
     */
    public ProfileSnapshot snapshot() {
        Map<Map.Entry<List<StackEntry>, Integer>, Long> stacks = new LinkedHashMap<>();
        Instant start;
        long end;
        synchronized (this) {
            forEachStack((frames, keys, count, label) -> stacks.merge(Map.entry(frames, label), count, Long::sum));
            start = startedAt;
            end = stopped ? stoppedNanos : System.nanoTime();
        }
        if (start == null) return new ProfileSnapshot(this, mode, interval, Instant.now(), Duration.ZERO, List.of());
        List<ProfileSnapshot.Sample> samples = new ArrayList<>(stacks.size());
        stacks.forEach((stack, count) -> samples.add(new ProfileSnapshot.Sample(stack.getKey(), LabelSets.labels(stack.getValue()), count)));
        return new ProfileSnapshot(this, mode, interval, start, Duration.ofNanos(end - startedNanos), samples);
    }

    /**
     * A reader of this profile one interval at a time ({@link ProfileIntervals#next}): what was
     * sampled since its last call, costing what changed rather than the whole profile. Each reader
     * keeps its own place.
     */
    public ProfileIntervals intervals() {
        return new ProfileIntervals(this);
    }

    /** The table as it is now and the time it covers, read together. */
    record Reading(long[] table, Instant start, long startNanos, long endNanos) {}

    /** The table with the time it covers: {@code start} null before the profiler started. */
    synchronized Reading reading() {
        long[] t = table();
        return new Reading(t, startedAt, startedNanos, stopped ? stoppedNanos : System.nanoTime());
    }

    /** How this profiler names a raw stack of its table (cached: each distinct stack is named once). */
    ProfileStacks.Named named(RawStack raw) {
        return named.named(raw);
    }

    /** The profile as a gzip-compressed pprof profile ({@link Pprof}: {@code go tool pprof}, Pyroscope, Parca); {@code out} stays open. */
    public void writePprof(OutputStream out) throws IOException {
        snapshot().writePprof(out);
    }

    private void forEachStack(ProfileStacks.LabeledVisitor visitor) {
        named.forEachLabeled(table(), visitor);
    }

    /** Settings for a {@link Profiler}; every one has a default. */
    public static final class Builder {
        private Mode mode = Mode.WALL;
        private Duration interval = DEFAULT_INTERVAL;
        private int maxDepth = Stacktrace.DEFAULT_MAX_DEPTH;
        private boolean showJvm = true;
        private int tableEntries = NativeSampler.DEFAULT_TABLE_ENTRIES;
        private final List<Thread> threads = new ArrayList<>();
        private final List<Integer> nativeTids = new ArrayList<>();
        private boolean allThreads;

        private Builder() {}

        public Builder thread(Thread thread) {
            threads.add(Objects.requireNonNull(thread, "thread"));
            return this;
        }

        public Builder threads(Collection<Thread> more) {
            more.forEach(this::thread);
            return this;
        }

        public Builder nativeThread(int nativeTid) {
            if (nativeTid <= 0) throw new IllegalArgumentException("nativeTid must be positive, not " + nativeTid);
            nativeTids.add(nativeTid);
            return this;
        }

        /** Every thread of the JVM, including threads started while it runs. */
        public Builder allThreads() {
            allThreads = true;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Time between samples: from 0.1 ms to 60 s ({@link Profiler#MAX_INTERVAL}). */
        public Builder interval(Duration interval) {
            this.interval = NativeSampler.checkInterval(Objects.requireNonNull(interval, "interval"));
            return this;
        }

        public Builder maxDepth(int maxDepth) {
            if (maxDepth < 1 || maxDepth > NativeSampler.MAX_FRAMES) {
                throw new IllegalArgumentException("maxDepth must be between 1 and " + NativeSampler.MAX_FRAMES
                        + ", not " + maxDepth);
            }
            this.maxDepth = maxDepth;
            return this;
        }

        public Builder showJvm(boolean showJvm) {
            this.showJvm = showJvm;
            return this;
        }

        /** Distinct stacks the table can hold (a power of two); samples of further stacks are counted as table_full. */
        public Builder tableSize(int entries) {
            if (entries < 16 || entries > (1 << 22) || Integer.bitCount(entries) != 1) {
                throw new IllegalArgumentException("tableSize must be a power of two from 16 to 4194304, not " + entries);
            }
            this.tableEntries = entries;
            return this;
        }

        public Profiler build() {
            if (!allThreads && threads.isEmpty() && nativeTids.isEmpty()) {
                throw new IllegalStateException("no thread to profile: add thread(...), nativeThread(...) or allThreads()");
            }
            return new Profiler(this);
        }
    }
}
