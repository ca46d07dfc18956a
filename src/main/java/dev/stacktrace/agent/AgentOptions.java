package dev.stacktrace.agent;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's options: {@code port=9464,host=127.0.0.1,profile=cpu,interval=10ms,top=20}. Every option
 * has a default; an unknown option or a bad value is an error that says what is accepted.
 *
 * @param port      HTTP port for /metrics, /flamegraph and /stacks; 0 for none (the default)
 * @param host      address to listen on (default 127.0.0.1: only this machine)
 * @param profile   off (default), cpu or wall: profile every thread from the start
 * @param interval  sampling interval (default 10ms): 10ms, 500us, 1s
 * @param top       symbol series in the metrics (default 20)
 * @param dumpSignal a realtime signal that dumps every thread to stderr even when the JVM is stuck; 0 for none
 */
public record AgentOptions(int port, String host, String profile, Duration interval, int top, int dumpSignal) {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m)?");

    public static AgentOptions parse(String args) {
        Map<String, String> values = new LinkedHashMap<>();
        if (args != null && !args.isBlank()) {
            for (String part : args.split(",")) {
                if (part.isBlank()) continue;
                int eq = part.indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("agent option '" + part + "' is not name=value; " + USAGE);
                values.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
            }
        }
        int port = integer(values.remove("port"), "port", 0, 0, 65535);
        String host = values.getOrDefault("host", "127.0.0.1");
        values.remove("host");
        String profile = values.getOrDefault("profile", "off").toLowerCase(Locale.ROOT);
        values.remove("profile");
        if (!profile.equals("off") && !profile.equals("cpu") && !profile.equals("wall")) {
            throw new IllegalArgumentException("profile must be off, cpu or wall, not '" + profile + "'");
        }
        Duration interval = duration(values.remove("interval"), Duration.ofMillis(10));
        if (interval.toNanos() < 100_000) throw new IllegalArgumentException("interval must be at least 100us, not " + interval);
        int top = integer(values.remove("top"), "top", 20, 0, 10_000);
        int dumpSignal = integer(values.remove("dumpsignal"), "dumpSignal", 0, 0, 64);
        if (!values.isEmpty()) throw new IllegalArgumentException("unknown agent option(s) " + values.keySet() + "; " + USAGE);
        return new AgentOptions(port, host, profile, interval, top, dumpSignal);
    }

    static final String USAGE = "options: port=<n>, host=<address>, profile=off|cpu|wall, interval=<10ms>, top=<n>, "
            + "dumpSignal=<realtime signal>";

    private static int integer(String value, String name, int fallback, int min, int max) {
        if (value == null) return fallback;
        try {
            int n = Integer.parseInt(value);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max + ", not '"
                    + value + "'");
        }
    }

    static Duration duration(String value, Duration fallback) {
        if (value == null) return fallback;
        Matcher m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a duration such as 10ms, 500us, 2s or 1m");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        double nanos = amount * switch (unit) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> 60e9;
        };
        return Duration.ofNanos(Math.round(nanos));
    }
}
