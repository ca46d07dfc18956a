package dev.stacktrace.agent;

import dev.stacktrace.push.ProfilePusher;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where and how the agent pushes profiles: {@code pyroscope=http://host:4040}, {@code otlp=http://host:4318},
 * {@code pushInterval=15s}, {@code appName=checkout}, {@code labels=env=prod;region=eu}. Parsed by
 * {@link AgentOptions}; no target means no push.
 *
 * @param pyroscope a Pyroscope server's base URL, or null
 * @param otlp      an OTLP/HTTP endpoint's base URL, or null
 * @param interval  how often the profile of the last interval is pushed (1 s to 10 min)
 * @param appName   the application's name: Pyroscope's series name, OTLP's service.name
 * @param labels    static labels of every profile pushed, in the order given
 */
public record PushOptions(URI pyroscope, URI otlp, Duration interval, String appName, Map<String, String> labels) {
    public static final PushOptions NONE = new PushOptions(null, null, ProfilePusher.DEFAULT_INTERVAL, "java", Map.of());
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
    /** Characters Pyroscope's series name syntax and the option syntax give a meaning to. */
    private static final Pattern FORBIDDEN = Pattern.compile("[{}=,;\"\\s]");

    public PushOptions {
        labels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    }

    public boolean enabled() {
        return pyroscope != null || otlp != null;
    }

    static PushOptions parse(String pyroscope, String otlp, String interval, String appName, String labels) {
        if (pyroscope == null && otlp == null && interval == null && appName == null && labels == null) return NONE;
        URI p = url(pyroscope, "pyroscope", "http://127.0.0.1:4040");
        URI o = url(otlp, "otlp", "http://127.0.0.1:4318");
        Duration every = interval == null ? ProfilePusher.DEFAULT_INTERVAL : Durations.parse(interval);
        if (every.compareTo(ProfilePusher.MIN_INTERVAL) < 0 || every.compareTo(ProfilePusher.MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("pushInterval must be from 1s to 10m, not " + Durations.format(every));
        }
        String name = appName == null ? defaultAppName() : appName;
        if (name.isEmpty() || FORBIDDEN.matcher(name).find()) {
            throw new IllegalArgumentException("appName must be a name without spaces, quotes or any of {}=,; such as "
                    + "checkout-service, not '" + name + "'");
        }
        Map<String, String> parsed = new LinkedHashMap<>();
        if (labels != null) {
            for (String pair : labels.split(";")) {
                if (pair.isBlank()) continue;
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair.trim() : pair.substring(0, eq).trim();
                String value = eq < 0 ? "" : pair.substring(eq + 1).trim();
                if (!LABEL_KEY.matcher(key).matches() || value.isEmpty() || FORBIDDEN.matcher(value).find()) {
                    throw new IllegalArgumentException("labels must be key=value pairs separated by ';' (labels=env=prod;"
                            + "region=eu), keys of letters, digits, _ and ., values without spaces, quotes or {}=,; "
                            + "not '" + pair + "'");
                }
                if (parsed.put(key, value) != null) throw new IllegalArgumentException("label " + key + " given twice");
            }
        }
        if (p == null && o == null && (interval != null || appName != null || labels != null)) {
            throw new IllegalArgumentException("pushInterval=, appName= and labels= describe the profiles pushed to "
                    + "pyroscope=<url> or otlp=<url>, which are missing");
        }
        return new PushOptions(p, o, every, name, parsed);
    }

    private static URI url(String value, String option, String example) {
        if (value == null) return null;
        try {
            URI u = new URI(value);
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                    || u.getHost() == null || u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new URISyntaxException(value, "not http(s)://host[:port][/path]");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(option + " must be an http:// or https:// URL such as " + example
                    + ", not '" + value + "'");
        }
    }

    /** The main class (or the jar's name) as the launcher was given it, else "java". */
    static String defaultAppName() {
        String command = System.getProperty("sun.java.command", "").strip();
        if (command.isEmpty()) return "java";
        String first = command.split("\\s+")[0];
        if (first.endsWith(".jar")) {
            first = first.substring(first.lastIndexOf('/') + 1);
            first = first.substring(0, first.length() - ".jar".length());
        }
        String cleaned = FORBIDDEN.matcher(first).replaceAll("_");
        return cleaned.isEmpty() ? "java" : cleaned;
    }

    /** What the pusher was started with: two loads of the agent that differ here cannot share it. */
    String describe() {
        StringBuilder s = new StringBuilder();
        if (pyroscope != null) s.append("pyroscope=").append(pyroscope).append(',');
        if (otlp != null) s.append("otlp=").append(otlp).append(',');
        s.append("pushInterval=").append(Durations.format(interval)).append(",appName=").append(appName);
        if (!labels.isEmpty()) {
            StringBuilder l = new StringBuilder();
            labels.forEach((k, v) -> l.append(l.length() == 0 ? "" : ";").append(k).append('=').append(v));
            s.append(",labels=").append(l);
        }
        return s.toString();
    }
}
