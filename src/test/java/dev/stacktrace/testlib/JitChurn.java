package dev.stacktrace.testlib;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded workload that keeps the JIT busy: code is compiled, deoptimized ("made not entrant")
 * and recompiled all the time, so a stack walker meets fresh, dying and replaced compiled frames.
 *
 * <p>Each round defines a fresh copy of {@link Driver} as a hidden class (fresh methods, fresh
 * profiles; unloadable when dropped) and drives its call site through receiver sets that go
 * monomorphic → bimorphic → megamorphic (each change breaks C2's type speculation), then adds an op
 * that throws now and then (exceptions on paths compiled as never taken), then defines a fresh
 * class pair from {@link ChaBase}/{@link ChaSub} under new names: C2 inlines the base's virtual
 * method by class-hierarchy analysis, and loading the subclass invalidates that code.
 *
 * <p>Use: {@code JitChurn.run(Duration.ofSeconds(5))} on the calling thread, or
 * {@code try (JitChurn c = JitChurn.start("churn", Duration.ofSeconds(30))) { ... }} on a daemon
 * thread; it stops by itself when the duration is over, or at {@link #close()} (within a phase,
 * ~50 ms).
 */
public final class JitChurn implements AutoCloseable {
    /** What a run did. {@code checksum} keeps the work observable so the JIT cannot drop it. */
    public record Stats(long rounds, long hiddenClasses, long chaClasses, long exceptions, long checksum) {}

    private static final long PHASE_NANOS = 50_000_000L;
    private static final AtomicInteger CHA_SERIAL = new AtomicInteger();
    private static final byte[] DRIVER_BYTES = classBytes(Driver.class);
    private static final byte[] CHA_BASE_BYTES = classBytes(ChaBase.class);
    private static final byte[] CHA_SUB_BYTES = classBytes(ChaSub.class);

    private final Thread thread;
    private volatile boolean stopped;
    private volatile Stats stats;
    private volatile Throwable failure;

    private JitChurn(String name, Duration duration) {
        thread = new Thread(() -> {
            try {
                stats = churn(duration, this);
            } catch (Throwable t) {
                failure = t;
            }
        }, name);
        thread.setDaemon(true);
    }

    /** Runs on the calling thread for {@code duration}. */
    public static Stats run(Duration duration) {
        return churn(duration, null);
    }

    /** Runs on a new daemon thread for at most {@code duration}. */
    public static JitChurn start(String threadName, Duration duration) {
        JitChurn c = new JitChurn(threadName, duration);
        c.thread.start();
        return c;
    }

    public Thread thread() {
        return thread;
    }

    /** Stops the thread (at the end of the current phase) and returns what it did. */
    public Stats stop() throws InterruptedException {
        stopped = true;
        thread.join(10_000);
        if (thread.isAlive()) throw new AssertionError("JitChurn did not stop in 10 s");
        if (failure != null) throw new AssertionError("JitChurn failed", failure);
        return stats;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private static Stats churn(Duration duration, JitChurn owner) {
        long end = System.nanoTime() + duration.toNanos();
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        long rounds = 0, hidden = 0, cha = 0, checksum = 0;
        ThrowingOp thrower = new ThrowingOp();
        while (System.nanoTime() < end && (owner == null || !owner.stopped)) {
            int k = (int) (rounds % OPS.length);
            Workload w = newDriver(lookup);
            hidden++;
            // Receiver sets: one type, then two, then many; then many plus an op that throws.
            Op[] mono = filled(OPS[k]);
            Op[] bi = filled(OPS[k], OPS[(k + 1) % OPS.length]);
            Op[] mega = filled(Arrays.copyOfRange(concat(OPS, OPS), k, k + 12));
            Op[] throwing = mega.clone();
            throwing[7] = thrower;
            for (Op[] ops : new Op[][] {mono, bi, mega, throwing}) {
                long phaseEnd = Math.min(end, System.nanoTime() + PHASE_NANOS);
                do {
                    for (int i = 0; i < 100; i++) checksum += w.run(ops, 4);
                } while (System.nanoTime() < phaseEnd);
            }
            // CHA: compile ChaBase.apply with v() inlined (one implementation), then load a subclass.
            int serial = CHA_SERIAL.incrementAndGet();
            if (serial < 100_000 && System.nanoTime() < end) {
                Op base = newChaPair(lookup, serial, false);
                long phaseEnd = Math.min(end, System.nanoTime() + PHASE_NANOS);
                do {
                    for (int i = 0; i < 100; i++) checksum += base.apply(1000);
                } while (System.nanoTime() < phaseEnd);
                Op sub = newChaPair(lookup, serial, true);  // invalidates the compiled base.apply
                for (int i = 0; i < 2000; i++) checksum += base.apply(100) + sub.apply(100);
                cha += 2;
            }
            rounds++;
        }
        return new Stats(rounds, hidden, cha, thrower.thrown, checksum);
    }

    /** Demo: {@code JitChurn [seconds]}; run it with -XX:+PrintCompilation to see the churn. */
    public static void main(String[] args) {
        Duration d = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 10);
        long t0 = System.nanoTime();
        Stats s = run(d);
        System.out.printf("JitChurn: %s in %.1f s%n", s, (System.nanoTime() - t0) / 1e9);
    }

    // ---- the code being churned ----

    /** The interface through which hidden Driver copies are called. */
    interface Workload {
        long run(Op[] ops, int repeat);
    }

    interface Op {
        int apply(int x);
    }

    static final class ChurnException extends RuntimeException {
        final int value;

        ChurnException(int value) {
            super("churn " + value);
            this.value = value;
        }
    }

    /** The template for the hidden classes: one hot virtual call site with a catch. */
    static final class Driver implements Workload {
        public Driver() {}

        @Override
        public long run(Op[] ops, int repeat) {
            long acc = 0;
            for (int r = 0; r < repeat; r++) {
                for (int i = 0; i < ops.length; i++) acc += step(ops[i], (int) acc + i);
            }
            return acc;
        }

        private static int step(Op op, int x) {
            try {
                return op.apply(x);
            } catch (ChurnException e) {
                return e.value;
            }
        }
    }

    /** The template for CHA: {@code v} has one implementation until the renamed ChaSub is loaded. */
    static class ChaBase implements Op {
        public ChaBase() {}

        int v(int x) {
            return x * 3 + 1;
        }

        @Override
        public int apply(int n) {
            int acc = 0;
            for (int i = 0; i < n; i++) acc += v(acc ^ i);
            return acc;
        }
    }

    static final class ChaSub extends ChaBase {
        public ChaSub() {}

        @Override
        int v(int x) {
            return x - 7;
        }
    }

    static final class ThrowingOp implements Op {
        long calls, thrown;

        @Override
        public int apply(int x) {
            if (++calls % 5000 == 0) {
                thrown++;
                throw new ChurnException(x);
            }
            return x ^ 0x5bd1e995;
        }
    }

    // ~30 small receiver classes with different bodies.
    static final class O0 implements Op { public int apply(int x) { return x + 1; } }
    static final class O1 implements Op { public int apply(int x) { return x * 3; } }
    static final class O2 implements Op { public int apply(int x) { return x ^ 0x55; } }
    static final class O3 implements Op { public int apply(int x) { return x >>> 3; } }
    static final class O4 implements Op { public int apply(int x) { return x << 2; } }
    static final class O5 implements Op { public int apply(int x) { return ~x; } }
    static final class O6 implements Op { public int apply(int x) { return x - 17; } }
    static final class O7 implements Op { public int apply(int x) { return Integer.rotateLeft(x, 5); } }
    static final class O8 implements Op { public int apply(int x) { return x * x; } }
    static final class O9 implements Op { public int apply(int x) { return x | 0x100; } }
    static final class O10 implements Op { public int apply(int x) { return x & 0xffff; } }
    static final class O11 implements Op { public int apply(int x) { return x / 7 + 1; } }
    static final class O12 implements Op { public int apply(int x) { return Integer.bitCount(x); } }
    static final class O13 implements Op { public int apply(int x) { return Integer.reverse(x); } }
    static final class O14 implements Op { public int apply(int x) { return x % 1000; } }
    static final class O15 implements Op { public int apply(int x) { return Math.abs(x); } }
    static final class O16 implements Op { public int apply(int x) { return x + (x >> 16); } }
    static final class O17 implements Op { public int apply(int x) { return x * 0x9E3779B1; } }
    static final class O18 implements Op { public int apply(int x) { return Integer.numberOfLeadingZeros(x); } }
    static final class O19 implements Op { public int apply(int x) { return x ^ (x >>> 7); } }
    static final class O20 implements Op { public int apply(int x) { return Math.max(x, 42); } }
    static final class O21 implements Op { public int apply(int x) { return Math.min(x, -42); } }
    static final class O22 implements Op { public int apply(int x) { return Integer.hashCode(x) + 3; } }
    static final class O23 implements Op { public int apply(int x) { return (x & 1) == 0 ? x / 2 : 3 * x + 1; } }
    static final class O24 implements Op { public int apply(int x) { return Integer.reverseBytes(x); } }
    static final class O25 implements Op { public int apply(int x) { return x - (x << 3); } }
    static final class O26 implements Op { public int apply(int x) { return Integer.signum(x) * 99; } }
    static final class O27 implements Op { public int apply(int x) { return Short.toUnsignedInt((short) x); } }
    static final class O28 implements Op { public int apply(int x) { return x + Integer.lowestOneBit(x); } }
    static final class O29 implements Op { public int apply(int x) { return (x * 31) ^ 0x7f; } }

    static final Op[] OPS = {new O0(), new O1(), new O2(), new O3(), new O4(), new O5(), new O6(), new O7(),
        new O8(), new O9(), new O10(), new O11(), new O12(), new O13(), new O14(), new O15(), new O16(), new O17(),
        new O18(), new O19(), new O20(), new O21(), new O22(), new O23(), new O24(), new O25(), new O26(), new O27(),
        new O28(), new O29()};

    // ---- plumbing ----

    private static Op[] filled(Op... kinds) {
        Op[] ops = new Op[24];
        for (int i = 0; i < ops.length; i++) ops[i] = kinds[i % kinds.length];
        return ops;
    }

    private static Op[] concat(Op[] a, Op[] b) {
        Op[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static Workload newDriver(MethodHandles.Lookup lookup) {
        try {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(DRIVER_BYTES, true);
            return (Workload) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a hidden Driver", t);
        }
    }

    /**
     * Defines ChaBase (or ChaSub, which extends it) as an ordinary class under a new name: "ChaBase"
     * becomes "B" + 6 digits and "ChaSub" "S" + 5 digits, same lengths, so the class file only
     * needs its bytes replaced. Returns a new instance.
     */
    private static Op newChaPair(MethodHandles.Lookup lookup, int serial, boolean sub) {
        byte[] bytes = (sub ? CHA_SUB_BYTES : CHA_BASE_BYTES).clone();
        replaceAll(bytes, "ChaBase", String.format("B%06d", serial));
        replaceAll(bytes, "ChaSub", String.format("S%05d", serial));
        try {
            Class<?> c = lookup.defineClass(bytes);
            return (Op) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot define a renamed " + (sub ? "ChaSub" : "ChaBase"), e);
        }
    }

    private static void replaceAll(byte[] bytes, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.US_ASCII), t = to.getBytes(StandardCharsets.US_ASCII);
        if (f.length != t.length) throw new IllegalArgumentException(from + " -> " + to);
        outer:
        for (int i = 0; i + f.length <= bytes.length; i++) {
            for (int j = 0; j < f.length; j++) if (bytes[i + j] != f[j]) continue outer;
            System.arraycopy(t, 0, bytes, i, t.length);
        }
    }

    private static byte[] classBytes(Class<?> c) {
        String name = c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class";
        try (InputStream in = c.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("class file not found: " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
