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

    private static final java.util.Set<Class<?>> IMMUTABLE_MAPS = java.util.Set.copyOf(java.util.List.of(java.util.Map.of().getClass(),
            java.util.Map.of("k", "v").getClass(), java.util.Map.of("k", "v", "k2", "v").getClass()));

    private int id;
    // The last set this thread entered, by the identity of the (immutable) map it was given and the
    // id it nested in: code that sets the same constant labels again skips the merge and the lookup.
    private java.util.Map<String, String> lastGiven;
    private int lastOuter = -1;
    private int lastId;
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

    /** The id {@link #remember} noted for {@code given} nested in {@code outer}, or -1. */
    public int remembered(java.util.Map<String, String> given, int outer) {
        return given == lastGiven && outer == lastOuter ? lastId : -1;
    }

    /** Notes that {@code given} nested in {@code outer} is the set {@code id}, when {@code given} cannot change. */
    public void remember(java.util.Map<String, String> given, int outer, int id) {
        if (!IMMUTABLE_MAPS.contains(given.getClass())) return;
        lastGiven = given;
        lastOuter = outer;
        lastId = id;
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
