package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MixedStackTest {

    // A thread parked at a known place, three calls deep in this class.
    static void parkHere(CountDownLatch started, Thread[] self) {
        levelOne(started, self);
    }

    static void levelOne(CountDownLatch started, Thread[] self) {
        levelTwo(started, self);
    }

    static void levelTwo(CountDownLatch started, Thread[] self) {
        started.countDown();
        while (self[0] != null) LockSupport.park(MixedStackTest.class);
    }

    /**
     * Java frames as "class.method:line", the line only where known (a native method has none).
     * Lambda proxies are left out on both sides: the JVM hides them from Thread.getStackTrace on
     * some JDKs and not on others.
     */
    private static List<String> javaFrames(List<StackEntry> stack) {
        List<String> frames = new ArrayList<>();
        for (StackEntry e : stack) {
            if (e.isJava() && !e.className().contains("$$Lambda")) frames.add(frame(e.className(), e.methodName(), e.lineNumber()));
        }
        return frames;
    }

    private static List<String> javaFrames(StackTraceElement[] trace) {
        List<String> frames = new ArrayList<>();
        for (StackTraceElement e : trace) {
            if (!e.getClassName().contains("$$Lambda")) frames.add(frame(e.getClassName(), e.getMethodName(), e.getLineNumber()));
        }
        return frames;
    }

    private static String frame(String className, String method, int line) {
        return className + "." + method + (line > 0 ? ":" + line : "");
    }

    /**
     * Exactly what Thread.getStackTrace says, field by field: -2 for a native method's line, the
     * frames the JVM hides left out (a lambda proxy: shown by JDK 17, hidden since 19); and with
     * showJvm the lambda proxy, named as Class.getName() names it.
     */
    @Test
    void javaFramesEqualThreadGetStackTraceExactly() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Thread[] self = new Thread[1];
        Runnable body = () -> parkHere(started, self);
        Thread parked = new Thread(body, "parked-exactly");
        self[0] = parked;
        parked.start();
        started.await();
        try {
            BlockedNativeThread.awaitBlocked(parked, "jdk.internal.misc.Unsafe.park", java.time.Duration.ofSeconds(10));
            List<String> expected = new ArrayList<>();
            for (StackTraceElement e : parked.getStackTrace()) {
                expected.add(e.getClassName() + "." + e.getMethodName() + "(" + e.getFileName() + ":" + e.getLineNumber() + ")");
            }
            List<StackEntry> stack = Stacktrace.getThreadStack(parked, 200, false);
            List<String> actual = new ArrayList<>();
            for (StackEntry e : stack) {
                if (e.isJava()) actual.add(e.className() + "." + e.methodName() + "(" + e.fileName() + ":" + e.lineNumber() + ")");
            }
            assertEquals(expected, actual, () -> Stacktrace.format(stack));
            assertTrue(expected.get(0).endsWith("(Unsafe.java:-2)"), expected.toString());

            String proxy = body.getClass().getName();  // Foo$$Lambda$14/0x0000000800c03000 (JDK 17)
            assertTrue(proxy.contains("/"), proxy);
            List<StackEntry> all = Stacktrace.getThreadStack(parked, 200, true);
            assertTrue(all.stream().anyMatch(e -> e.isJava() && e.className().equals(proxy)),
                    () -> proxy + " in\n" + Stacktrace.format(all));
        } finally {
            self[0] = null;
            LockSupport.unpark(parked);
            parked.join();
        }
    }

    @Test
    void javaFramesOfAParkedThreadEqualThreadGetStackTrace() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Thread[] self = new Thread[1];
        Thread parked = new Thread(() -> parkHere(started, self), "parked");
        self[0] = parked;
        parked.start();
        started.await();
        try {
            BlockedNativeThread.awaitBlocked(parked, "jdk.internal.misc.Unsafe.park", java.time.Duration.ofSeconds(10));
            // The same methods in the same order, with the same lines where both know them. Frames the
            // JVM hides from getStackTrace (@Hidden methods, hidden classes) are the JVM's: showJvm=false.
            List<String> expected = javaFrames(parked.getStackTrace());
            List<StackEntry> stack = Stacktrace.getThreadStack(parked, 200, false);
            assertEquals(expected, javaFrames(stack), () -> Stacktrace.format(stack));
            assertTrue(expected.get(0).startsWith("jdk.internal.misc.Unsafe.park"), expected.toString());
            assertTrue(expected.stream().anyMatch(f -> f.startsWith(MixedStackTest.class.getName() + ".levelTwo:")));
            // Native frames above the park: libc's futex wait, below it the thread's start.
            int park = indexOf(stack, "jdk.internal.misc.Unsafe.park");
            assertTrue(park > 0, () -> Stacktrace.format(stack));
            assertEquals(StackEntry.Kind.JAVA_NATIVE, stack.get(park).kind());
            assertTrue(stack.subList(0, park).stream().noneMatch(StackEntry::isJava));
            assertTrue(stack.subList(0, park).stream().anyMatch(e -> e.library().equals("libc.so.6")));
            assertTrue(stack.get(stack.size() - 1).name().startsWith("clone"), () -> Stacktrace.format(stack));
        } finally {
            self[0] = null;
            LockSupport.unpark(parked);
            parked.join();
        }
    }

    @Test
    void aJniCallIntoZipShowsItsNativeFramesAboveItsJavaCallers() throws Exception {
        Thread deflater = new Thread(MixedStackTest::deflateForever, "deflater");
        deflater.setDaemon(true);
        running = true;
        deflater.start();
        try {
            List<StackEntry> stack = null;
            for (int attempt = 0; attempt < 2000 && stack == null; attempt++) {
                List<StackEntry> s = Stacktrace.getThreadStack(deflater, 200, true);
                int jni = indexOf(s, "java.util.zip.Deflater.deflateBytes");
                // inside zlib (not, say, in the JVM linking the native method on its first call)
                if (jni > 0 && s.get(jni - 1).name().startsWith("Java_java_util_zip_Deflater_deflateBytes")) stack = s;
                else Thread.sleep(1);
            }
            assertTrue(stack != null, "never caught the thread inside zlib");
            List<StackEntry> found = stack;
            int jni = indexOf(found, "java.util.zip.Deflater.deflateBytes");
            StackEntry nativeMethod = found.get(jni);
            assertEquals(StackEntry.Kind.JAVA_NATIVE, nativeMethod.kind(), () -> Stacktrace.format(found));
            // Right above the Java native method: the JNI function, in libzip, with its name.
            StackEntry above = found.get(jni - 1);
            assertFalse(above.isJava());
            assertTrue(above.name().startsWith("Java_java_util_zip_Deflater_deflateBytes"), () -> Stacktrace.format(found));
            assertEquals("libzip.so", above.library());
            // Everything above it is native (zlib's deflate and friends); below it, Java callers in order.
            assertTrue(found.subList(0, jni).stream().noneMatch(StackEntry::isJava), () -> Stacktrace.format(found));
            List<String> callers = new ArrayList<>();
            for (StackEntry e : found.subList(jni + 1, found.size())) if (e.isJava()) callers.add(e.methodName());
            int deflate = callers.indexOf("deflate");
            int ours = callers.indexOf("deflateForever");
            assertTrue(deflate >= 0 && ours > deflate, () -> Stacktrace.format(found));
            assertTrue(found.stream().anyMatch(e -> e.name().startsWith("JavaCalls::call_helper")), () -> Stacktrace.format(found));
        } finally {
            running = false;
            deflater.join(5000);
        }
    }

    private static volatile boolean running;

    static void deflateForever() {
        byte[] input = new byte[256 * 1024];
        new java.util.Random(1).nextBytes(input);
        byte[] output = new byte[input.length + 1024];
        while (running) {
            Deflater d = new Deflater(Deflater.BEST_COMPRESSION);
            d.setInput(input);
            d.finish();
            while (!d.finished()) d.deflate(output);
            d.end();
        }
    }

    @Test
    void theCallingThreadsOwnMixedStackStartsAtItsCaller() {
        List<StackEntry> stack = Stacktrace.getStack(100, false);
        StackEntry first = stack.get(0);
        assertTrue(first.isJava(), () -> Stacktrace.format(stack));
        assertEquals(MixedStackTest.class.getName(), first.className(), () -> Stacktrace.format(stack));
        assertEquals("theCallingThreadsOwnMixedStackStartsAtItsCaller", first.methodName());
        assertTrue(first.lineNumber() > 0);
    }

    @Test
    void showJvmFalseKeepsJavaAndApplicationNativeFrames() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("mixed-filter", 4)) {
            List<StackEntry> all = Stacktrace.getThreadStack(t.thread(), 200, true);
            List<StackEntry> app = Stacktrace.getThreadStack(t.thread(), 200, false);
            assertTrue(app.stream().anyMatch(StackEntry::isJava), () -> Stacktrace.format(app));
            assertTrue(app.stream().anyMatch(e -> e.name().equals(BlockedNativeThread.LEAF)));
            assertTrue(app.stream().noneMatch(e -> e.library().equals("libjvm.so") || e.kind() == StackEntry.Kind.JVM));
            assertTrue(all.stream().anyMatch(e -> e.library().equals("libjvm.so")));
            assertEquals(all.stream().filter(e -> !e.isJvm()).map(StackEntry::format).toList(),
                    app.stream().map(StackEntry::format).toList());
        }
    }

    private static int indexOf(List<StackEntry> stack, String javaMethodPrefix) {
        for (int i = 0; i < stack.size(); i++) {
            StackEntry e = stack.get(i);
            if (e.isJava() && (e.className() + "." + e.methodName()).startsWith(javaMethodPrefix)) return i;
        }
        return -1;
    }
}
