package dev.stacktrace.internal.stacks;

import dev.stacktrace.internal.symbols.Symbolizer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Builds libjvm's symbol table on a background thread when a stack is first asked for. Nearly every
 * stack has libjvm frames (each Java thread starts and runs in it), and its table is the biggest to
 * build (~100 ms in a cold JVM); built while JNA and the native library load, which take longer,
 * it is ready when the first stack is named. A lookup that comes first waits for the same build.
 * Not started by a profile, which names its stacks only when it is read.
 */
public final class SymbolPrefetch {
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private SymbolPrefetch() {}

    /**
     * Starts the build once per process; cheap on every later call. Never fails: when no thread can
     * be started (a JVM out of native threads), the first lookup builds the table itself.
     */
    public static void start() {
        if (STARTED.get() || !STARTED.compareAndSet(false, true)) return;
        try {
            Thread builder = new Thread(SymbolPrefetch::build, "stacktrace-symbols");
            builder.setDaemon(true);
            builder.setContextClassLoader(null); // holds no application class loader
            builder.start();
        } catch (OutOfMemoryError | RuntimeException e) {
            // only a head start is lost
        }
    }

    private static void build() {
        try {
            Symbolizer.shared().preload("libjvm.so");
        } catch (RuntimeException e) {
            // The first lookup in libjvm builds the table itself and reports what fails.
        }
    }
}
