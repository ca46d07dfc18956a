package dev.stacktrace.push;

import dev.stacktrace.tools.ProfileSnapshot;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A Grafana Pyroscope server's ingest API: {@code POST {base}/ingest?name=app{k=v,...}&from=&until=
 * &format=pprof&sampleRate=&spyName=stacktrace} with the window's gzip-compressed pprof profile as
 * the body (Pyroscope reads the sample types and period from it). {@code from} and {@code until}
 * are whole UNIX seconds that cover the interval.
 */
public final class PyroscopeTarget implements PushTarget {
    public static final String PATH = "/ingest";
    public static final String SPY_NAME = "stacktrace";
    private final URI ingest;
    private final String name;

    public PyroscopeTarget(URI base, String appName, Map<String, String> labels) {
        this.ingest = under(base, PATH);
        this.name = seriesName(appName, labels);
    }

    /** {@code app{k=v,k2=v2}}, or {@code app} without labels: Pyroscope's series name. */
    static String seriesName(String appName, Map<String, String> labels) {
        if (labels.isEmpty()) return appName;
        StringJoiner j = new StringJoiner(",", "{", "}");
        new LinkedHashMap<>(labels).forEach((k, v) -> j.add(k + "=" + v));
        return appName + j;
    }

    @Override
    public String name() {
        return "pyroscope";
    }

    @Override
    public Request request(ProfileSnapshot profile) {
        long from = profile.start().getEpochSecond();
        long until = profile.end().getEpochSecond() + (profile.end().getNano() > 0 ? 1 : 0);
        long hz = Math.max(1, Math.round(1e9 / Math.max(1, profile.interval().toNanos())));
        String query = "name=" + encode(name) + "&from=" + from + "&until=" + until + "&format=pprof"
                + "&sampleRate=" + hz + "&spyName=" + SPY_NAME;
        URI uri = URI.create(ingest + "?" + query);
        return new Request(uri, "application/octet-stream", profile.pprof());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** {@code base} with {@code path} appended, unless it ends in it already; no query, no fragment. */
    static URI under(URI base, String path) {
        String scheme = base.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || base.getHost() == null) {
            throw new IllegalArgumentException("'" + base + "' is not an http:// or https:// URL with a host, such as "
                    + "http://127.0.0.1:4040");
        }
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("'" + base + "' must have no query (?...) or fragment (#...)");
        }
        String s = base.toString();
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return URI.create(s.endsWith(path) ? s : s + path);
    }
}
