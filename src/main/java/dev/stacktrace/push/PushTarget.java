package dev.stacktrace.push;

import dev.stacktrace.tools.ProfileSnapshot;
import java.io.IOException;
import java.net.URI;

/** A store that takes profiles over HTTP: how one interval's profile becomes its request. */
public interface PushTarget {
    /** The request for one interval's profile: where it goes, its content type and body. */
    record Request(URI uri, String contentType, byte[] body) {}

    /** A short name for logs and the {@code target} tag of the push metrics: "pyroscope", "otlp". */
    String name();

    Request request(ProfileSnapshot profile) throws IOException;
}
