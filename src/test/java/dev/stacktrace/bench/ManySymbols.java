package dev.stacktrace.bench;

import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A workload with many distinct hot Java methods, for a scrape with many symbol series: the class
 * {@link Spin} is defined again under 60 hidden names (same bytes, so 60 distinct classes whose
 * {@code work} method is each its own symbol), and two threads take turns through them. Runs for
 * args[0] seconds (default 300) with the agent given on the command line; prints READY.
 */
public final class ManySymbols {
    /** The template: a method that spins about a millisecond. */
    public static final class Spin {
        public static long work(long x) {
            for (int i = 0; i < 300_000; i++) x = x * 6364136223846793005L + i;
            return x;
        }
    }

    public static void main(String[] args) throws Throwable {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 300;
        byte[] bytes;
        try (InputStream in = ManySymbols.class.getResourceAsStream("ManySymbols$Spin.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        List<MethodHandle> methods = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Class<?> c = lookup.defineHiddenClass(bytes, true).lookupClass();
            methods.add(lookup.findStatic(c, "work", MethodType.methodType(long.class, long.class)));
        }
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        for (int t = 0; t < 2; t++) {
            int offset = t * 30;
            Thread worker = new Thread(() -> {
                long x = 1;
                for (int k = 0; System.nanoTime() < deadline; k++) {
                    try {
                        x = (long) methods.get((k + offset) % methods.size()).invokeExact(x);
                    } catch (Throwable e) {
                        throw new IllegalStateException(e);
                    }
                }
                if (x == 42) System.out.print("");
            }, "many-symbols-" + t);
            worker.setDaemon(true);
            worker.start();
        }
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(seconds * 1000);
        if (bytes.length == 0) System.out.println(new String(bytes, StandardCharsets.UTF_8));
    }
}
