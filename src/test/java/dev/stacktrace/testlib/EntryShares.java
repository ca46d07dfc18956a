package dev.stacktrace.testlib;

import dev.stacktrace.StackEntry;
import java.util.List;
import java.util.Map;

/**
 * How a profile of one thread running an {@link AccuracyWorkload} splits: the samples whose stack
 * holds the native part's entry frame, those holding the Java part's, and all the thread's samples
 * (the denominator: every sample taken, also one the profiler could not record, which belongs to
 * no part).
 */
public record EntryShares(long nativeSamples, long javaSamples, long samples) {

    public double nativeShare() {
        return samples == 0 ? Double.NaN : (double) nativeSamples / samples;
    }

    public double javaShare() {
        return samples == 0 ? Double.NaN : (double) javaSamples / samples;
    }

    /** From our Profiler's stacks of the one thread; {@code taken} counts the samples not recorded too. */
    public static EntryShares ofStacks(Map<List<StackEntry>, Long> stacks, long taken) {
        long nat = 0, java = 0, recorded = 0;
        for (Map.Entry<List<StackEntry>, Long> e : stacks.entrySet()) {
            recorded += e.getValue();
            if (holds(e.getKey(), AccuracyWorkload.NATIVE_ENTRY)) nat += e.getValue();
            if (holds(e.getKey(), AccuracyWorkload.JAVA_ENTRY)) java += e.getValue();
        }
        return new EntryShares(nat, java, Math.max(taken, recorded));
    }

    /** The {@code top} most sampled stacks that hold neither part's entry frame, with their counts, for a failure's message. */
    public static String neither(Map<List<StackEntry>, Long> stacks, int top) {
        return mostSampled(stacks, top, s -> !holds(s, AccuracyWorkload.NATIVE_ENTRY) && !holds(s, AccuracyWorkload.JAVA_ENTRY));
    }

    /** The {@code top} most sampled stacks that hold the entry frame of method {@code entry}, for a failure's message. */
    public static String holding(Map<List<StackEntry>, Long> stacks, int top, String entry) {
        return mostSampled(stacks, top, s -> holds(s, entry));
    }

    private static String mostSampled(Map<List<StackEntry>, Long> stacks, int top, java.util.function.Predicate<List<StackEntry>> which) {
        StringBuilder out = new StringBuilder();
        stacks.entrySet().stream()
                .filter(e -> which.test(e.getKey()))
                .sorted(Map.Entry.<List<StackEntry>, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> out.append("\n").append(e.getValue()).append(" samples:\n")
                        .append(dev.stacktrace.Stacktrace.format(e.getKey().subList(0, Math.min(12, e.getKey().size())))));
        return out.length() == 0 ? " none" : out.toString();
    }

    private static boolean holds(List<StackEntry> stack, String method) {
        for (StackEntry f : stack) {
            if (f.isJava() && method.equals(f.methodName())) return true;
        }
        return false;
    }

    /**
     * From async-profiler's collapsed output ({@code threads} on: each stack starts with a frame
     * {@code [name tid=N]}), the lines of the thread named {@code threadName}.
     */
    public static EntryShares ofCollapsed(String collapsed, String threadName) {
        long nat = 0, java = 0, all = 0;
        String root = "[" + threadName + " tid=";
        for (String line : collapsed.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (space < 0 || !line.startsWith(root)) continue;
            long count = Long.parseLong(line.substring(space + 1).trim());
            String frames = line.substring(0, space);
            all += count;
            if (holdsCollapsed(frames, AccuracyWorkload.NATIVE_ENTRY)) nat += count;
            if (holdsCollapsed(frames, AccuracyWorkload.JAVA_ENTRY)) java += count;
        }
        return new EntryShares(nat, java, all);
    }

    private static boolean holdsCollapsed(String frames, String method) {
        for (String f : frames.split(";")) {
            int annotation = f.indexOf("_[");
            String name = annotation > 0 ? f.substring(0, annotation) : f;
            if (name.endsWith("." + method)) return true;
        }
        return false;
    }
}
