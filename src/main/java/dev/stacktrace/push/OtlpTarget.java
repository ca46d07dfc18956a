package dev.stacktrace.push;

import dev.stacktrace.tools.ProfileSnapshot;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An OTLP/HTTP endpoint for the profiles signal (an OpenTelemetry Collector, Pyroscope):
 * {@code POST {base}/v1development/profiles}, {@code Content-Type: application/x-protobuf}, an
 * {@code ExportProfilesServiceRequest} whose resource has {@code service.name} = the application's
 * name and the static labels as further attributes. Needs the opentelemetry-proto classes (shaded
 * into the agent jar; a library user adds {@code io.opentelemetry.proto:opentelemetry-proto}).
 */
public final class OtlpTarget implements PushTarget {
    public static final String PATH = "/v1development/profiles";
    private final URI uri;
    private final Map<String, String> resource = new LinkedHashMap<>();

    /** {@code base}: http://host:4318, or the full URL ending in {@value #PATH}. */
    public OtlpTarget(URI base, String appName, Map<String, String> labels) {
        this.uri = PyroscopeTarget.under(base, PATH);
        resource.put("service.name", appName);
        resource.putAll(labels);
    }

    @Override
    public String name() {
        return "otlp";
    }

    public URI uri() {
        return uri;
    }

    @Override
    public Request request(ProfileSnapshot profile) {
        return new Request(uri, "application/x-protobuf", OtlpProfiles.request(profile, resource).toByteArray());
    }
}
