package dev.stacktrace.internal.capture;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the kernel says about one thread of this process (/proc/self/task/TID/status): used to
 * explain a capture that timed out, never on the fast path.
 */
public record TaskStatus(int tid, String name, String state, BigInteger blockedSignals) {

    /** The thread's status, or empty when no such thread exists in this process. */
    public static Optional<TaskStatus> read(int tid) {
        Path path = Path.of("/proc/self/task", Integer.toString(tid), "status");
        try {
            String name = "?";
            String state = "?";
            BigInteger blocked = BigInteger.ZERO;
            for (String line : Files.readAllLines(path)) {
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String value = line.substring(colon + 1).trim();
                switch (line.substring(0, colon)) {
                    case "Name" -> name = value;
                    case "State" -> state = value;
                    case "SigBlk" -> blocked = new BigInteger(value, 16);
                    default -> { }
                }
            }
            return Optional.of(new TaskStatus(tid, name, state, blocked));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of(new TaskStatus(tid, "?", "?", BigInteger.ZERO));
        }
    }

    /** True when this thread of this process exists (a live or zombie task). */
    public static boolean exists(int tid) {
        return tid > 0 && Files.exists(Path.of("/proc/self/task", Integer.toString(tid)));
    }

    public boolean blocks(int signal) {
        return blockedSignals.testBit(signal - 1);
    }
}
