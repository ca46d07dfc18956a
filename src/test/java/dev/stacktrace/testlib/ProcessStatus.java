package dev.stacktrace.testlib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Numbers of this process's /proc/self/status, as tests and benchmarks read them. */
public final class ProcessStatus {
    private ProcessStatus() {}

    /** The first number of a line, by its key: "VmRSS:" (kB), "SigQ:" (signals queued for this user, of the limit). */
    public static long number(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("[/ ]")[0]);
        }
        throw new IllegalStateException("no " + key + " in /proc/self/status");
    }

    /** Resident memory, in KiB. */
    public static long rssKib() throws IOException {
        return number("VmRSS:");
    }

    /** Signals queued for this real user id, all its processes together (RLIMIT_SIGPENDING counts these). */
    public static int queuedSignals() throws IOException {
        return (int) number("SigQ:");
    }
}
