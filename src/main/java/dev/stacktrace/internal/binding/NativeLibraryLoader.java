package dev.stacktrace.internal.binding;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Puts libstacktrace.so from the jar into a private temporary directory under its own name, so
 * that stacks and /proc/self/maps show "libstacktrace.so" rather than a random temp name, and no
 * other user can replace the file between writing and loading it (the directory is 0700).
 */
final class NativeLibraryLoader {
    static final String RESOURCE = "/linux-x86-64/libstacktrace.so";

    private NativeLibraryLoader() {}

    static Path extract() {
        String arch = System.getProperty("os.arch");
        if (!System.getProperty("os.name").startsWith("Linux") || !("amd64".equals(arch) || "x86_64".equals(arch))) {
            throw new UnsatisfiedLinkError("stacktrace supports Linux on x86-64 only, not "
                    + System.getProperty("os.name") + " on " + arch);
        }
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("libstacktrace.so is missing from the classpath (" + RESOURCE
                        + "); build the jar with 'mvn package', which compiles native-lib/");
            }
            Path dir = Files.createTempDirectory("stacktrace-");
            Path lib = dir.resolve("libstacktrace.so");
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            lib.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return lib;
        } catch (IOException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("cannot extract libstacktrace.so: " + e.getMessage());
            error.initCause(e);
            throw error;
        }
    }
}
