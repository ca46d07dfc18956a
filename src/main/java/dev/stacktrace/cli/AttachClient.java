package dev.stacktrace.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.VirtualMachine;
import dev.stacktrace.agent.Agent;
import dev.stacktrace.agent.AttachCommand;
import dev.stacktrace.agent.AttachReply;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Drives a running JVM from outside through the Attach API, and nothing else: no JMX connector is
 * started in it. A command is carried out by the agent inside the target ({@link AttachCommand}),
 * which writes its answer into a file of a fresh private directory made here. The first command
 * loads this jar as a Java agent; the agent then names its native library in a system property, and
 * later commands come in through that library's {@code Agent_OnAttach} instead: the JDK (21 and later)
 * warns about a Java agent on every dynamic load, about a native one only the first time.
 */
final class AttachClient {
    private AttachClient() {}

    /**
     * Carries out one command in the target and returns its answer. What the command could not do
     * is thrown as one line.
     */
    static AttachReply command(long pid, String name, Map<String, String> args) throws Exception {
        Path dir = Files.createTempDirectory("stacktrace-cli-", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve("reply");
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            String options = "command=" + name + args.entrySet().stream().map(e -> "," + e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining()) + ",out=" + file;
            if (file.toString().contains(",")) {
                throw new IllegalArgumentException("the temporary directory " + dir.getParent() + " has a comma in its name, "
                        + "which the agent's options cannot carry: run with -Djava.io.tmpdir=/tmp");
            }
            Exception failed = null;
            VirtualMachine vm = open(pid);
            try {
                failed = deliver(vm, options, file);
                AttachReply reply = AttachReply.readFrom(file);
                if (reply == null) {
                    String reason = failed == null ? "it wrote nothing into " + file + " (is it in another container?)"
                            : failed instanceof AgentInitializationException ? agentError(vm, failed) : failed.getMessage();
                    throw new IllegalStateException("the agent in process " + pid + " did not answer: " + reason);
                }
                if (!reply.isOk()) throw new IllegalStateException(reply.error());
                return reply;
            } finally {
                vm.detach();
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** Hands the command to the target: through our native library if the agent has named it, else as a Java agent. */
    private static Exception deliver(VirtualMachine vm, String options, Path reply) throws IOException, URISyntaxException {
        String library = vm.getSystemProperties().getProperty(AttachCommand.LIBRARY_PROPERTY);
        if (library != null) {
            try {
                vm.loadAgentPath(library, options);
                return null;
            } catch (AgentInitializationException e) {
                // unanswered: the library did not find the agent's classes; the jar brings them
                if (Files.size(reply) > 0) return e;
            } catch (AgentLoadException e) {
                // the library cannot be loaded from that file (gone from the target's temporary directory): the jar can
            }
        }
        try {
            vm.loadAgent(ownJar().toString(), options);
            return null;
        } catch (AgentInitializationException | AgentLoadException e) {
            return e;
        }
    }

    /** The agent's own reason for a failed load is in a system property of the target; the JDK only says it failed. */
    private static String agentError(VirtualMachine vm, Exception e) throws IOException {
        String reason = vm.getSystemProperties().getProperty(Agent.ERROR_PROPERTY);
        return reason != null ? reason : e.getMessage() + " (see that process's stderr)";
    }

    /**
     * Loads the agent with these options (again, if it runs already: it applies what is new or says
     * why it cannot) and returns what the agent now runs, as it describes itself.
     */
    static String loadAgent(long pid, String options) throws Exception {
        VirtualMachine vm = open(pid);
        try {
            load(vm, pid, options);
            return vm.getSystemProperties().getProperty(Agent.RUNNING_PROPERTY, "loaded");
        } finally {
            vm.detach();
        }
    }

    private static VirtualMachine open(long pid) throws IOException {
        if (pid == ProcessHandle.current().pid()) throw new IllegalArgumentException("cannot attach to this very process");
        try {
            return VirtualMachine.attach(Long.toString(pid));
        } catch (com.sun.tools.attach.AttachNotSupportedException e) {
            throw new IllegalArgumentException("cannot attach to process " + pid + ": " + e.getMessage()
                    + " (is it a JVM of the same user, started with a JDK?)", e);
        }
    }

    private static void load(VirtualMachine vm, long pid, String options) throws Exception {
        try {
            vm.loadAgent(ownJar().toString(), options);
        } catch (AgentInitializationException e) {
            throw new IllegalStateException("the agent in process " + pid
                    + (options.isEmpty() ? " did not start: " : " did not take '" + options + "': ") + agentError(vm, e), e);
        }
    }

    /** The jar this class was loaded from: it is the agent too. */
    static Path ownJar() throws URISyntaxException {
        return Path.of(AttachClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
