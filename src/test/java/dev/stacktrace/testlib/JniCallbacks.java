package dev.stacktrace.testlib;

import dev.stacktrace.StackEntry;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Java thread whose stack interleaves Java and native code through nested JNI callbacks
 * (src/test/native/jni_callbacks.cpp):
 *
 * <pre>
 * enter(levels) → nativeDown(levels) → [C] Java_..._nativeDown → stt::jni::down_level
 *   → CallStaticVoidMethodA → javaUp(levels-1) → nativeDown(levels-1) → ... → nativeDown(0)
 *   → [C] Java_..._nativeDown → stt::jni::down_level → stt::jni::block_in_read (or spin_until_readable)
 * </pre>
 *
 * So {@code levels} Java callbacks and {@code levels + 1} native segments; the innermost blocks in
 * read(2) on a pipe (or spins on the CPU) until {@link #release()}. {@link #expectedFrames()} is the
 * exact order of the fixture's own frames from the top; {@link #mismatch} checks a captured stack
 * against it. Use: {@code try (var t = JniCallbacks.start("name", 3, Leaf.READ)) { ... }}.
 */
public final class JniCallbacks implements AutoCloseable {
    public static final String CLASS = JniCallbacks.class.getName();
    public static final String BLOCK_IN_READ = "stt::jni::block_in_read(int)";
    public static final String SPIN = "stt::jni::spin_until_readable(int, int)";
    public static final String DOWN_LEVEL = "stt::jni::down_level(JNIEnv_*, int, int, bool)";
    public static final String JNI_ENTRY = "Java_dev_stacktrace_testlib_JniCallbacks_nativeDown";
    /** The library file whose frames belong to this fixture. */
    public static final String LIBRARY = "libstacktracetest.so";

    static {
        loadLibrary();
    }

    /** Loads libstacktracetest.so from the test classpath for JNI (a second load is a no-op). */
    static void loadLibrary() {
        System.load(libraryPath().toString());
    }

    /** What the innermost native code does until released. */
    public enum Leaf { READ, SPIN }

    /** How an expected frame is matched: a native symbol, a Java method (any tier), a native method's stub. */
    public enum FrameKind { NATIVE, JAVA, JAVA_NATIVE }

    /** One expected frame: its kind and its name (demangled symbol, or {@code class.method}). */
    public record Frame(FrameKind kind, String name) {
        public boolean matches(StackEntry e) {
            if (!e.name().equals(name)) return false;
            return switch (kind) {
                case NATIVE -> !e.isJava();
                case JAVA -> e.kind() == StackEntry.Kind.JAVA_INTERPRETED || e.kind() == StackEntry.Kind.JAVA_COMPILED
                        || e.kind() == StackEntry.Kind.JAVA_INLINED;
                case JAVA_NATIVE -> e.kind() == StackEntry.Kind.JAVA_NATIVE;
            };
        }

        @Override
        public String toString() {
            return kind + " " + name;
        }
    }

    private final Pipe pipe = new Pipe();
    private final int levels;
    private final Leaf leaf;
    private final Thread thread;
    private volatile int tid;
    private volatile Throwable failure;

    private JniCallbacks(String name, int levels, Leaf leaf) {
        if (levels < 0 || levels > 100) throw new IllegalArgumentException("levels must be 0..100: " + levels);
        this.levels = levels;
        this.leaf = leaf;
        thread = new Thread(() -> {
            tid = nativeTid();
            try {
                enter(levels, pipe.readFd(), leaf == Leaf.SPIN);
            } catch (Throwable t) {
                failure = t;
            }
        }, name);
        thread.setDaemon(true);
    }

    /** Starts a thread running {@code enter(levels, fd)} and returns once it is in the innermost native leaf. */
    public static JniCallbacks start(String threadName, int levels, Leaf leaf) {
        JniCallbacks t = new JniCallbacks(threadName, levels, leaf);
        t.thread.start();
        t.awaitInLeaf(Duration.ofSeconds(10));
        return t;
    }

    public Thread thread() {
        return thread;
    }

    /** The OS thread id (gettid) of {@link #thread()}. */
    public int tid() {
        return tid;
    }

    public int levels() {
        return levels;
    }

    /** Lets the leaf return (writes a byte to the pipe); the whole nest unwinds and the thread ends. */
    public void release() throws InterruptedException {
        if (thread.isAlive()) pipe.write(new byte[] {1});
        thread.join(10_000);
        if (thread.isAlive()) throw new AssertionError("thread " + thread.getName() + " did not unwind in 10 s");
        if (failure != null) throw new AssertionError("JNI nest failed", failure);
    }

    @Override
    public void close() throws InterruptedException {
        try {
            release();
        } finally {
            pipe.close();
        }
    }

    /**
     * The fixture's own frames while blocked, innermost first: the leaf, then per native segment
     * {@code down_level, Java_..._nativeDown, nativeDown (native method)} and between segments
     * {@code javaUp}; last {@code enter}. Frames not listed (libc's read, libjvm's JavaCalls and jni_
     * functions, call stubs) may lie between them; other Java frames or frames of this library may not.
     */
    public List<Frame> expectedFrames() {
        List<Frame> frames = new ArrayList<>();
        frames.add(new Frame(FrameKind.NATIVE, leaf == Leaf.READ ? BLOCK_IN_READ : SPIN));
        for (int level = 0; level <= levels; level++) {
            frames.add(new Frame(FrameKind.NATIVE, DOWN_LEVEL));
            frames.add(new Frame(FrameKind.NATIVE, JNI_ENTRY));
            frames.add(new Frame(FrameKind.JAVA_NATIVE, CLASS + ".nativeDown"));
            frames.add(new Frame(FrameKind.JAVA, CLASS + (level < levels ? ".javaUp" : ".enter")));
        }
        return frames;
    }

    /** {@link #expectedFrames()} of the given kinds only: e.g. NATIVE alone for a native-only walk. */
    public List<Frame> expectedFrames(FrameKind... kinds) {
        List<FrameKind> keep = List.of(kinds);
        return expectedFrames().stream().filter(f -> keep.contains(f.kind())).toList();
    }

    /**
     * Null when {@code stack} (innermost first) holds the {@code expected} frames in order, with only
     * foreign frames before and between them; otherwise what is wrong. Foreign: frames of other
     * libraries and of the JVM; also Java frames when {@code expected} has none, and frames of
     * {@link #LIBRARY} when it has no NATIVE ones (so a filtered list checks one projection).
     * Frames after the last expected one are not examined.
     */
    public static String mismatch(List<Frame> expected, List<StackEntry> stack) {
        boolean checkJava = expected.stream().anyMatch(f -> f.kind() != FrameKind.NATIVE);
        boolean checkNative = expected.stream().anyMatch(f -> f.kind() == FrameKind.NATIVE);
        int next = 0;
        for (int i = 0; i < stack.size() && next < expected.size(); i++) {
            StackEntry e = stack.get(i);
            if (expected.get(next).matches(e)) {
                next++;
            } else if (e.isJava() ? checkJava : checkNative && e.library().equals(LIBRARY)) {
                return "frame " + i + " is " + e.format() + " where " + expected.get(next) + " was expected";
            }
        }
        if (next < expected.size()) return "stack ends before " + expected.get(next) + " (frame " + next + " of expected)";
        return null;
    }

    /** Java → native: the first step of the nest. */
    static void enter(int levels, int fd, boolean spin) {
        nativeDown(levels, fd, spin);
    }

    /** Called back from stt::jni::down_level through JNI: down again one level. */
    static void javaUp(int level, int fd, boolean spin) {
        nativeDown(level, fd, spin);
    }

    private static native void nativeDown(int level, int fd, boolean spin);

    private static native int nativeTid();

    /** Waits until the Java stack is fully nested and (READ) the thread sleeps in the kernel. */
    private void awaitInLeaf(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (failure != null) throw new AssertionError("JNI nest failed", failure);
            StackTraceElement[] st = thread.getStackTrace();
            long downs = java.util.Arrays.stream(st).filter(s -> s.getMethodName().equals("nativeDown")).count();
            if (st.length > 0 && st[0].getMethodName().equals("nativeDown") && downs == levels + 1
                    && (leaf == Leaf.SPIN || sleepingInKernel())) {
                return;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("thread " + thread.getName() + " never reached the JNI leaf");
    }

    private boolean sleepingInKernel() {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'S';
        } catch (IOException e) {
            return false;
        }
    }

    private static Path libraryPath() {
        URL url = JniCallbacks.class.getResource("/linux-x86-64/libstacktracetest.so");
        if (url == null || !url.getProtocol().equals("file")) {
            throw new IllegalStateException("libstacktracetest.so not found as a file on the test classpath: " + url
                    + " (build with mvn test-compile)");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Demo: nests {@code args[0]} levels (default 3), prints the Java and native views, waits {@code args[1]} s. */
    public static void main(String[] args) throws Exception {
        int levels = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int holdSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        Leaf leaf = args.length > 2 ? Leaf.valueOf(args[2]) : Leaf.READ;
        long t0 = System.nanoTime();
        try (JniCallbacks t = start("jni-nest", levels, leaf)) {
            System.out.printf("pid=%d tid=%d levels=%d leaf=%s in leaf after %.1f ms%n", ProcessHandle.current().pid(),
                    t.tid(), levels, leaf, (System.nanoTime() - t0) / 1e6);
            System.out.println("expected (innermost first):");
            t.expectedFrames().forEach(f -> System.out.println("  " + f));
            System.out.println("Thread.getStackTrace:");
            for (StackTraceElement e : t.thread().getStackTrace()) System.out.println("  " + e);
            List<StackEntry> stack = dev.stacktrace.Stacktrace.getThreadStack(t.thread(), 200, true);
            System.out.println("Stacktrace.getThreadStack:");
            stack.forEach(e -> System.out.println("  " + e.format()));
            System.out.println("mismatch(all kinds): " + mismatch(t.expectedFrames(), stack));
            System.out.println("mismatch(NATIVE only): " + mismatch(t.expectedFrames(FrameKind.NATIVE), stack));
            System.out.println("mismatch(Java only): "
                    + mismatch(t.expectedFrames(FrameKind.JAVA, FrameKind.JAVA_NATIVE), stack));
            Thread.sleep(holdSeconds * 1000L);
            long r0 = System.nanoTime();
            t.release();
            System.out.printf("released, thread ended in %.1f ms%n", (System.nanoTime() - r0) / 1e6);
        }
    }
}
