package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import dev.stacktrace.testlib.ChildJvm;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thread interrupted inside malloc must not be deadlocked by its first sample: nothing the handler
 * does may allocate (an unwinder's per-thread cache made on a thread's first use, for one, or a
 * dynamic thread-local variable's first access). Fresh threads, most of their time in
 * malloc/free, each sampled at once and often; in a child JVM, so that a deadlock shows as a
 * timeout here instead of a stuck test JVM.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class MallocInterruptTest {

    @Test
    void freshThreadsSampledInsideMallocNeverDeadlock() throws Exception {
        ChildJvm.Result result = ChildJvm.run(Child.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("sampled="), result.output());
    }

    /** Runs in the child JVM. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            AtomicInteger sampled = new AtomicInteger();
            AtomicInteger timeouts = new AtomicInteger();
            // threads that exist before the library is set up, and threads started after it
            List<Thread> early = startMallocThreads(4);
            Stacktrace.getStack(5, true);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int generation = 0;
            while (System.nanoTime() < deadline && generation < 200) {
                List<Thread> fresh = generation % 2 == 0 ? startMallocThreads(4) : List.of();
                for (Thread t : (fresh.isEmpty() ? early : fresh)) {
                    for (int i = 0; i < 20; i++) {
                        try {
                            Stacktrace.getThreadStack(t, 64, true);
                            sampled.incrementAndGet();
                        } catch (StacktraceException e) {
                            if (e.reason() == StacktraceException.Reason.TIMEOUT) timeouts.incrementAndGet();
                        }
                    }
                }
                for (Thread t : fresh) t.interrupt();
                generation++;
            }
            for (Thread t : early) t.interrupt();
            System.out.println("sampled=" + sampled + " timeouts=" + timeouts + " generations=" + generation);
            // a deadlocked thread never answers again: every later request to it times out
            System.exit(timeouts.get() > sampled.get() / 10 ? 1 : 0);
        }

        private static List<Thread> startMallocThreads(int n) {
            List<Thread> threads = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> {
                    long sum = 0;
                    while (!Thread.currentThread().isInterrupted()) {
                        Memory m = new Memory(64 + (sum & 4095));  // malloc
                        m.setByte(0, (byte) 1);
                        sum += m.getByte(0);
                        m.close();  // free
                    }
                }, "malloc-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
            return threads;
        }
    }
}
