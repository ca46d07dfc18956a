package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {

    private static final int THREADS = 8;

    /** Addresses spread over every executable mapping, plus some that no mapping covers. */
    private static long[] sampleAddresses() {
        List<Long> out = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(42);
        for (Mapping m : ProcessMaps.readSelf().all()) {
            if (m.executable() && Long.compareUnsigned(m.start(), Long.MAX_VALUE) < 0) {
                for (int i = 0; i < 200; i++) {
                    out.add(m.start() + random.nextLong(m.end() - m.start()));
                }
            }
        }
        for (int i = 0; i < 100; i++) {
            out.add(random.nextLong(0x10000));
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void threadsRacingThroughFirstLoadsAgreeWithASingleThread() throws Exception {
        long[] addresses = sampleAddresses();
        assertTrue(addresses.length > 1000, "addresses: " + addresses.length);

        Symbolizer reference = TestSymbolizers.fresh(Long.MAX_VALUE);
        List<ResolvedAddress> expected = new ArrayList<>();
        for (int i = 0; i < addresses.length; i++) {
            expected.add(reference.resolve(addresses[i], i % 2 == 0));
        }
        long named = expected.stream().filter(ResolvedAddress::hasName).count();
        assertTrue(named > addresses.length / 4, "named " + named + " of " + addresses.length);

        // A fresh instance, so the threads also race on reading the maps and parsing each library.
        Symbolizer shared = TestSymbolizers.fresh(Long.MAX_VALUE);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<List<ResolvedAddress>>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int offset = t * addresses.length / THREADS; // each thread starts elsewhere
                results.add(pool.submit(() -> {
                    start.await();
                    ResolvedAddress[] got = new ResolvedAddress[addresses.length];
                    for (int round = 0; round < 3; round++) {
                        for (int k = 0; k < addresses.length; k++) {
                            int i = (k + offset) % addresses.length;
                            got[i] = shared.resolve(addresses[i], i % 2 == 0);
                        }
                    }
                    return List.of(got);
                }));
            }
            start.countDown();
            for (Future<List<ResolvedAddress>> f : results) {
                assertEquals(expected, f.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
