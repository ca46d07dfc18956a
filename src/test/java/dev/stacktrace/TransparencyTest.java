package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.Pipe;
import dev.stacktrace.testlib.TestNative;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A sampled thread notices nothing: syscalls restart, errno survives, blocking calls keep blocking. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransparencyTest {
    private static final int SAMPLES = 300;

    private static void sample(Thread thread) {
        for (int i = 0; i < SAMPLES; i++) Stacktrace.getThreadStack(thread, 100, true);
    }

    @Test
    void fileInputStreamReadOnAPipeKeepsBlockingThenReturnsTheData() throws Exception {
        Process cat = new ProcessBuilder("cat").start();
        try {
            InputStream from = cat.getInputStream();
            AtomicReference<Object> got = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    got.set(new String(from.readNBytes(6), StandardCharsets.UTF_8));
                } catch (Throwable e) {
                    got.set(e);
                }
            }, "pipe-reader");
            reader.start();
            BlockedNativeThread.awaitBlocked(reader, "readBytes", Duration.ofSeconds(10));
            sample(reader);
            assertTrue(reader.isAlive(), "read returned early: " + got.get());
            OutputStream to = cat.getOutputStream();
            to.write("hello\n".getBytes(StandardCharsets.UTF_8));
            to.flush();
            reader.join(10_000);
            assertEquals("hello\n", got.get());
        } finally {
            cat.destroyForcibly();
        }
    }

    @Test
    void threadSleepIsNeitherInterruptedNorCutShort() throws Exception {
        AtomicReference<Object> outcome = new AtomicReference<>();
        long sleepMillis = 800;
        Thread sleeper = new Thread(() -> {
            long start = System.nanoTime();
            try {
                Thread.sleep(sleepMillis);
                outcome.set(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } catch (Throwable e) {
                outcome.set(e);
            }
        }, "sleeper");
        sleeper.start();
        Thread.sleep(50);
        sample(sleeper);
        sleeper.join(10_000);
        assertTrue(outcome.get() instanceof Long, "sleep ended with " + outcome.get());
        assertTrue((Long) outcome.get() >= sleepMillis, "slept only " + outcome.get() + " ms");
    }

    @Test
    void nativeReadIsRestartedNotFailedWithEintr() throws Exception {
        try (Pipe pipe = new Pipe()) {
            byte[] buffer = new byte[5];
            long[] result = {Long.MIN_VALUE};
            Thread reader = new Thread(() -> result[0] = TestNative.stt_read_fully(pipe.readFd(), buffer, 5), "native-reader");
            reader.start();
            BlockedNativeThread.awaitBlocked(reader, "stt_read_fully", Duration.ofSeconds(10));
            sample(reader);
            pipe.write("abc".getBytes(StandardCharsets.UTF_8));
            sample(reader);
            pipe.write("de".getBytes(StandardCharsets.UTF_8));
            reader.join(10_000);
            assertEquals(5, result[0], "read(2) result (negative = -errno)");
            assertEquals("abcde", new String(buffer, StandardCharsets.UTF_8));
        }
    }

    @Test
    void errnoOfTheSampledThreadSurvives() throws Exception {
        int[] result = {0};
        TestNative.stt_start_spinning();
        Thread spinner = new Thread(() -> result[0] = TestNative.stt_errno_survives(4242, 20_000), "errno-keeper");
        spinner.start();
        try {
            BlockedNativeThread.awaitBlocked(spinner, "stt_errno_survives", Duration.ofSeconds(10));
            sample(spinner);
        } finally {
            TestNative.stt_stop_spinning();
            spinner.join(10_000);
        }
        assertEquals(4242, result[0]);
    }
}
