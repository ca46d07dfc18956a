package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.testlib.BlockedNativeThread;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Our unwinder and symbolizer against an independent one: elfutils' eu-stack (ptrace + libdw). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EuStackOracleTest {
    private record Frame(long pc, String name) {}

    private static final Pattern FRAME = Pattern.compile("#\\d+\\s+0x([0-9a-f]+)(?:\\s+(\\S.*))?");

    @Test
    void nativeFramesOfABlockedThreadMatchEuStack() throws Exception {
        try (BlockedNativeThread t = new BlockedNativeThread("oracle", 10)) {
            List<StackEntry> ours = Stacktrace.getThreadStack(t.thread(), 200, true);
            List<Frame> theirs = euStack(t.tid());
            String both = "eu-stack:\n" + theirs + "\nours:\n" + Stacktrace.format(ours);

            // Every native frame of ours is one of eu-stack's, in the same order. The innermost pc may
            // differ by the length of the syscall instruction (the kernel rewinds it for the restart).
            assertTrue(Math.abs(theirs.get(0).pc() - ours.get(0).address()) <= 2, both);
            int at = 0;
            int compared = 0;
            int javaFramesSeen = 0;
            int unnamedSkipped = 0;
            for (int i = 1; i < ours.size(); i++) {
                StackEntry mine = ours.get(i);
                if (mine.isJava()) {
                    javaFramesSeen++;
                    continue;
                }
                int j = at + 1;
                while (j < theirs.size() && theirs.get(j).pc() != mine.address()) {
                    if (theirs.get(j).name() == null) unnamedSkipped++;
                    j++;
                }
                assertTrue(j < theirs.size(), "frame " + i + " " + mine + " not in eu-stack's walk after #" + at + "\n" + both);
                at = j;
                Frame other = theirs.get(j);
                if (other.name() != null && mine.hasName()) {
                    assertEquals(normalize(other.name()), normalize(mine.name()), "frame " + i);
                    compared++;
                }
            }
            assertTrue(compared >= 16, "only " + compared + " named frames in common\n" + both);
            // Where eu-stack sees only unnamed JIT frames, we show the Java frames.
            assertTrue(javaFramesSeen >= 2 && unnamedSkipped >= 2, both);
        }
    }

    /** Aliases of one function differ only in leading underscores (clone3 / __clone3). */
    private static String normalize(String name) {
        return name.replaceFirst("^_+", "");
    }

    private static List<Frame> euStack(int tid) throws Exception {
        Process process = new ProcessBuilder("eu-stack", "-p", Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("eu-stack did not finish");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int start = output.indexOf("TID " + tid + ":");
        assertTrue(start >= 0, () -> "eu-stack did not show thread " + tid + ":\n" + output);
        List<Frame> frames = new ArrayList<>();
        for (String line : output.substring(start).split("\\R")) {
            if (line.startsWith("TID ") && !frames.isEmpty()) break;
            Matcher m = FRAME.matcher(line.trim());
            if (m.matches()) frames.add(new Frame(Long.parseUnsignedLong(m.group(1), 16), m.group(2)));
        }
        return frames;
    }
}
