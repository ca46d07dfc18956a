package dev.stacktrace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.capture.NativeCapture;
import dev.stacktrace.testlib.ChildJvm;
import com.sun.jna.NativeLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two copies of the native library in one JVM (the application and the agent each bundling the
 * jar, or a redeployed web application): the second says exactly which copy owns the signal.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SecondCopyTest {

    @Test
    void aSecondCopyNamesTheCopyThatOwnsTheSignal() throws Exception {
        ChildJvm.Result result = ChildJvm.run(TwoCopies.class, List.of());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("another copy of stacktrace (" + "/"), result.output());
        assertTrue(result.output().contains("-copy.so) owns signal " + NativeCapture.DEFAULT_SIGNAL), result.output());
    }

    /** Runs in the child JVM: another copy of the .so, from another file, takes the signal first. */
    public static final class TwoCopies {
        public static void main(String[] args) throws Exception {
            Path copy = Files.createTempFile("libstacktrace-", "-copy.so");
            copy.toFile().deleteOnExit();
            Files.copy(LibStacktrace.PATH, copy, StandardCopyOption.REPLACE_EXISTING);
            NativeLibrary other = NativeLibrary.getInstance(copy.toString());
            int rc = other.getFunction("st_init").invokeInt(new Object[] {NativeCapture.DEFAULT_SIGNAL});
            if (rc != 0) {
                System.out.println("the copy could not take the signal: " + rc);
                System.exit(1);
            }
            try {
                NativeCapture.get();
                System.out.println("the second copy started although the first owns the signal");
                System.exit(1);
            } catch (StacktraceException e) {
                System.out.println(e.reason() + ": " + e.getMessage());
                System.exit(e.reason() == StacktraceException.Reason.SIGNAL_UNAVAILABLE ? 0 : 1);
            }
        }
    }
}
