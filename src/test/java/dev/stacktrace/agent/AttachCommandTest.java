package dev.stacktrace.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.service.StacktraceService;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The attach CLI's commands as the agent carries them out in its JVM (here, this one) and answers them in a file. */
class AttachCommandTest {
    @Test
    void commandsAnswerInTheFileTheCliMade(@TempDir Path dir) throws Exception {
        Path reply = Files.createFile(dir.resolve("reply"));
        StacktraceService service = StacktraceService.get();
        assertFalse(service.isProfiling());

        AttachCommand.run("command=flamegraph-start,mode=cpu,interval=5ms,out=" + reply);
        AttachReply started = AttachReply.readFrom(reply);
        assertTrue(started.isOk(), started.toString());
        assertEquals("false", started.value("running"));
        assertTrue(service.isProfiling());
        assertEquals("cpu", service.mode());

        // a second start is refused, and says why, in the answer: the agent's load does not fail
        AttachCommand.run("command=start,out=" + reply);
        AttachReply refused = AttachReply.readFrom(reply);
        assertFalse(refused.isOk());
        assertTrue(refused.error().contains("profiling is already running"), refused.error());

        AttachCommand.run("command=status,out=" + reply);
        String status = AttachReply.readFrom(reply).body();
        assertTrue(status.startsWith("stacktrace ") && status.contains("profiling true, mode cpu, interval 5ms"), status);

        AttachCommand.run("command=flamegraph-write,stop=true,out=" + reply);
        AttachReply written = AttachReply.readFrom(reply);
        assertTrue(written.isOk(), written.toString());
        assertTrue(written.body().contains("<html"), "a flame graph");
        assertEquals(service.sampleCount(), Long.parseLong(written.value("samples")));
        assertFalse(service.isProfiling(), "stop=true ends the session flamegraph-start began");
        assertEquals(Stacktrace.nativeLibrary().toString(), System.getProperty(AttachCommand.LIBRARY_PROPERTY),
                "the native library is named for the CLI's later commands");
    }

    @Test
    void answersGoOnlyIntoAFileTheCliMade(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing");
        AttachCommand.run("command=status,out=" + missing);
        assertFalse(Files.exists(missing), "the agent creates no file");

        Path target = Files.writeString(dir.resolve("target"), "untouched");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        AttachCommand.run("command=status,out=" + link);
        assertEquals("untouched", Files.readString(target), "no answer through a link");

        assertThrows(IllegalArgumentException.class, () -> AttachCommand.run("port=1"));
        assertNull(AttachReply.readFrom(Files.createFile(dir.resolve("empty"))));
    }
}
