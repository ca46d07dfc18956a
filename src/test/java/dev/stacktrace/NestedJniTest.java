package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.JniCallbacks;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Java → JNI → callback into Java → JNI again: every segment in its true place. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NestedJniTest {

    @Test
    void javaAndNativeSegmentsInterleaveInTheirTrueOrderWhenBlocked() throws Exception {
        try (JniCallbacks t = JniCallbacks.start("nested-read", 3, JniCallbacks.Leaf.READ)) {
            List<StackEntry> stack = Stacktrace.getThreadStack(t.thread(), 300, true);
            assertNull(JniCallbacks.mismatch(t.expectedFrames(), stack), () -> Stacktrace.format(stack));
            // Four native segments of ours, and the Java frames between them.
            long downs = stack.stream().filter(e -> e.name().equals(JniCallbacks.DOWN_LEVEL)).count();
            assertEquals(4, downs, () -> Stacktrace.format(stack));
            // The JVM's own frames between a JNI callback and its Java frames are there too.
            assertTrue(stack.stream().anyMatch(e -> e.name().startsWith("JavaCalls::call_helper")), () -> Stacktrace.format(stack));
            assertTrue(stack.get(stack.size() - 1).name().startsWith("clone"), () -> Stacktrace.format(stack));
        }
    }

    @Test
    void theSameWhileTheInnermostNativeCodeRuns() throws Exception {
        try (JniCallbacks t = JniCallbacks.start("nested-spin", 2, JniCallbacks.Leaf.SPIN)) {
            for (int i = 0; i < 200; i++) {
                List<StackEntry> stack = Stacktrace.getThreadStack(t.thread(), 300, true);
                assertNull(JniCallbacks.mismatch(t.expectedFrames(), stack), () -> Stacktrace.format(stack));
            }
        }
    }

    @Test
    void showJvmFalseKeepsTheApplicationsSegments() throws Exception {
        try (JniCallbacks t = JniCallbacks.start("nested-app", 2, JniCallbacks.Leaf.READ)) {
            List<StackEntry> stack = Stacktrace.getThreadStack(t.thread(), 300, false);
            assertNull(JniCallbacks.mismatch(t.expectedFrames(), stack), () -> Stacktrace.format(stack));
            assertTrue(stack.stream().noneMatch(StackEntry::isJvm));
        }
    }
}
