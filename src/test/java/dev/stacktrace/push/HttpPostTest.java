package dev.stacktrace.push;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One POST against loopback servers that answer, refuse, never answer, or never even read: it
 * returns the status, or fails within its deadline, and {@link HttpPost#abort()} ends it at once.
 */
// a separate thread: a write that never ends is not interrupted, and must fail the test rather than hang it
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HttpPostTest {
    private static final Duration CONNECT = Duration.ofSeconds(1);
    /** Far more than the loopback socket buffers of both ends hold, so a write to a server that does not read blocks. */
    private static final int BLOCKING_BODY = 64 << 20;

    @Test
    void returnsEachStatusAndTheServerGetsTheBody() throws Exception {
        byte[] body = "profile".getBytes();
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.OK); HttpPost post = new HttpPost()) {
            URI uri = receiver.base().resolve("/ingest?name=app");
            assertEquals(200, post.send(uri, "application/octet-stream", body, CONNECT, Duration.ofSeconds(10)));
            receiver.answer(LoopbackReceiver.Answer.ERROR_500);
            assertEquals(500, post.send(uri, "application/octet-stream", body, CONNECT, Duration.ofSeconds(10)));
            receiver.answer(LoopbackReceiver.Answer.BAD_REQUEST_400);
            assertEquals(400, post.send(uri, "application/octet-stream", body, CONNECT, Duration.ofSeconds(10)));
            List<LoopbackReceiver.Received> got = receiver.received();
            assertEquals(3, got.size());
            for (LoopbackReceiver.Received r : got) {
                assertEquals("/ingest", r.path());
                assertEquals("app", r.query().get("name"));
                assertEquals("application/octet-stream", r.contentType());
                assertArrayEquals(body, r.body());
            }
        }
    }

    @Test
    void aServerThatNeverAnswersFailsAtTheDeadline() throws Exception {
        try (LoopbackReceiver receiver = new LoopbackReceiver(LoopbackReceiver.Answer.HANG); HttpPost post = new HttpPost()) {
            assertFailsAtDeadline(post, receiver.base(), new byte[10], 500);
        }
    }

    @Test
    void aServerThatStopsReadingFailsAtTheDeadlineThoughTheWriteHasNoTimeout() throws Exception {
        // a listening socket that never accepts: the kernel takes the connection and buffers what it can, then the write blocks
        try (ServerSocket deaf = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()); HttpPost post = new HttpPost()) {
            URI uri = URI.create("http://127.0.0.1:" + deaf.getLocalPort() + "/ingest");
            assertFailsAtDeadline(post, uri, new byte[BLOCKING_BODY], 700);
        }
    }

    @Test
    void abortEndsAWriteUnderWayAndEveryLaterRequest() throws Exception {
        try (ServerSocket deaf = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()); HttpPost post = new HttpPost()) {
            URI uri = URI.create("http://127.0.0.1:" + deaf.getLocalPort() + "/ingest");
            Thread aborter = new Thread(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                }
                post.abort();
            });
            aborter.start();
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class,
                    () -> post.send(uri, "application/octet-stream", new byte[BLOCKING_BODY], CONNECT, Duration.ofSeconds(30)));
            double seconds = (System.nanoTime() - start) / 1e9;
            aborter.join();
            assertEquals("aborted", e.getMessage());
            assertTrue(seconds < 5, "ended " + seconds + " s after it began, not at the abort");
            assertThrows(IOException.class, () -> post.send(uri, "text/plain", new byte[1], CONNECT, Duration.ofSeconds(30)));
        }
    }

    /** Sends {@code body} with a deadline of {@code millis} and asserts that it fails as a timeout, at that deadline. */
    private static void assertFailsAtDeadline(HttpPost post, URI uri, byte[] body, int millis) {
        long start = System.nanoTime();
        SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
                () -> post.send(uri, "application/octet-stream", body, CONNECT, Duration.ofMillis(millis)));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals("no answer within " + millis + " ms", e.getMessage());
        assertTrue(seconds >= millis * 0.9e-3 && seconds < 5, "failed after " + seconds + " s");
    }

    @Test
    void aRefusedConnectionFailsAtOnceAndNotAsATimeout() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (HttpPost post = new HttpPost()) {
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> post.send(URI.create("http://127.0.0.1:" + port + "/"),
                    "text/plain", new byte[1], CONNECT, Duration.ofSeconds(10)));
            assertTrue(!(e instanceof SocketTimeoutException), e.toString());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "refused at once");
        }
    }
}
