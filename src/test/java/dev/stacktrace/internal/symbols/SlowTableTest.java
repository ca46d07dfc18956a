package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A library whose symbol table is still being built (a big one: libjvm here, RocksDB's 15 MB table in
 * a user's JVM) holds up no lookup in another library, so a stack of a thread that is not in it is
 * named meanwhile; a lookup in that library waits for the one build instead of starting its own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlowTableTest {

    @Test
    void aTableStillBeingBuiltHoldsUpOnlyLookupsInItsOwnLibrary() throws Exception {
        ElfObjectCache cache = new ElfObjectCache();
        ElfObjectLoader loader = new ElfObjectLoader(new DebugFileLocator(DebugFileLocator.DEFAULT_ROOT));
        Symbolizer symbols = new Symbolizer(
                new AddressSpace(ProcessMaps::readSelf, cache, loader, 0, AddressSpace.DEFAULT_REREAD_BURST),
                UnaryOperator.identity());
        Mapping jvm = ProcessMaps.readSelf().all().stream()
                .filter(m -> m.fileBacked() && !m.deleted() && m.fileName().equals("libjvm.so"))
                .findFirst().orElseThrow();
        long agct = Pointer.nativeValue(NativeLibrary.getInstance(jvm.path()).getFunction("AsyncGetCallTrace"));

        // libjvm's table is being built, and will not be done until released
        CountDownLatch building = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread builder = new Thread(() -> cache.get(new ElfObjectCache.Key(jvm.device(), jvm.inode(), jvm.path()), () -> {
            building.countDown();
            release.await();
            return loader.loadFile(Path.of(jvm.path()));
        }), "slow-libjvm-table");
        builder.setDaemon(true);
        builder.start();
        assertTrue(building.await(10, TimeUnit.SECONDS), "the build started");
        // threads of their own: the common pool may have a single worker, which the waiting lookup holds
        ExecutorService lookups = Executors.newFixedThreadPool(2);
        CompletableFuture<ResolvedAddress> inJvm;
        try {
            // a lookup in libjvm waits for the build under way, rather than starting its own
            inJvm = CompletableFuture.supplyAsync(() -> symbols.resolve(agct + 1, false), lookups);
            Thread.sleep(300);
            assertFalse(inJvm.isDone(), "a lookup in libjvm did not wait for its table: " + (inJvm.isDone() ? inJvm.join().name() : ""));

            // while both wait, libc is named
            ResolvedAddress inLibc = CompletableFuture.supplyAsync(() -> {
                long getpid = symbols.addressOf("libc.so.6", "getpid").orElseThrow();
                return symbols.resolve(getpid + 1, false);
            }, lookups).get(10, TimeUnit.SECONDS);
            assertTrue(inLibc.name().contains("getpid"), inLibc.name());
            assertEquals("libc.so.6", inLibc.library());
        } finally {
            release.countDown();
        }
        try {
            assertEquals("AsyncGetCallTrace", inJvm.get(30, TimeUnit.SECONDS).name());
        } finally {
            lookups.shutdownNow();
        }
        builder.join(10_000);
        assertEquals(2, cache.size(), "libc and libjvm, each parsed once");
    }
}
