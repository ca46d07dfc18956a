package dev.stacktrace.agent;

import dev.stacktrace.service.ProfileSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's options: {@code port=9464,host=127.0.0.1,profile=cpu,interval=10ms,top=20}. Every option
 * has a default; an unknown option or a bad value is an error that says what is accepted. Secrets
 * never come as option values (they would show in {@code ps}): the password and the keystore's
 * password are read from files.
 *
 * @param port       HTTP port for /metrics, /flamegraph and /stacks; 0 for none (the default)
 * @param host       address to listen on (default 127.0.0.1: only this machine)
 * @param profile    off (default), cpu or wall: profile every thread from the start
 * @param interval   sampling interval (default 10ms): 10ms, 500us, 1s
 * @param top        symbol series in the metrics (default 20)
 * @param dumpSignal a realtime signal that dumps every thread to stderr even when the JVM is stuck; 0 for none
 * @param dumpFile   where that dump goes (appended); null: -Ddev.stacktrace.dumpFile, else stderr
 * @param authFile   a file holding {@code user:password} or {@code user:sha256:<hex>}: HTTP basic auth; null for none
 * @param tls        a PKCS#12 (or JKS) keystore with the server's key and certificate: HTTPS; null for plain HTTP
 * @param tlsPasswordFile a file holding the keystore's password; null: the environment variable
 *                   {@value TlsSetup#PASSWORD_ENV}
 * @param allowedHosts host names accepted in the Host header besides localhost, IP literals, {@code host} and
 *                   this machine's name (a defence against DNS rebinding), separated by {@code ;}
 * @param push       pushing profiles to Pyroscope ({@code pyroscope=}) and OTLP ({@code otlp=}), every
 *                   {@code pushInterval} (15s), named {@code appName}, with static {@code labels=k=v;k2=v2}
 * @param command    a command of the attach CLI to carry out and answer in a file, instead of starting the
 *                   agent; null for none
 */
public record AgentOptions(int port, String host, String profile, Duration interval, int top, int dumpSignal,
                           Path dumpFile, Path authFile, Path tls, Path tlsPasswordFile, List<String> allowedHosts,
                           PushOptions push, Command command) {
    private static final List<String> COMMAND_KEYS = List.of("command", "out", "mode", "stop", "format", "interval");

    public AgentOptions {
        allowedHosts = List.copyOf(allowedHosts);
        if (push == null) push = PushOptions.NONE;
    }

    /** The agent's options without pushing profiles or a CLI command. */
    public AgentOptions(int port, String host, String profile, Duration interval, int top, int dumpSignal,
                        Path dumpFile, Path authFile, Path tls, Path tlsPasswordFile, List<String> allowedHosts) {
        this(port, host, profile, interval, top, dumpSignal, dumpFile, authFile, tls, tlsPasswordFile, allowedHosts,
                PushOptions.NONE, null);
    }

    /** The options of the first versions, without dump file, authentication, TLS or extra host names. */
    public AgentOptions(int port, String host, String profile, Duration interval, int top, int dumpSignal) {
        this(port, host, profile, interval, top, dumpSignal, null, null, null, null, List.of());
    }

    /**
     * What the attach CLI asks of the agent: {@code command=status,out=/tmp/stacktrace-cli-1/reply}. The
     * answer goes to {@code out}, a file the CLI made; the target's own settings are left alone.
     *
     * @param name  one of {@link #NAMES}
     * @param out   the file for the answer (see {@link AttachReply})
     * @param mode  cpu or wall, for the commands that start profiling
     * @param stop  for flamegraph-write: stop the session first (the CLI started it)
     * @param format for flamegraph-write: html, collapsed or pprof (sent in base64)
     */
    public record Command(String name, Path out, String mode, boolean stop, String format) {
        public static final List<String> NAMES = List.of("start", "stop", "status", "dump", "flamegraph-start",
                "flamegraph-write");
    }

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
        if (values.containsKey("command")) {
            for (String key : values.keySet()) {
                if (!COMMAND_KEYS.contains(key)) {
                    throw new IllegalArgumentException("command= runs one command of the attach CLI and takes only "
                            + "interval=, mode=, stop=, format= and out=, not " + key + "=");
                }
            }
        }
        int port = integer(values.remove("port"), "port", 0, 0, 65535);
        String host = values.getOrDefault("host", "127.0.0.1");
        values.remove("host");
        if (host.isEmpty()) throw new IllegalArgumentException("host must be an address or a name, such as 127.0.0.1");
        String profile = values.getOrDefault("profile", "off").toLowerCase(Locale.ROOT);
        values.remove("profile");
        if (!profile.equals("off") && ProfileSettings.modeOrNull(profile) == null) {
            throw new IllegalArgumentException("profile must be off, " + ProfileSettings.MODES + ", not '" + profile + "'");
        }
        String intervalText = values.remove("interval");
        Duration interval = intervalText == null ? ProfileSettings.DEFAULT_INTERVAL
                : ProfileSettings.interval(intervalText, "interval");
        int top = integer(values.remove("top"), "top", 20, 0, 10_000);
        int dumpSignal = integer(values.remove("dumpsignal"), "dumpSignal", 0, 0, 64);
        Path dumpFile = path(values.remove("dumpfile"), "dumpFile");
        Path authFile = path(values.remove("authfile"), "authFile");
        Path tls = path(values.remove("tls"), "tls");
        Path tlsPasswordFile = path(values.remove("tlspasswordfile"), "tlsPasswordFile");
        if (tlsPasswordFile != null && tls == null) {
            throw new IllegalArgumentException("tlsPasswordFile is the password of the keystore given by tls=<keystore>, "
                    + "which is missing");
        }
        List<String> allowedHosts = new ArrayList<>();
        String hosts = values.remove("allowedhosts");
        if (hosts != null) {
            for (String name : hosts.split(";")) {
                if (!name.isBlank()) allowedHosts.add(name.trim().toLowerCase(Locale.ROOT));
            }
        }
        PushOptions push = PushOptions.parse(values.remove("pyroscope"), values.remove("otlp"),
                values.remove("pushinterval"), values.remove("appname"), values.remove("labels"));
        Command command = command(values);
        if (!values.isEmpty()) throw new IllegalArgumentException("unknown agent option(s) " + values.keySet() + "; " + USAGE);
        if (port == 0 && (authFile != null || tls != null || !allowedHosts.isEmpty())) {
            throw new IllegalArgumentException("authFile=, tls= and allowedHosts= guard the HTTP server, which only "
                    + "port=<n> starts: give the port too");
        }
        return new AgentOptions(port, host, profile, interval, top, dumpSignal, dumpFile, authFile, tls, tlsPasswordFile,
                allowedHosts, push, command);
    }

    /** The CLI's command keys (command, out, mode, stop), taken out of {@code values}; null without command=. */
    private static Command command(Map<String, String> values) {
        String name = values.remove("command");
        String out = values.remove("out");
        String mode = values.remove("mode");
        String stop = values.remove("stop");
        String format = values.remove("format");
        if (name == null) {
            if (out != null || mode != null || stop != null || format != null) {
                throw new IllegalArgumentException("out=, mode=, stop= and format= belong to command=, which is missing");
            }
            return null;
        }
        if (!Command.NAMES.contains(name)) {
            throw new IllegalArgumentException("command must be one of " + Command.NAMES + ", not '" + name + "'");
        }
        Path file = path(out, "out");
        if (file == null) throw new IllegalArgumentException("command= needs out=<file> for its answer");
        String m = mode == null ? "cpu" : ProfileSettings.mode(mode, "mode").name().toLowerCase(Locale.ROOT);
        if (stop != null && !stop.equals("true") && !stop.equals("false")) {
            throw new IllegalArgumentException("stop must be true or false, not '" + stop + "'");
        }
        String f = format == null ? "html" : format.toLowerCase(Locale.ROOT);
        if (!List.of("html", "collapsed", "pprof").contains(f)) {
            throw new IllegalArgumentException("format must be html, collapsed or pprof, not '" + format + "'");
        }
        return new Command(name, file, m, Boolean.parseBoolean(stop), f);
    }

    static final String USAGE = "options: port=<n>, host=<address>, profile=off|cpu|wall, interval=<10ms>, top=<n>, "
            + "dumpSignal=<realtime signal>, dumpFile=<path>, authFile=<path>, tls=<keystore.p12>, "
            + "tlsPasswordFile=<path>, allowedHosts=<name;name>, pyroscope=<http://host:4040>, otlp=<http://host:4318>, "
            + "pushInterval=<15s>, appName=<name>, labels=<key=value;key=value>; for the attach CLI: command=<name>, "
            + "out=<file>, mode=cpu|wall, stop=true|false";

    /** The profile to run from the start; null for profile=off. */
    public ProfileSettings profileSettings() {
        return profile.equals("off") ? null : new ProfileSettings(ProfileSettings.mode(profile, "profile"), interval);
    }

    /** What the HTTP server was started with: two loads of the agent that differ here cannot share it. */
    String httpSettings() {
        return "port=" + port + ",host=" + host + ",top=" + top
                + (authFile == null ? "" : ",authFile=" + authFile)
                + (tls == null ? "" : ",tls=" + tls)
                + (tlsPasswordFile == null ? "" : ",tlsPasswordFile=" + tlsPasswordFile)
                + (allowedHosts.isEmpty() ? "" : ",allowedHosts=" + String.join(";", allowedHosts));
    }

    private static Path path(String value, String name) {
        if (value == null) return null;
        if (value.isEmpty()) throw new IllegalArgumentException(name + " needs a file name");
        return Path.of(value);
    }

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
}
