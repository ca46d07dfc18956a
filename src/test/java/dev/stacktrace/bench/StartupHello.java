package dev.stacktrace.bench;

/**
 * The application of the start-up benchmark: prints a line and ends, or with an argument first
 * sleeps that many milliseconds (so that whatever an agent does in the background is done and
 * counted in the peak RSS).
 */
public final class StartupHello {
    private StartupHello() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0) Thread.sleep(Long.parseLong(args[0]));
        System.out.println("hello");
    }
}
