package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NativeThreadIdTest {

    @Test
    void everyLivePlatformThreadMapsToItsOwnTaskOfThisProcess() {
        Map<Integer, Thread> seen = new HashMap<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            int tid;
            try {
                tid = Stacktrace.nativeThreadId(thread);
            } catch (StacktraceException e) {
                if (!thread.isAlive()) continue;  // ended since the snapshot
                throw e;
            }
            assertTrue(Files.isDirectory(Path.of("/proc/self/task/" + tid)), thread + " -> " + tid);
            Thread previous = seen.put(tid, thread);
            assertEquals(null, previous, "two threads with tid " + tid);
        }
        assertTrue(seen.size() >= 3);
        assertEquals(ProcessHandle.current().pid() != 0, true);
    }

    @Test
    void threadsStartedAfterLoadingMapToTheIdTheyReportThemselves() throws Exception {
        Stacktrace.currentNativeThreadId();  // the library is loaded before these threads exist
        int n = 16;
        int[] reported = new int[n];
        Thread[] threads = new Thread[n];
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch done = new CountDownLatch(1);
        for (int i = 0; i < n; i++) {
            int index = i;
            threads[i] = new Thread(() -> {
                reported[index] = Stacktrace.currentNativeThreadId();
                ready.countDown();
                try {
                    done.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "late-" + i);
            threads[i].start();
        }
        ready.await();
        try {
            for (int i = 0; i < n; i++) {
                assertEquals(reported[i], Stacktrace.nativeThreadId(threads[i]), threads[i].getName());
                // The kernel's name for the task agrees (HotSpot names native threads after Java threads).
                String comm = Files.readString(Path.of("/proc/self/task/" + reported[i] + "/comm")).trim();
                assertEquals(threads[i].getName(), comm);
            }
        } finally {
            done.countDown();
            for (Thread t : threads) t.join();
        }
    }

    @Test
    void theCurrentThreadMapsToGettid() {
        int tid = Stacktrace.currentNativeThreadId();
        assertEquals(tid, Stacktrace.nativeThreadId(Thread.currentThread()));
        assertNotEquals(0, tid);
        assertTrue(Files.isDirectory(Path.of("/proc/self/task/" + tid)));
    }

    @Test
    void aVirtualThreadIsAClearError() throws Exception {
        Method start;
        try {
            start = Thread.class.getMethod("startVirtualThread", Runnable.class);
        } catch (NoSuchMethodException e) {
            org.junit.jupiter.api.Assumptions.abort("virtual threads need JDK 21+; this is " + Runtime.version());
            return;
        }
        CountDownLatch release = new CountDownLatch(1);
        Thread virtual = (Thread) start.invoke(null, (Runnable) () -> {
            try {
                release.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Stacktrace.nativeThreadId(virtual));
            assertTrue(e.getMessage().contains("virtual thread"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Stacktrace.getThreadStack(virtual, 10, true));
        } finally {
            release.countDown();
            virtual.join();
        }
    }
}
