package dev.stacktrace.internal.labels;

import com.sun.jna.Pointer;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Each thread's current label-set id, in Java and in the thread's native label word that the
 * sampler's signal handler reads (native-lib/src/labels.c). The word's address is asked for once
 * per thread; after that a change is a plain store into a direct buffer over it, no native call.
 * The word lives in the thread's own native thread-local storage, so only that thread writes it
 * and it goes away with the thread.
 *
 * <p>Virtual threads move between carrier threads, so a word would be the wrong thread's: their
 * labels are kept in Java only (they are not attached to samples).
 */
public final class ThreadLabels {
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
    private static final ThreadLocal<ThreadLabels> CURRENT = ThreadLocal.withInitial(ThreadLabels::new);

    private int id;
    /** The native word, null when there is none (virtual thread, native library unavailable). */
    private final ByteBuffer word;

    private ThreadLabels() {
        word = nativeWord();
    }

    /** The calling thread's labels. */
    public static ThreadLabels current() {
        return CURRENT.get();
    }

    public int id() {
        return id;
    }

    /** Sets the thread's label-set id; returns the one it replaces. */
    public int set(int newId) {
        int previous = id;
        id = newId;
        if (word != null) word.putInt(0, newId);
        return previous;
    }

    /** Whether samples of this thread carry its labels. */
    public boolean reachesSamples() {
        return word != null;
    }

    private static ByteBuffer nativeWord() {
        try {
            if (IS_VIRTUAL != null && (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread())) return null;
            long address = LibStacktrace.st_label_word();
            if (address == 0) return null;
            return new Pointer(address).getByteBuffer(0, 4).order(ByteOrder.nativeOrder());
        } catch (LinkageError | RuntimeException e) {
            return null;  // no native library here: labels stay in Java
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null;  // before JDK 21: no virtual threads
        }
    }
}
