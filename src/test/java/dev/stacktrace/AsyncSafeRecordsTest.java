package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.TestBinding;
import dev.stacktrace.testlib.TestNative;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Async-signal-safe frame records: fixed-size records, names cut and flagged, printed with write(2). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AsyncSafeRecordsTest {
    private static final int NAME_AT = 8 + 8 + 4 * 4;
    private static final int FILE_AT = NAME_AT + TestBinding.TEXT_SIZE;

    /** A method whose class.method name is longer than a record holds. */
    static final class Names {
        static volatile boolean park = true;

        static void enter(CountDownLatch started) {
            aMethodWithAVeryLongNameThatGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOn(started);
        }

        static void aMethodWithAVeryLongNameThatGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOnGoesOnAndOn(CountDownLatch started) {
            started.countDown();
            while (park) LockSupport.park();
        }
    }

    @Test
    void recordsCarryJavaNamesFromTheVmAndFlagWhatTheyCut(@TempDir Path dir) throws Exception {
        NativeCapture.get().javaFramesUnavailable();  // the walker has the VM's layout
        CountDownLatch started = new CountDownLatch(1);
        Thread parked = new Thread(() -> Names.enter(started), "long-names");
        parked.start();
        started.await();
        try {
            BlockedNativeThread.awaitBlocked(parked, "jdk.internal.misc.Unsafe.park", java.time.Duration.ofSeconds(10));
            int max = 64;
            Memory records = new Memory((long) max * TestBinding.FRAME_INFO_SIZE);
            int n = TestBinding.st_collect_frames(Stacktrace.nativeThreadId(parked), records, max, 1000, 1);
            assertTrue(n > 5, "frames: " + n);
            int longOne = -1;
            boolean sawPark = false;
            for (int i = 0; i < n; i++) {
                long at = (long) i * TestBinding.FRAME_INFO_SIZE;
                String name = records.getString(at + NAME_AT, "UTF-8");
                if (name.equals("jdk.internal.misc.Unsafe.park")) sawPark = true;
                if (name.startsWith(Names.class.getName() + ".aMethodWithAVeryLongName")) longOne = i;
            }
            assertTrue(sawPark, "Unsafe.park named from the VM's own structures");
            assertTrue(longOne >= 0, "the long-named frame is there");
            long at = (long) longOne * TestBinding.FRAME_INFO_SIZE;
            assertEquals(TestBinding.TEXT_SIZE - 1, records.getString(at + NAME_AT, "UTF-8").length());
            assertEquals(1, records.getInt(at + 24), "name_truncated");
            assertEquals(0, records.getInt(at + 28), "file_truncated");
            assertEquals("AsyncSafeRecordsTest.java", records.getString(at + FILE_AT, "UTF-8"));

            Path out = dir.resolve("stack.txt");
            int fd = TestNative.stt_open_write(out.toString());
            assertTrue(fd >= 0);
            assertEquals(0, TestBinding.st_print_frames(fd, records, n, 1));
            TestNative.stt_close(fd);
            String text = Files.readString(out, StandardCharsets.UTF_8);
            String[] lines = text.split("\n");
            assertEquals("Stack (most recent call first):", lines[0]);
            assertEquals(n + 1, lines.length, text);
            assertTrue(text.contains("at jdk.internal.misc.Unsafe.park(Native Method)"), text);
            assertTrue(text.contains("...(AsyncSafeRecordsTest.java)"), text);
            assertTrue(text.matches("(?s).*\\[0x[0-9a-f]{16}] \\S+\\+0x[0-9a-f]+ \\(libc\\.so\\.6\\).*"), text);

            assertTrue(TestBinding.st_print_frames(1_000_000, records, 1, 0) < 0, "a bad descriptor is an error, not a crash");
        } finally {
            Names.park = false;
            LockSupport.unpark(parked);
            parked.join();
        }
    }

    @Test
    void aNativeDumpWritesEveryThreadWithItsFrames(@TempDir Path dir) throws Exception {
        NativeCapture.get().javaFramesUnavailable();
        try (BlockedNativeThread blocked = new BlockedNativeThread("dumped", 3)) {
            Path out = dir.resolve("dump.txt");
            int fd = TestNative.stt_open_write(out.toString());
            int threads = TestBinding.st_dump_all(fd);
            TestNative.stt_close(fd);
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertTrue(threads >= 5, text);
            assertEquals(threads + 1, text.split("\n\"", -1).length, "a header and one section per thread:\n" + text);
            String section = text.substring(text.indexOf("\"dumped\" tid=" + blocked.tid()));
            section = section.substring(0, section.indexOf("\n\n"));
            assertTrue(section.contains("stt::Recurser::leaf_read(int)") || section.contains("_ZN3stt8Recurser9leaf_readEi"),
                    section);
            assertTrue(section.contains("at dev.stacktrace.testlib.TestNative.stt_recurse_then_read(Native Method)"), section);
            assertTrue(section.endsWith("(libc.so.6)"), section);  // down to the thread's start in libc
        }
    }
}
