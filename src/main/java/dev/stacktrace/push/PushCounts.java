package dev.stacktrace.push;

/**
 * What became of one target's profiles so far: {@code sent} (accepted by the server),
 * {@code failed} (attempts that did not succeed: refused connection, timeout, a 5xx or 429 answer),
 * {@code dropped} (profiles given up: the queue was full and the oldest went, or the server
 * refused the request for good with another 4xx), {@code queued} (waiting now).
 */
public record PushCounts(long sent, long failed, long dropped, int queued) {}
