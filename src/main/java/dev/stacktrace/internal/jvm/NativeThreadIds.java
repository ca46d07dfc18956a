package dev.stacktrace.internal.jvm;

import com.sun.jna.JNIEnv;
import dev.stacktrace.StacktraceException;
import dev.stacktrace.StacktraceException.Reason;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.binding.LibraryStatus;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * java.lang.Thread → the OS thread id (what jstack prints as nid and top -H shows).
 *
 * <p>There is no public API for it, so we follow the JVM's own pointers: Thread.eetop is the
 * VM's JavaThread (read through JNI), whose OSThread holds the id; the field offsets come from
 * {@link VMStructs}, so they always match the running JVM. Every read goes through a non-faulting
 * peek, and eetop is read again afterwards: if it is unchanged, the thread was alive throughout
 * and the id is its own.
 */
public final class NativeThreadIds {
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
    /** A platform thread's tid never changes: ask the kernel once per thread. */
    private static final ThreadLocal<Integer> CURRENT = ThreadLocal.withInitial(LibraryStatus::gettid);

    private NativeThreadIds() {}

    public static int of(Thread thread) {
        if (thread == null) throw new NullPointerException("thread is null");
        if (thread == Thread.currentThread() && !isVirtual(thread)) return current();
        if (isVirtual(thread)) {
            throw new IllegalArgumentException("\"" + thread.getName() + "\" is a virtual thread: it has no OS thread "
                    + "of its own (it runs on a carrier thread while mounted); pass a platform thread");
        }
        LibraryStatus.ensureLoaded();
        Offsets offsets = Offsets.INSTANCE;
        long javaThread = eetop(thread);
        if (javaThread == 0) throw notAlive(thread);
        long osThread = peek(javaThread + offsets.osThread);
        if (osThread == 0) throw notAlive(thread);
        int tid = (int) peek(osThread + offsets.threadId);  // pid_t: the low 32 bits (little-endian)
        if (eetop(thread) != javaThread || tid <= 0) throw notAlive(thread);
        return tid;
    }

    /** The calling thread's tid; a virtual thread gets its carrier's, asked afresh each time. */
    public static int current() {
        Thread me = Thread.currentThread();
        return isVirtual(me) ? LibraryStatus.gettid() : CURRENT.get();
    }

    private static long eetop(Thread thread) {
        return LibStacktrace.st_thread_eetop(JNIEnv.CURRENT, thread);
    }

    private static long peek(long address) {
        long[] word = new long[1];
        return LibStacktrace.st_peek(address, word, 1) == 1 ? word[0] : 0;
    }

    private static StacktraceException notAlive(Thread thread) {
        return new StacktraceException(Reason.NO_SUCH_THREAD, "thread \"" + thread.getName() + "\" (id "
                + thread.getId() + ") is not alive: it has not started or has terminated");
    }

    public static boolean isVirtual(Thread thread) {
        if (IS_VIRTUAL == null) return false;
        try {
            return (boolean) IS_VIRTUAL.invokeExact(thread);
        } catch (Throwable e) {
            return false;
        }
    }

    /** Thread.isVirtual() exists from JDK 21; on 17 there are no virtual threads. */
    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** The two offsets, found once. JDK 21 moved _osthread from JavaThread to Thread. */
    private static final class Offsets {
        static final Offsets INSTANCE = new Offsets();
        final long osThread;
        final long threadId;

        private Offsets() {
            VMStructs vm = VMStructs.get();
            if (!vm.available()) {
                throw new StacktraceException(Reason.UNSUPPORTED, "cannot map Java threads to OS threads: "
                        + vm.unavailableReason() + "; use the native-tid methods instead");
            }
            long os = vm.offset("JavaThread", "_osthread").orElse(vm.offset("Thread", "_osthread").orElse(-1));
            long id = vm.offset("OSThread", "_thread_id").orElse(-1);
            if (os < 0 || id < 0) {
                throw new StacktraceException(Reason.UNSUPPORTED, "this JVM's VMStructs lacks Thread::_osthread or "
                        + "OSThread::_thread_id; use the native-tid methods instead");
            }
            osThread = os;
            threadId = id;
        }
    }
}
