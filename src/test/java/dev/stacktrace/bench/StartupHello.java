package dev.stacktrace.bench;

/**
 * The application of the start-up benchmark: prints a line and ends, or with an argument first
 * sleeps that many milliseconds (so that whatever an agent does in the background is done and
 * counted in the peak RSS). With {@code -Dstartup.jna=true} it first calls one libc function through
 * JNA direct mapping: what loading JNA alone costs, the floor of any binding through it.
 */
public final class StartupHello {
    private StartupHello() {}

    /** One libc function by JNA direct mapping, registered on first use (also FirstStackProbe's "jna"). */
    static final class Libc {
        static {
            com.sun.jna.Native.register(Libc.class, com.sun.jna.NativeLibrary.getInstance("c"));
        }

        static native int getpid();
    }

    public static void main(String[] args) throws InterruptedException {
        if (Boolean.getBoolean("startup.jna") && Libc.getpid() <= 0) throw new IllegalStateException("getpid failed");
        if (args.length > 0) Thread.sleep(Long.parseLong(args[0]));
        System.out.println("hello");
    }
}
