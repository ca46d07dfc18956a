package dev.stacktrace.testlib;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class in a fresh JVM of the same JDK and classpath: for what one JVM can only do once. */
public final class ChildJvm {
    public record Result(int exitCode, String output) {}

    private ChildJvm() {}

    public static Result run(Class<?> mainClass, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        return run(120, mainClass, jvmArgs, args);
    }

    /** As {@link #run(Class, List, String...)}, waiting at most {@code limitSeconds} for the child to end. */
    public static Result run(int limitSeconds, Class<?> mainClass, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        return run(List.of(), limitSeconds, mainClass, jvmArgs, args);
    }

    /** As {@link #run(int, Class, List, String...)}, the java command run by {@code launcher} (as {@code prlimit ... --}). */
    public static Result run(List<String> launcher, int limitSeconds, Class<?> mainClass, List<String> jvmArgs,
            String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(launcher);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(limitSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child JVM did not finish in " + limitSeconds + " s: " + command);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(process.exitValue(), output);
    }
}
