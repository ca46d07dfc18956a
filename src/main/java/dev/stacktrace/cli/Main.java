package dev.stacktrace.cli;

import dev.stacktrace.demo.Demo;
import java.util.Arrays;

/** {@code java -jar stacktrace.jar <command>}. */
public final class Main {
    private static final String USAGE = """
            usage: java -jar stacktrace.jar demo [--hide-jvm] [--depth N]
              demo   start threads busy in native code and print their native stacks
            """;

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        switch (args[0]) {
            case "demo" -> Demo.main(Arrays.copyOfRange(args, 1, args.length));
            default -> {
                System.err.print("unknown command '" + args[0] + "'\n" + USAGE);
                System.exit(2);
            }
        }
    }
}
