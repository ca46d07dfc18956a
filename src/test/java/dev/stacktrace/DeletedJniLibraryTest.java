package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * zstd-jni extracts its library to a temporary file, loads it and deletes the file: its frames are
 * still named, from the mapped file (all of them where /proc/self/map_files/ can be opened), under
 * the stable name libzstd-jni.so.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeletedJniLibraryTest {

    private static Path mapFile(String mapsLine) {
        return Path.of("/proc/self/map_files", mapsLine.substring(0, mapsLine.indexOf(' ')));
    }

    @Test
    void zstdFramesAreNamedAfterItsFileIsDeleted() throws Exception {
        byte[] data = new byte[4 << 20];
        Random random = new Random(1);
        for (int i = 0; i < data.length; i++) data[i] = (byte) (random.nextInt(16) + 'a');
        Zstd.compress(data, 3);  // loads the library
        String mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("libzstd-jni")).findFirst().orElseThrow();
        assertTrue(mapped.endsWith(" (deleted)"), "zstd-jni deletes its extracted file: " + mapped);

        AtomicBoolean running = new AtomicBoolean(true);
        Thread worker = new Thread(() -> {
            while (running.get()) Zstd.compress(data, 3);
        }, "zstd");
        worker.setDaemon(true);
        worker.start();
        int inZstd = 0;
        int named = 0;
        int reachedCaller = 0;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int samples = 0; samples < 30 && System.nanoTime() < deadline; ) {
                List<StackEntry> stack;
                try {
                    stack = Stacktrace.getThreadStack(worker, 64, true);
                } catch (StacktraceException e) {
                    continue;
                }
                boolean seen = false;
                boolean javaBelow = stack.stream().anyMatch(e -> e.isJava() && e.className().equals(getClass().getName()));
                for (StackEntry e : stack) {
                    if (e.path() == null || !e.path().contains("libzstd-jni")) continue;
                    seen = true;
                    inZstd++;
                    assertEquals("libzstd-jni.so", e.library(), e::toString);
                    if (e.hasName()) named++;
                    else System.out.println("unnamed: " + e);
                }
                if (seen) {
                    samples++;
                    if (javaBelow) reachedCaller++;
                    else System.out.println("no Java caller below zstd: " + stack);
                }
            }
        } finally {
            running.set(false);
            worker.join(30_000);
        }
        System.out.println("zstd-jni frames named: " + named + " of " + inZstd);
        assertTrue(inZstd > 0, "no sample inside zstd");
        // JNI on JDK 17; on JDK 22+ zstd-jni calls zstd through the foreign function API, whose critical
        // downcalls leave no frame anchor: the walk must still find the Java code that called it
        System.out.println("zstd samples reaching the Java caller: " + reachedCaller);
        assertTrue(reachedCaller >= 27, reachedCaller + " of 30 samples inside zstd reached the Java caller");
        if (Files.isReadable(mapFile(mapped))) {
            assertEquals(inZstd, named, "every frame inside zstd-jni named");
        } else {
            // no CAP_CHECKPOINT_RESTORE: only the exported functions, from the image in memory
            assertTrue(named > 0, "exported zstd functions named from memory");
        }
    }
}
