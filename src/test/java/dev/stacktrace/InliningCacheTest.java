package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.internal.jvm.NativeThreadIds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A compiled frame's methods (those inlined into it, then its own) are asked of AsyncGetCallTrace
 * the first time the frame is met and taken from the inlining cache after: a stack named from the
 * cache is the very stack AsyncGetCallTrace's answer gave at the same place.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InliningCacheTest {
    private static volatile boolean running = true;
    private static volatile long sink;

    // C2 compiles spin's loop with step and mix inlined into it
    static long spin(long x) {
        while (running) x = step(x);
        return x;
    }

    static long step(long x) {
        for (int i = 0; i < 1000; i++) x = mix(x, i);
        return x;
    }

    static long mix(long x, int i) {
        return x * 6364136223846793005L + i;
    }

    /** A stack's frames without their sp (kind, id, bci, pc each), as one comparable list. */
    private static List<Long> withoutSp(long[] words) {
        List<Long> frames = new ArrayList<>();
        for (int i = 0; i + LibStacktrace.MIXED_WORDS <= words.length; i += LibStacktrace.MIXED_WORDS) {
            for (int k = 0; k < 4; k++) frames.add(words[i + k]);
        }
        return frames;
    }

    private static boolean hasInlinedFrame(long[] words) {
        for (int i = 0; i < words.length; i += LibStacktrace.MIXED_WORDS) {
            if (words[i] == LibStacktrace.FRAME_INLINED) return true;
        }
        return false;
    }

    @Test
    void aStackNamedFromTheCacheIsTheStackAsyncGetCallTraceGaveThere() throws Exception {
        NativeCapture capture = NativeCapture.get();
        int[] tid = new int[1];
        CountDownLatch started = new CountDownLatch(1);
        Thread spinner = new Thread(() -> {
            tid[0] = NativeThreadIds.current();
            started.countDown();
            sink = spin(1);
        }, "inlining-cache-spinner");
        spinner.setDaemon(true);
        spinner.start();
        try {
            assertTrue(started.await(10, TimeUnit.SECONDS));
            Thread.sleep(1500);  // the JIT compiles the loop before the first capture, so every nmethod is met first here
            Set<List<Long>> fromAgct = new HashSet<>();
            List<List<Long>> fromCache = new ArrayList<>();
            int inlined = 0;
            long[] info = new long[LibStacktrace.MIXED_INFO_WORDS];
            for (int i = 0; i < 2000; i++) {
                long[] words = capture.captureMixed(tid[0], 256, info);
                if (hasInlinedFrame(words)) inlined++;
                if (info[7] == 1) fromCache.add(withoutSp(words));
                else fromAgct.add(withoutSp(words));
            }
            assertTrue(inlined > 0, "no stack showed an inlined frame: the test's loop was not compiled as meant");
            assertTrue(fromCache.size() > 1000, "the cache answered for " + fromCache.size() + " of 2000 stacks");
            int unmatched = 0;
            for (List<Long> s : fromCache) if (!fromAgct.contains(s)) unmatched++;
            assertEquals(0, unmatched, unmatched + " of " + fromCache.size() + " stacks named from the cache are no stack "
                    + "AsyncGetCallTrace gave (" + fromAgct.size() + " distinct ones)");
        } finally {
            running = false;
            spinner.join(5_000);
        }
    }
}
