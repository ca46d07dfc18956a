package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.SafepointStall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dump that needs no Java thread: a child JVM is stuck because one thread spins in a loop with
 * no safepoint poll while another asks for a safepoint (every other Java thread is held, jstack and
 * Thread.getStackTrace hang). A signal from outside still gets every thread's native and Java frames.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SafepointStallDumpTest {
    private static final int DUMP_SIGNAL = 59;

    /** The child's main: stacktrace set up by system properties at first use, then the stall. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Stacktrace.currentNativeThreadId();
            Stacktrace.getStack(10, false);  // first use: installs the capture and the dump signal
            SafepointStall.main(args);
        }
    }

    @Test
    void aSignalDumpsEveryThreadWhileTheJvmCannotReachASafepoint(@TempDir Path dir) throws Exception {
        Path dump = dir.resolve("dump.txt");
        List<String> options = List.of("-Ddev.stacktrace.dumpSignal=" + DUMP_SIGNAL, "-Ddev.stacktrace.dumpFile=" + dump);
        try (SafepointStall.Child child = SafepointStall.launch(Duration.ofSeconds(25), Child.class, options)) {
            long pid = child.awaitStalled(Duration.ofSeconds(60));
            // Stuck: the watchdog saw the heartbeat stop; the safepoint has not been reached.
            assertFalse(String.join("\n", child.output()).contains("GC_DONE"), String.join("\n", child.output()));

            Process kill = new ProcessBuilder("kill", "-" + DUMP_SIGNAL, Long.toString(pid)).start();
            assertEquals(0, kill.waitFor(), "kill");
            String text = awaitDump(dump);
            assertFalse(String.join("\n", child.output()).contains("GC_DONE"), "the dump was taken during the stall");

            String spinner = section(text, "stall-spinner");
            assertTrue(spinner.contains("at dev.stacktrace.testlib.SafepointStall.spin(SafepointStall.java)"), spinner);
            assertTrue(spinner.contains("(libc.so.6)"), "down to the thread's start:\n" + spinner);

            String reading = section(text, "stall-reading");
            assertTrue(reading.contains("read+0x"), reading);
            assertTrue(reading.contains("at dev.stacktrace.testlib.TestNative.stt_recurse_then_read(Native Method)"), reading);

            String parked = section(text, "stall-parked");
            assertTrue(parked.contains("at jdk.internal.misc.Unsafe.park(Native Method)"), parked);
            assertTrue(parked.contains("at java.util.concurrent.locks.LockSupport.parkNanos(LockSupport.java)"), parked);

            // the kernel keeps 15 characters of a name; the requester is in System.gc, or, if some
            // other safepoint request stopped the world first, still in its 200 ms park or printing
            // the line before the gc (the dump names each compiled frame by its outer method:
            // parkNanos, once inlined into the lambda, is not shown)
            String requester = section(text, "stall-requeste");
            assertTrue(requester.contains("at dev.stacktrace.testlib.SafepointStall.lambda$main$"), requester);
            assertTrue(requester.contains("at java.lang.Runtime.gc(Native Method)")
                    || requester.contains("at java.util.concurrent.locks.LockSupport.parkNanos(")
                    || requester.contains("at jdk.internal.misc.Unsafe.park(Native Method)")
                    || requester.contains("at java.io.PrintStream.println("), requester);

            assertTrue(text.contains("\"stacktrace-dump\""), "the dump thread lists itself");
        }
    }

    private static String awaitDump(Path dump) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(dump)) {
                String text = Files.readString(dump);
                if (text.contains("End of thread dump.")) return text;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no complete dump in " + dump + (Files.exists(dump) ? ":\n" + Files.readString(dump) : ""));
    }

    private static String section(String dump, String thread) {
        int start = dump.indexOf("\"" + thread);
        assertTrue(start >= 0, "no section for " + thread + " in\n" + dump);
        int end = dump.indexOf("\n\n", start);
        return dump.substring(start, end < 0 ? dump.length() : end);
    }
}
