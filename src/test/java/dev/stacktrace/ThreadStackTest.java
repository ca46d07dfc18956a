package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThreadStackTest {

    private static List<String> names(List<StackEntry> stack) {
        return stack.stream().map(StackEntry::name).toList();
    }

    @Test
    void anotherThreadsNativeStackIsExactFromReadDownToItsEntry() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("deep-native", 30)) {
            List<StackEntry> stack = Stacktrace.getThreadStack(t.thread(), 200, true);
            List<String> names = names(stack);
            int leaf = names.indexOf(BlockedNativeThread.LEAF);
            assertTrue(leaf >= 1, "leaf_read below the read(2) frame: " + names);
            // Frame 0 is libc's read (or its internal alias), innermost first.
            assertEquals("libc.so.6", stack.get(0).library(), () -> Stacktrace.format(stack));
            assertTrue(stack.get(0).name().contains("read"), () -> Stacktrace.format(stack));
            for (int i = 1; i <= 30; i++) {
                assertEquals(BlockedNativeThread.DESCEND, names.get(leaf + i), "frame " + (leaf + i));
            }
            assertEquals(BlockedNativeThread.ENTRY, names.get(leaf + 31));
            assertEquals("libstacktracetest.so", stack.get(leaf).library());
            // The bottom is the thread's start in libc.
            assertTrue(names.contains("start_thread"), () -> Stacktrace.format(stack));
            assertTrue(stack.get(stack.size() - 1).name().startsWith("clone"), () -> Stacktrace.format(stack));
        }
    }

    @Test
    void theSameStackThroughTheNativeThreadId() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("by-tid", 12)) {
            assertEquals(t.tid(), Stacktrace.nativeThreadId(t.thread()));
            List<String> byThread = names(Stacktrace.getThreadStack(t.thread(), 100, false));
            List<String> byTid = names(Stacktrace.getNativeThreadStack(t.tid(), 100, false));
            assertEquals(byThread, byTid);
        }
    }

    @Test
    void printingByNativeThreadIdGivesTheSameStack() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("print-by-tid", 3)) {
            ByteArrayOutputStream byTid = new ByteArrayOutputStream();
            Stacktrace.printThreadStack(t.tid(), new PrintStream(byTid, true, StandardCharsets.UTF_8), 50, false);
            ByteArrayOutputStream byThread = new ByteArrayOutputStream();
            Stacktrace.printThreadStack(t.thread(), new PrintStream(byThread, true, StandardCharsets.UTF_8), 50, false);
            assertEquals(byThread.toString(StandardCharsets.UTF_8), byTid.toString(StandardCharsets.UTF_8));
            assertTrue(byTid.toString(StandardCharsets.UTF_8).contains(BlockedNativeThread.LEAF));
        }
    }

    @Test
    void maxDepthBoundsTheFramesReturned() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("depth", 30)) {
            assertEquals(5, Stacktrace.getThreadStack(t.thread(), 5, true).size());
            assertEquals(5, Stacktrace.getThreadStack(t.thread(), 5, false).size());
            assertEquals(0, Stacktrace.getThreadStack(t.thread(), 0, true).size());
            assertEquals(1, Stacktrace.getNativeThreadStack(t.tid(), 1, true).size());
        }
    }

    @Test
    void showJvmFalseLeavesOutTheJvmsOwnFramesOnly() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("filter", 8)) {
            List<StackEntry> all = Stacktrace.getThreadStack(t.thread(), 200, true);
            List<StackEntry> app = Stacktrace.getThreadStack(t.thread(), 200, false);
            assertTrue(all.stream().anyMatch(e -> e.library().equals("libjvm.so") && e.isJvm()),
                    () -> Stacktrace.format(all));
            assertTrue(app.stream().noneMatch(StackEntry::isJvm), () -> Stacktrace.format(app));
            assertTrue(app.stream().noneMatch(e -> e.library().equals("libjvm.so") || e.library().equals("[jit]")));
            // Everything that is not the JVM's stays, in the same order.
            assertEquals(all.stream().filter(e -> !e.isJvm()).map(StackEntry::address).toList(),
                    app.stream().map(StackEntry::address).toList());
        }
    }

    @Test
    void everyNativeFrameOfAThreadInFileInputStreamReadHasAName() throws Exception {
        // A child process that writes nothing: FileInputStream.read on its stdout pipe blocks in read(2).
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            InputStream pipe = sleeper.getInputStream();
            Thread reader = new Thread(() -> {
                try {
                    pipe.read();
                } catch (IOException ignored) {
                    // the pipe closes when the test ends
                }
            }, "fis-reader");
            reader.setDaemon(true);
            reader.start();
            BlockedNativeThread.awaitBlocked(reader, "readBytes", java.time.Duration.ofSeconds(10));
            List<StackEntry> stack = Stacktrace.getThreadStack(reader, 200, true);
            Set<String> nativeLibraries = Set.of("libc.so.6", "libjvm.so", "libjava.so", "libnio.so", "libzip.so",
                    "libnet.so", "libjli.so");
            long checked = 0;
            for (StackEntry e : stack) {
                if (!nativeLibraries.contains(e.library())) continue;
                checked++;
                assertTrue(e.hasName(), () -> "unnamed frame " + e + " in\n" + Stacktrace.format(stack));
            }
            assertTrue(checked >= 8, () -> "expected libc, libjava and libjvm frames:\n" + Stacktrace.format(stack));
            List<String> names = names(stack);
            assertTrue(names.stream().anyMatch(n -> n.equals("readBytes") || n.startsWith("Java_java_io_FileInputStream")),
                    () -> Stacktrace.format(stack));
            assertTrue(names.contains("thread_native_entry(Thread*)"), () -> Stacktrace.format(stack));
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void theCallingThreadsOwnStackStartsAtTheCaller() {
        List<StackEntry> stack = Stacktrace.getStack(200, true);
        assertFalse(stack.isEmpty());
        // The call into the library (JNA's dispatch, libstacktrace) is not shown.
        assertTrue(stack.stream().noneMatch(e -> e.library().equals("libstacktrace.so")), () -> Stacktrace.format(stack));
        assertTrue(stack.stream().anyMatch(e -> e.name().startsWith("JavaCalls::call_helper")),
                () -> Stacktrace.format(stack));
        assertTrue(names(stack).contains("start_thread"), () -> Stacktrace.format(stack));
        List<StackEntry> app = Stacktrace.getStack(200, false);
        assertTrue(app.stream().noneMatch(StackEntry::isJvm));
        assertTrue(names(app).contains("start_thread"), () -> Stacktrace.format(app));
    }

    @Test
    void printedFormIsOneLinePerFrame() throws Exception {
        Pattern line = Pattern.compile("\\[0x[0-9a-f]{16}] (\\?|.+\\+0x[0-9a-f]+) \\((.+)\\)");
        try (BlockedNativeThread t = new BlockedNativeThread("printed", 4)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Stacktrace.printThreadStack(t.thread(), new PrintStream(bytes, true, StandardCharsets.UTF_8), 100, true);
            String[] all = bytes.toString(StandardCharsets.UTF_8).split("\\R");
            assertEquals("Stack (most recent call first):", all[0]);
            String[] lines = java.util.Arrays.copyOfRange(all, 1, all.length);
            assertTrue(lines.length > 6);
            // a hidden class as Class.getName() names it: Foo$$Lambda$14/0x0000000800c03000
            Pattern javaLine = Pattern.compile("at [\\w.$]+(/0x[0-9a-f]+)?\\.[\\w$<>]+\\((Native Method|Unknown Source|[\\w.]+\\.java(:\\d+)?)\\)");
            for (String l : lines) assertTrue(line.matcher(l).matches() || javaLine.matcher(l).matches(), l);
            assertTrue(lines[1].endsWith(" stt::Recurser::leaf_read(int)+0x" + lines[1].replaceAll(".*\\+0x([0-9a-f]+) .*", "$1")
                    + " (libstacktracetest.so)"), lines[1]);
            StackEntry entry = new StackEntry(0x00007f03f93eff16L, "__futex_abstimed_wait_common", 0xc6, "libc.so.6", false);
            assertEquals("[0x00007f03f93eff16] __futex_abstimed_wait_common+0xc6 (libc.so.6)", entry.format());
        }
    }
}
