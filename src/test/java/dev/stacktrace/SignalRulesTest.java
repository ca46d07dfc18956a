package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.testlib.ChildJvm;
import dev.stacktrace.testlib.TestNative;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The JVM's signals are left alone, the capture signal is configurable, and a handler that someone
 * else put on it is reported, never replaced. Each case runs in a fresh JVM, since a JVM installs
 * its handler once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SignalRulesTest {
    private static final int SIGRTMIN = 34;

    @Test
    void onlyTheCaptureSignalChangesHandsAndTheJvmsSignalsStayTheJvms() throws Exception {
        ChildJvm.Result result = ChildJvm.run(SignalOwners.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        Map<Integer, String> before = parse(result.output(), "before");
        Map<Integer, String> after = parse(result.output(), "after");
        int ours = Integer.parseInt(result.output().replaceAll("(?s).*signal=(\\d+).*", "$1"));
        assertTrue(ours >= SIGRTMIN && ours <= 64, "a realtime signal: " + ours);
        assertEquals("0", before.get(ours), "the default signal was free before");
        for (int signal = 1; signal <= 64; signal++) {
            if (signal == ours) continue;
            assertEquals(before.get(signal), after.get(signal), "handler of signal " + signal + " changed");
        }
        // HotSpot's own handlers are there, untouched: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGQUIT, SIGUSR2.
        for (int signal : new int[] {11, 7, 8, 4, 3, 12}) {
            assertTrue(Long.parseLong(after.get(signal)) > 1, "JVM handler on " + signal);
        }
        assertTrue(Long.parseLong(after.get(ours)) > 1, "our handler is installed on " + ours);
    }

    @Test
    void theSignalIsConfigurable() throws Exception {
        ChildJvm.Result result = ChildJvm.run(SignalOwners.class, List.of("-Ddev.stacktrace.signal=50"));
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("signal=50"), result.output());
        assertTrue(result.output().contains("stack-ok"), result.output());
    }

    @Test
    void aForeignHandlerOnTheSignalIsReportedNotClobbered() throws Exception {
        ChildJvm.Result result = ChildJvm.run(ForeignHandler.class, List.of("-Ddev.stacktrace.signal=45"), "45");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SIGNAL_UNAVAILABLE"), result.output());
        assertTrue(result.output().contains("signal 45 already has a handler"), result.output());
        assertTrue(result.output().contains("-Ddev.stacktrace.signal"), result.output());
        assertTrue(result.output().contains("unchanged=true"), result.output());
    }

    @Test
    void aSignalTheJvmUsesIsRefused() throws Exception {
        ChildJvm.Result result = ChildJvm.run(ForeignHandler.class, List.of("-Ddev.stacktrace.signal=11"), "0");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("not a realtime signal"), result.output());
        assertTrue(result.output().contains("unchanged=true"), result.output());
    }

    private static Map<Integer, String> parse(String output, String label) {
        Map<Integer, String> owners = new HashMap<>();
        for (String line : output.split("\\R")) {
            if (!line.startsWith(label + " ")) continue;
            String[] parts = line.split(" ");
            owners.put(Integer.parseInt(parts[1]), parts[2]);
        }
        assertEquals(64, owners.size(), output);
        return owners;
    }

    /** Child JVM: the handler of every signal before and after the first stack is taken. */
    public static final class SignalOwners {
        public static void main(String[] args) throws Exception {
            LibStacktrace.st_abi_version();  // load the library, install nothing yet
            long[] before = owners();
            try (BlockedNativeThread t = new BlockedNativeThread("probe", 5)) {
                List<StackEntry> stack = Stacktrace.getThreadStack(t.thread(), 50, false);
                if (stack.stream().anyMatch(e -> e.name().equals(BlockedNativeThread.LEAF))) System.out.println("stack-ok");
            }
            long[] after = owners();
            for (int s = 1; s <= 64; s++) System.out.println("before " + s + " " + before[s]);
            for (int s = 1; s <= 64; s++) System.out.println("after " + s + " " + after[s]);
            System.out.println("signal=" + LibStacktrace.st_signal());
        }

        static long[] owners() {
            long[] owners = new long[65];
            for (int s = 1; s <= 64; s++) owners[s] = LibStacktrace.st_signal_owner(s);
            return owners;
        }
    }

    /** Child JVM: another library's handler sits on the signal (args[0], 0 = none) before us. */
    public static final class ForeignHandler {
        public static void main(String[] args) {
            int signal = Integer.parseInt(args[0]);
            if (signal != 0 && TestNative.stt_install_dummy_handler(signal) != 0) throw new IllegalStateException();
            long[] before = SignalOwners.owners();
            try {
                Stacktrace.getNativeThreadStack(Stacktrace.currentNativeThreadId() == 1 ? 2 : 1, 10, true);
                System.out.println("no error");
            } catch (StacktraceException e) {
                System.out.println(e.reason() + ": " + e.getMessage());
            }
            System.out.println("unchanged=" + java.util.Arrays.equals(before, SignalOwners.owners()));
        }
    }
}
