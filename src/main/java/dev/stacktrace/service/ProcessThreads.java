package dev.stacktrace.service;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.StacktraceException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every thread of this process, taken without a safepoint: the kernel's list (/proc/self/task)
 * joined with the Java threads of the thread-group tree. Thread.getAllStackTraces() and
 * ThreadMXBean stop the VM at a safepoint and walk every Java stack, so they hang exactly when the
 * VM cannot reach one; enumerating thread groups and reading a Thread's eetop need neither. Threads
 * the JVM has no java.lang.Thread for (GC, JIT compilers, a native library's own pthreads) are listed
 * too, with their kernel name and state.
 */
final class ProcessThreads {
    private static final Path TASKS = Path.of("/proc/self/task");

    private ProcessThreads() {}

    /** Java threads by id first, then the other threads by OS id. */
    static List<StacktraceService.ThreadRow> list() {
        Map<Integer, Thread> javaByTid = new HashMap<>();
        for (Thread t : javaThreads()) {
            try {
                javaByTid.put(Stacktrace.nativeThreadId(t), t);
            } catch (StacktraceException | IllegalArgumentException e) {
                // not started, ended meanwhile, or no OS thread of its own
            }
        }
        List<StacktraceService.ThreadRow> rows = new ArrayList<>();
        for (int tid : taskIds()) {
            Thread t = javaByTid.get(tid);
            if (t != null) {
                rows.add(new StacktraceService.ThreadRow(t.getId(), tid, t.getName(), t.getState().name()));
            } else {
                String[] nameAndState = kernelNameAndState(tid);
                if (nameAndState != null) {
                    rows.add(new StacktraceService.ThreadRow(StacktraceService.ThreadRow.NO_JAVA_THREAD, tid,
                            nameAndState[0], nameAndState[1]));
                }
            }
        }
        rows.sort(Comparator.comparing((StacktraceService.ThreadRow r) -> r.threadId() < 0)
                .thenComparingLong(StacktraceService.ThreadRow::threadId)
                .thenComparingInt(StacktraceService.ThreadRow::nativeTid));
        return rows;
    }

    /** The live Java thread with this id, or null. */
    static Thread javaThread(long threadId) {
        for (Thread t : javaThreads()) {
            if (t.getId() == threadId) return t;
        }
        return null;
    }

    /** The platform threads of every thread group (a synchronized copy of a list: no safepoint, no stack walk). */
    static List<Thread> javaThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root != null && root.getParent() != null) root = root.getParent();
        if (root == null) return List.of();  // the calling thread has ended
        Thread[] threads;
        int n;
        do {
            threads = new Thread[root.activeCount() + 16];
            n = root.enumerate(threads, true);
        } while (n == threads.length);
        List<Thread> live = new ArrayList<>(n);
        for (int i = 0; i < n; i++) live.add(threads[i]);
        return live;
    }

    private static List<Integer> taskIds() {
        List<Integer> tids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    tids.add(Integer.parseInt(task.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // not a task directory
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list this process's threads in " + TASKS + ": " + e.getMessage(), e);
        }
        return tids;
    }

    /** The kernel's name (15 characters at most) and state ("S (sleeping)") of a thread; null once it has ended. */
    private static String[] kernelNameAndState(int tid) {
        String name = null;
        String state = "?";
        try {
            for (String line : Files.readAllLines(TASKS.resolve(Integer.toString(tid)).resolve("status"))) {
                if (line.startsWith("Name:")) name = line.substring(5).trim();
                else if (line.startsWith("State:")) state = line.substring(6).trim();
                if (name != null && !state.equals("?")) break;
            }
        } catch (IOException e) {
            return null;
        }
        return name == null ? null : new String[] {name, state};
    }
}
