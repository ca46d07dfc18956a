package dev.stacktrace.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** async-profiler's native library, copied out of its Maven jar, for {@code -agentpath:}. */
final class AsyncProfilerLibrary {
    private static final String RESOURCE = "linux-x64/libasyncProfiler.so";

    private AsyncProfilerLibrary() {}

    /** Copies the library to target/ (once) and returns its path. */
    static Path extract() throws IOException {
        Path out = Path.of("target/async-profiler/libasyncProfiler.so").toAbsolutePath();
        try (InputStream in = one.profiler.AsyncProfiler.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IOException(RESOURCE + " is not on the class path (the async-profiler jar)");
            Files.createDirectories(out.getParent());
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }
}
