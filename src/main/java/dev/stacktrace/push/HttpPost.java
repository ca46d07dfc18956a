package dev.stacktrace.push;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * POSTs one body at a time on the caller's thread, within an overall deadline, through
 * {@link HttpURLConnection}: HTTP/1.1, connections kept alive between requests, no redirects
 * followed, the JVM's proxy and TLS settings. It costs a few milliseconds of CPU on its first
 * request, where the {@code java.net.http} client costs hundreds to start.
 *
 * <p>Socket timeouts bound the connect and each read, but a write to a server that stopped reading
 * has none: a watchdog thread disconnects a request still under way at its deadline, and
 * {@link #abort()} disconnects it at once.
 */
final class HttpPost implements AutoCloseable {
    static final String WATCHDOG_NAME = "stacktrace-push-deadline";
    /** The most of a response body read (to keep the connection for the next request); past it the connection is dropped. */
    private static final int MAX_DRAIN = 64 * 1024;

    private final ScheduledThreadPoolExecutor watchdog;
    private volatile HttpURLConnection current;
    private volatile boolean aborted;

    HttpPost() {
        watchdog = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, WATCHDOG_NAME);
            t.setDaemon(true);
            return t;
        });
        watchdog.setRemoveOnCancelPolicy(true);
    }

    /**
     * Sends {@code body} and returns the response's status, whatever it is.
     *
     * @throws SocketTimeoutException no status within {@code timeout} (the connection is closed)
     * @throws IOException the request failed otherwise, or {@link #abort()} ended it
     */
    int send(URI uri, String contentType, byte[] body, Duration connectTimeout, Duration timeout) throws IOException {
        if (aborted) throw new IOException("aborted");
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        c.setConnectTimeout((int) Math.max(1, Math.min(millis, connectTimeout.toMillis())));
        c.setReadTimeout(millis);
        c.setInstanceFollowRedirects(false);
        c.setUseCaches(false);
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        c.setRequestMethod("POST");
        c.setRequestProperty("Content-Type", contentType);
        c.setRequestProperty("User-Agent", "stacktrace-jvm");
        Deadline deadline = new Deadline(c);
        ScheduledFuture<?> alarm;
        try {
            alarm = watchdog.schedule(deadline, timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            throw new IOException("aborted", e);  // closed meanwhile
        }
        current = c;
        try {
            // A disconnect finds nothing to close before the connection is made, and one during the write
            // may leave the write to return quietly; after either, reading the status would connect again.
            OutputStream out = c.getOutputStream();
            checkNotEnded(deadline);
            try (out) {
                out.write(body);
            }
            checkNotEnded(deadline);
            int status = c.getResponseCode();
            drain(c, status);
            return status;
        } catch (IOException e) {
            c.disconnect();
            if (aborted) throw new IOException("aborted", e);
            if (deadline.passed() || e instanceof SocketTimeoutException) {
                SocketTimeoutException t = new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
                t.initCause(e);
                throw t;
            }
            throw e;
        } finally {
            current = null;
            deadline.finish();
            alarm.cancel(false);
        }
    }

    private void checkNotEnded(Deadline deadline) throws IOException {
        if (aborted || deadline.passed()) throw new IOException("ended");
    }

    /** Disconnects the request under way, if any, and every later one: for closing from another thread. */
    void abort() {
        aborted = true;
        HttpURLConnection c = current;
        if (c != null) c.disconnect();
    }

    @Override
    public void close() {
        abort();
        watchdog.shutdownNow();
    }

    /** Reads what the server answered, so the connection can serve the next request; drops it if that is long. */
    private static void drain(HttpURLConnection c, int status) throws IOException {
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            if (in == null) return;
            byte[] buffer = new byte[4096];
            int total = 0;
            for (int n; (n = in.read(buffer)) >= 0; ) {
                total += n;
                if (total > MAX_DRAIN) {
                    c.disconnect();
                    return;
                }
            }
        }
    }

    /** Disconnects its request if it is still under way when it runs; finish() marks it done first. */
    private static final class Deadline implements Runnable {
        private final HttpURLConnection connection;
        private boolean finished;
        private boolean passed;

        Deadline(HttpURLConnection connection) {
            this.connection = connection;
        }

        @Override
        public synchronized void run() {
            if (finished) return;
            passed = true;
            connection.disconnect();
        }

        synchronized void finish() {
            finished = true;
        }

        synchronized boolean passed() {
            return passed;
        }
    }
}
