package dev.stacktrace.internal.capture;

import dev.stacktrace.StacktraceException;
import dev.stacktrace.StacktraceException.Reason;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.binding.LibraryStatus;
import dev.stacktrace.internal.jvm.HotSpotLayout;
import com.sun.jna.JNIEnv;
import com.sun.jna.Memory;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Raw stacks (instruction addresses, innermost first) of threads of this process, with the
 * native library's error codes turned into exceptions that say what to do.
 *
 * <p>Configured by system properties read once, at first use:
 * {@value #SIGNAL_PROPERTY} (a free realtime signal, default {@value #DEFAULT_SIGNAL}, i.e.
 * SIGRTMAX-6; SIGRTMAX-2 is taken by the JDK's libnio) and {@value #TIMEOUT_PROPERTY} (how long to wait for a thread, default
 * {@value #DEFAULT_TIMEOUT_MILLIS} ms).
 */
public final class NativeCapture {
    public static final String SIGNAL_PROPERTY = "dev.stacktrace.signal";
    public static final String TIMEOUT_PROPERTY = "dev.stacktrace.timeoutMillis";
    public static final String DUMP_SIGNAL_PROPERTY = "dev.stacktrace.dumpSignal";
    public static final String DUMP_FILE_PROPERTY = "dev.stacktrace.dumpFile";
    public static final int DEFAULT_SIGNAL = 58;
    public static final int DEFAULT_TIMEOUT_MILLIS = 100;
    public static final int MAX_DEPTH = LibStacktrace.MAX_FRAMES;

    /** The least a kept copy of a mixed stack holds, so that depths asked for near the default share one. */
    private static final int MIN_SPARE_FRAMES = 128;
    private static final int ESRCH = 3;
    private static final int EAGAIN = 11;
    private static final int EINVAL = 22;
    private static final int ETIMEDOUT = 110;

    private static volatile NativeCapture instance;

    private final int signal;
    private final int timeoutMillis;
    private final long handlerAddress;
    private volatile boolean vmInitialised;
    private volatile String vmUnavailable;
    private volatile boolean jvmtiMissing;
    /** Threads that timed out: checked in /proc before they are signalled again. */
    private final Set<Integer> suspects = ConcurrentHashMap.newKeySet();
    /** Where the native side writes another thread's stack. */
    private final SpareBuffer buffers = new SpareBuffer();
    /** The Java copy of a mixed stack that is named at once, kept for the next (one; concurrent callers make their own). */
    private final AtomicReference<long[]> spareWords = new AtomicReference<>();

    private NativeCapture(int signal, int timeoutMillis, long handlerAddress) {
        this.signal = signal;
        this.timeoutMillis = timeoutMillis;
        this.handlerAddress = handlerAddress;
    }

    /** The process-wide instance; installs the signal handler on first use. */
    public static NativeCapture get() {
        NativeCapture capture = instance;
        if (capture == null) {
            synchronized (NativeCapture.class) {
                capture = instance;
                if (capture == null) {
                    capture = start(intProperty(SIGNAL_PROPERTY, DEFAULT_SIGNAL),
                            intProperty(TIMEOUT_PROPERTY, DEFAULT_TIMEOUT_MILLIS));
                    instance = capture;
                    int dumpSignal = dumpSignalProperty();
                    if (dumpSignal != 0) {
                        try {
                            capture.dumpOnSignal(dumpSignal, System.getProperty(DUMP_FILE_PROPERTY));
                        } catch (StacktraceException e) {
                            throw new StacktraceException(e.reason(), "-D" + DUMP_SIGNAL_PROPERTY + "=" + dumpSignal + ": "
                                    + e.getMessage(), e);
                        }
                    }
                }
            }
        }
        return capture;
    }

    private static NativeCapture start(int signal, int timeoutMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException(TIMEOUT_PROPERTY + " must be a positive number of milliseconds, not "
                    + timeoutMillis);
        }
        linked();
        int rc = LibStacktrace.st_init(signal);
        if (rc < 0) {
            throw new StacktraceException(Reason.SIGNAL_UNAVAILABLE, switch (-rc) {
                case LibStacktrace.E_SIGNAL -> "signal " + signal + " is not a realtime signal (SIGRTMIN.."
                        + "SIGRTMAX); set -D" + SIGNAL_PROPERTY + " to a free one such as " + DEFAULT_SIGNAL;
                case LibStacktrace.E_BUSY -> otherCopy(signal)
                        .map(path -> "another copy of stacktrace (" + path + ") owns signal " + signal
                                + "; load stacktrace once per JVM (e.g. from the agent or a parent class loader), "
                                + "or give this copy another signal with -D" + SIGNAL_PROPERTY)
                        .orElseGet(() -> "signal " + signal + " already has a handler (" + owner(signal)
                                + "), which stacktrace will not replace; set -D" + SIGNAL_PROPERTY
                                + " to a free realtime signal");
                case LibStacktrace.E_OTHER_SIGNAL -> "the native library is already using signal "
                        + LibStacktrace.st_signal() + "; " + SIGNAL_PROPERTY + " cannot change after first use";
                default -> "cannot install the handler for signal " + signal + " (error " + -rc + ")";
            });
        }
        return new NativeCapture(signal, timeoutMillis, LibStacktrace.st_signal_owner(signal));
    }

    /** Loads the native library, turning a link failure into an exception that says what to install. */
    public static void linked() {
        LibraryStatus.ensureLoaded();
    }

    /** The file of another copy of this library whose handler owns the signal, if that is what owns it. */
    private static Optional<String> otherCopy(int signal) {
        byte[] path = new byte[4096];
        if (LibStacktrace.st_signal_owner_library(signal, path, path.length) != 1) return Optional.empty();
        int end = 0;
        while (end < path.length && path[end] != 0) end++;
        return Optional.of(new String(path, 0, end, java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String owner(int signal) {
        long handler = LibStacktrace.st_signal_owner(signal);
        return handler == 1 ? "the signal is ignored (SIG_IGN)" : String.format("handler at 0x%x", handler);
    }

    /** The signal {@link #DUMP_SIGNAL_PROPERTY} asks for; 0 when it is not set. */
    public static int dumpSignalProperty() {
        return intProperty(DUMP_SIGNAL_PROPERTY, 0);
    }

    private static int intProperty(String name, int fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) return fallback;
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + name + " must be a whole number, not '" + value + "'");
        }
    }

    public int signal() {
        return signal;
    }

    public int timeoutMillis() {
        return timeoutMillis;
    }

    /** The OS id of the calling thread. */
    public static int currentTid() {
        return LibraryStatus.gettid();
    }

    /** The calling thread's frames from its caller of this method down (JNA's own frames included). */
    public long[] captureSelf(int maxDepth) {
        long[] frames = new long[Math.max(1, maxDepth)];
        int n = LibStacktrace.st_capture_self(frames, maxDepth);
        if (n < 0) throw failure(n, currentTid());
        return Arrays.copyOf(frames, n);
    }

    /** Another thread's frames, taken inside it by the signal handler. */
    public long[] captureThread(int tid, int maxDepth) {
        checkSuspect(tid);
        Memory frames = buffers.take((long) Long.BYTES * Math.max(1, maxDepth));
        try {
            int n = LibStacktrace.st_capture_thread(tid, frames, maxDepth, timeoutMillis);
            if (n == -ETIMEDOUT && waitingForCpu(tid)) n = LibStacktrace.st_capture_thread(tid, frames, maxDepth, timeoutMillis);
            if (n < 0) throw failure(n, tid);
            return frames.getLongArray(0, n);
        } finally {
            buffers.giveBack(frames);
        }
    }

    /**
     * A thread that was runnable all along but did not answer was most likely waiting for a CPU (a
     * busy machine): it deserves one more deadline before it is reported.
     */
    private static boolean waitingForCpu(int tid) {
        Optional<TaskStatus> status = TaskStatus.read(tid);
        return status.isPresent() && status.get().state().startsWith("R");
    }

    /**
     * Why this JVM's Java frames cannot be found (not HotSpot, or a HotSpot whose layout we do not
     * know), or null when they can. Hands the layout to the native walker on first use.
     */
    public String javaFramesUnavailable() {
        if (!vmInitialised) initialiseVm();
        return vmUnavailable;
    }

    private synchronized void initialiseVm() {
        if (vmInitialised) return;
        try {
            long[] layout = HotSpotLayout.build();
            int rc = LibStacktrace.st_vm_init(JNIEnv.CURRENT, layout, layout.length);
            if (rc == -LibStacktrace.E_JVMTI) {
                vmUnavailable = null;  // frames still found, without AsyncGetCallTrace's inlining
                jvmtiMissing = true;
            } else if (rc != 0) {
                vmUnavailable = "the native walker refused this JVM's layout (error " + -rc + ")";
            }
        } catch (HotSpotLayout.MissingException | RuntimeException | LinkageError e) {
            vmUnavailable = "this JVM's internals are not the HotSpot layout we know: " + e.getMessage();
        }
        vmInitialised = true;
    }

    /**
     * From now on, the signal {@code dumpSignal} makes a native thread of ours write every thread's
     * stack to {@code file} (null: stderr), even while no Java thread can run.
     */
    public void dumpOnSignal(int dumpSignal, String file) {
        String unavailable = javaFramesUnavailable();
        if (unavailable != null) throw new StacktraceException(Reason.UNSUPPORTED, "no thread dumps: " + unavailable);
        int rc = LibStacktrace.st_dump_on_signal(dumpSignal, file == null ? "" : file);
        if (rc == 0) return;
        throw new StacktraceException(Reason.SIGNAL_UNAVAILABLE, switch (-rc) {
            case LibStacktrace.E_SIGNAL -> "dump signal " + dumpSignal + " is not a realtime signal (SIGRTMIN..SIGRTMAX)";
            case LibStacktrace.E_BUSY -> "dump signal " + dumpSignal + " is taken (" + owner(dumpSignal)
                    + (dumpSignal == signal ? ": it is the capture signal" : "") + "); choose another free realtime signal";
            case LibStacktrace.E_OTHER_SIGNAL -> "thread dumps are already on another signal";
            default -> "cannot set up thread dumps on signal " + dumpSignal + " (error " + -rc + ")";
        });
    }

    /** True when JVMTI could not be had: Java frames come without inlined frames and names. */
    public boolean jvmtiMissing() {
        return jvmtiMissing;
    }

    /**
     * A thread's mixed stack as raw words, {@link LibStacktrace#MIXED_WORDS} per frame (kind, id, bci,
     * pc, sp), innermost first. {@code info} receives AGCT's result, the walk's end, the segments and
     * whether the thread is a Java thread.
     */
    public long[] captureMixed(int tid, int maxFrames, long[] info) {
        Memory words = buffers.take(mixedBytes(maxFrames));
        try {
            return words.getLongArray(0, LibStacktrace.MIXED_WORDS * captureMixedInto(words, tid, maxFrames, info));
        } finally {
            buffers.giveBack(words);
        }
    }

    /** Reads a mixed capture's words in place; they are the capture's only for the duration of the call. */
    public interface MixedReader<T> {
        /** {@code words[0 .. frames × MIXED_WORDS)} are the stack, laid out as {@link #captureMixed} returns it. */
        T read(long[] words, int frames);
    }

    /**
     * As {@link #captureMixed(int, int, long[])}, handing the words to {@code reader} in an array kept
     * from one capture to the next: a stack named at once needs no array of its own.
     */
    public <T> T captureMixed(int tid, int maxFrames, MixedReader<T> reader) {
        Memory buffer = buffers.take(mixedBytes(maxFrames));
        long[] words = spareWords.getAndSet(null);
        if (words == null || words.length < LibStacktrace.MIXED_WORDS * maxFrames) {
            words = new long[LibStacktrace.MIXED_WORDS * Math.max(maxFrames, MIN_SPARE_FRAMES)];
        }
        try {
            int frames = captureMixedInto(buffer, tid, maxFrames, null);
            buffer.read(0, words, 0, LibStacktrace.MIXED_WORDS * frames);
            return reader.read(words, frames);
        } finally {
            buffers.giveBack(buffer);
            spareWords.compareAndSet(null, words);
        }
    }

    private static long mixedBytes(int maxFrames) {
        return (long) Long.BYTES * LibStacktrace.MIXED_WORDS * Math.max(1, maxFrames);
    }

    /** A mixed capture into {@code words}: the number of frames written. */
    private int captureMixedInto(Memory words, int tid, int maxFrames, long[] info) {
        String unavailable = javaFramesUnavailable();
        if (unavailable != null) throw new StacktraceException(Reason.UNSUPPORTED, "no Java frames: " + unavailable);
        checkSuspect(tid);
        int n = LibStacktrace.st_capture_mixed(tid, words, maxFrames, timeoutMillis, info);
        if (n == -ETIMEDOUT && waitingForCpu(tid)) n = LibStacktrace.st_capture_mixed(tid, words, maxFrames, timeoutMillis, info);
        if (n < 0) throw failure(n, tid);
        return n;
    }

    /** The bare signal round trip to a thread, with a handler that does nothing (the floor). */
    public void ping(int tid) {
        checkSuspect(tid);
        int rc = LibStacktrace.st_ping_thread(tid, timeoutMillis);
        if (rc < 0) throw failure(rc, tid);
    }

    /** A thread that timed out before is looked at first, so it fails at once if it still can't answer. */
    private void checkSuspect(int tid) {
        if (suspects.isEmpty() || !suspects.contains(tid)) return;  // isEmpty first: no boxing on the common path
        Optional<TaskStatus> status = TaskStatus.read(tid);
        if (status.isEmpty()) {
            suspects.remove(tid);
            throw noSuchThread(tid);
        }
        if (blocksSignal(status.get())) throw blocked(status.get());
        suspects.remove(tid);
    }

    private RuntimeException failure(int rc, int tid) {
        return switch (-rc) {
            case ESRCH -> noSuchThread(tid);
            case ETIMEDOUT -> explainTimeout(tid);
            // it took the signal, so it does not block it (while our handler runs, the kernel masks
            // the signal: its mask in /proc says nothing then)
            case LibStacktrace.E_LATE -> new StacktraceException(Reason.TIMEOUT, "thread " + tid + " began its answer "
                    + "but did not finish it within " + timeoutMillis + " ms (starved of CPU, or a deep stack). Retry, "
                    + "or raise -D" + TIMEOUT_PROPERTY);
            case EAGAIN -> new StacktraceException(Reason.BUSY, "too many stack requests in flight at once "
                    + "(or the signal queue is full); retry, or ask for fewer stacks concurrently");
            case EINVAL -> new IllegalArgumentException("invalid request for thread " + tid);
            case LibStacktrace.E_NOT_INIT -> new StacktraceException(Reason.INTERNAL, "native library not initialised");
            case LibStacktrace.E_NO_VM -> new StacktraceException(Reason.UNSUPPORTED, "no Java frames on this JVM");
            default -> new StacktraceException(Reason.INTERNAL, "native capture failed with error " + -rc);
        };
    }

    private StacktraceException explainTimeout(int tid) {
        if (LibStacktrace.st_signal_owner(signal) != handlerAddress) {
            return new StacktraceException(Reason.SIGNAL_UNAVAILABLE, "another library replaced stacktrace's handler "
                    + "for signal " + signal + "; restart with -D" + SIGNAL_PROPERTY + " set to a signal nobody uses");
        }
        Optional<TaskStatus> status = TaskStatus.read(tid);
        if (status.isEmpty()) return noSuchThread(tid);
        suspects.add(tid);
        if (blocksSignal(status.get())) return blocked(status.get());
        return new StacktraceException(Reason.TIMEOUT, "thread " + tid + " (" + status.get().name() + ", state "
                + status.get().state() + ") did not answer within " + timeoutMillis + " ms; it may be stopped "
                + "or starved of CPU. Retry, or raise -D" + TIMEOUT_PROPERTY);
    }

    /**
     * Whether the thread really blocks our signal: two conclusive looks ({@code st_looks_blocking},
     * the rule wall mode's ticker uses too) within five, 10 ms apart. While our handler runs on a
     * thread the kernel masks the signal there as well, so a thread that is running, in the kernel
     * or in our handler is never judged on it; given five looks without two conclusive ones, it is
     * reported as not answering (starved, exiting, or computing with the signal blocked).
     */
    private boolean blocksSignal(TaskStatus first) {
        if (!first.blocks(signal)) return false;
        int conclusive = 0;
        for (int look = 0; look < 5; look++) {
            if (look > 0) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            int seen = LibStacktrace.st_looks_blocking(first.tid());
            if (seen == LibStacktrace.LOOK_CLEAR) return false;
            if (seen == LibStacktrace.LOOK_BLOCKS && ++conclusive == 2) return true;
        }
        return false;
    }

    private StacktraceException blocked(TaskStatus status) {
        return new StacktraceException(Reason.SIGNAL_BLOCKED, "thread " + status.tid() + " (" + status.name()
                + ") blocks signal " + signal + ", so its stack cannot be taken while it does; if that thread "
                + "blocks all signals on purpose, nothing can be done from inside the process");
    }

    private static StacktraceException noSuchThread(int tid) {
        return new StacktraceException(Reason.NO_SUCH_THREAD, "no thread with native id " + tid
                + " in this process (pid " + ProcessHandle.current().pid() + "); it may have exited");
    }
}
