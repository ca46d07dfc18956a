package dev.stacktrace.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the benchmarks print about the machine a figure was taken on. */
final class Machine {
    private Machine() {}

    /** /proc/loadavg as it reads now ("?" where there is none). */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }
}
