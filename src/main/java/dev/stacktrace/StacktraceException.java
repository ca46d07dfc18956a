package dev.stacktrace;

/**
 * A stack could not be taken. The message says what went wrong and what to do; {@link #reason()}
 * says the same for programs (metrics tag errors by it).
 */
public class StacktraceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a stack could not be taken. */
    public enum Reason {
        /** The thread does not exist in this process (never did, or has exited). */
        NO_SUCH_THREAD,
        /** The thread did not run the capture handler before the deadline. */
        TIMEOUT,
        /** The thread blocks the capture signal. */
        SIGNAL_BLOCKED,
        /** The capture signal cannot be used: taken by another handler, or invalid. */
        SIGNAL_UNAVAILABLE,
        /** Too many requests in flight at once. */
        BUSY,
        /** This JVM or platform does not support the operation. */
        UNSUPPORTED,
        /** The native library reported something unexpected. */
        INTERNAL,
    }

    private final Reason reason;

    public StacktraceException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public StacktraceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
