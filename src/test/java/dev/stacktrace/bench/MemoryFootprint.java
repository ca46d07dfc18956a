package dev.stacktrace.bench;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.ProcessStatus;
import java.lang.management.ManagementFactory;

/**
 * What the library costs in memory: resident set and live heap before it is loaded, after the
 * first stack with names (libjvm, libc and the test library parsed), and after every 50,000 more
 * stacks: the RSS growth of warm-up (JIT, the young generation being touched) must level off.
 * Run with bench/memory.sh; figures go to docs/PERFORMANCE.md.
 */
public final class MemoryFootprint {
    public static void main(String[] args) throws Exception {
        Snapshot before = Snapshot.take();
        System.out.printf("java %s%n", Runtime.version());
        System.out.printf("%-44s %12s %12s%n", "", "RSS KiB", "heap KiB");
        before.print("before loading stacktrace");
        try (BlockedNativeThread target = new BlockedNativeThread("memory-target", 30)) {
            Stacktrace.getThreadStack(target.thread(), 200, true);
            Snapshot first = Snapshot.take();
            first.print("after the first stack with names");
            Snapshot steady = first;
            for (int round = 1; round <= 5; round++) {
                for (int i = 0; i < 50_000; i++) Stacktrace.getThreadStack(target.thread(), 200, true);
                Snapshot now = Snapshot.take();
                now.print("after " + round + " x 50,000 more stacks");
                if (round == 2) steady = now;
                if (round == 5) {
                    System.out.printf("%-44s %12d %12d%n", "cost of loading and first use",
                            first.rssKib - before.rssKib, (first.heapBytes - before.heapBytes) / 1024);
                    System.out.printf("%-44s %12d %12d%n", "growth over the last 150,000 stacks",
                            now.rssKib - steady.rssKib, (now.heapBytes - steady.heapBytes) / 1024);
                }
            }
        }
    }

    private record Snapshot(long rssKib, long heapBytes) {
        static Snapshot take() throws Exception {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(50);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            return new Snapshot(ProcessStatus.rssKib(), heap);
        }

        void print(String label) {
            System.out.printf("%-44s %12d %12d%n", label, rssKib, heapBytes / 1024);
        }
    }
}
