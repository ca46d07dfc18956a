package dev.stacktrace.testlib;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Go toolchain's pprof ({@code go tool pprof}, Debian's golang-go, installed by scripts/setup.sh):
 * the real client of pprof files and endpoints, as an oracle. Missing go is a failure, never a skip.
 */
public final class GoPprof {
    private GoPprof() {}

    /** Runs {@code go tool pprof args...}; fails unless it exits 0 within {@code timeoutSeconds}. Returns its stdout. */
    public static String run(int timeoutSeconds, String... args) throws IOException, InterruptedException {
        String go = findGo();
        Path dir = Files.createTempDirectory("go-pprof");
        Path stdout = dir.resolve("stdout");
        Path stderr = dir.resolve("stderr");
        List<String> command = new ArrayList<>(List.of(go, "tool", "pprof"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        // pprof saves fetched profiles under $PPROF_TMPDIR (else $HOME/pprof); go wants a cache directory
        pb.environment().put("PPROF_TMPDIR", dir.toString());
        pb.environment().put("GOCACHE", dir.resolve("gocache").toString());
        pb.environment().put("HOME", dir.toString());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("go tool pprof did not finish in " + timeoutSeconds + " s: " + command + "\n"
                    + Files.readString(stderr, StandardCharsets.UTF_8));
        }
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("go tool pprof exited with " + p.exitValue() + ": " + command + "\n" + err + out);
        }
        return out;
    }

    /** The go binary: on PATH, or Debian's /usr/lib/go/bin/go. */
    public static String findGo() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            Path go = Path.of(dir.isEmpty() ? "." : dir, "go");
            if (Files.isExecutable(go)) return go.toString();
        }
        Path debian = Path.of("/usr/lib/go/bin/go");
        if (Files.isExecutable(debian)) return debian.toString();
        throw new AssertionError("go is not installed: the pprof tests need `go tool pprof` (Debian's golang-go; "
                + "bash scripts/setup.sh installs it)");
    }

    /** One row of {@code -top}: flat and cumulative sample values and the function's name. */
    public record TopRow(long flat, long cum, String name) {}

    private static final Pattern TOP_ROW = Pattern.compile(
            "^\\s*([0-9.]+)(\\w*)\\s+[0-9.]+%\\s+[0-9.]+%\\s+([0-9.]+)(\\w*)\\s+[0-9.]+%\\s+(.+?)\\s*$");

    /** The rows of {@code go tool pprof -top -sample_index=samples} output, in its order (by flat, highest first). */
    public static List<TopRow> parseTop(String top) {
        List<TopRow> rows = new ArrayList<>();
        boolean table = false;
        for (String line : top.split("\n")) {
            if (line.trim().startsWith("flat ")) {
                table = true;
                continue;
            }
            if (!table) continue;
            Matcher m = TOP_ROW.matcher(line);
            if (m.matches()) {
                rows.add(new TopRow(scaled(m.group(1), m.group(2)), scaled(m.group(3), m.group(4)), m.group(5)));
            }
        }
        return rows;
    }

    private static long scaled(String number, String suffix) {
        double v = Double.parseDouble(number);
        double scale = switch (suffix) {
            case "", "ns" -> 1;
            case "k", "us" -> 1e3;
            case "M", "ms" -> 1e6;
            case "G", "s" -> 1e9;
            default -> throw new IllegalArgumentException("unknown unit " + suffix);
        };
        return Math.round(v * scale);
    }

    /** What {@code -raw} says: sample counts (the first value), locations and mappings. */
    public record Raw(List<long[]> samples, Map<Long, String> locations, Map<Long, long[]> mappings, String text) {
        public long totalCount() {
            long n = 0;
            for (long[] s : samples) n += s[0];
            return n;
        }
    }

    private static final Pattern RAW_SAMPLE = Pattern.compile("^\\s*(\\d+)\\s+(\\d+):((?:\\s+\\d+)*)\\s*$");
    private static final Pattern RAW_LOCATION = Pattern.compile("^\\s*(\\d+):\\s+(.*)$");
    private static final Pattern RAW_MAPPING = Pattern.compile("^\\s*(\\d+):\\s+0x([0-9a-f]+)/0x([0-9a-f]+)/0x([0-9a-f]+)\\s+(.*)$");

    /**
     * Parses {@code -raw}: under "Samples:" one line per sample ({@code count nanos: loc loc ...});
     * under "Locations", {@code id: 0xaddress M=mapping function file:line s=start}, with further
     * lines for inlined frames; under "Mappings", {@code id: 0xstart/0xlimit/0xoffset file buildid}.
     * Each location's text keeps all its lines.
     */
    public static Raw parseRaw(String raw) {
        List<long[]> samples = new ArrayList<>();
        Map<Long, String> locations = new LinkedHashMap<>();
        Map<Long, long[]> mappings = new LinkedHashMap<>();
        String section = "";
        Long lastLocation = null;
        for (String line : raw.split("\n")) {
            String t = line.trim();
            if (t.equals("Samples:") || t.equals("Locations") || t.equals("Mappings")) {
                section = t;
                continue;
            }
            switch (section) {
                case "Samples:" -> {
                    Matcher m = RAW_SAMPLE.matcher(line);
                    if (m.matches()) {
                        String[] locs = m.group(3).trim().isEmpty() ? new String[0] : m.group(3).trim().split("\\s+");
                        long[] s = new long[2 + locs.length];
                        s[0] = Long.parseLong(m.group(1));
                        s[1] = Long.parseLong(m.group(2));
                        for (int i = 0; i < locs.length; i++) s[2 + i] = Long.parseLong(locs[i]);
                        samples.add(s);
                    }
                }
                case "Locations" -> {
                    Matcher m = RAW_LOCATION.matcher(line);
                    if (m.matches()) {
                        lastLocation = Long.parseLong(m.group(1));
                        locations.put(lastLocation, m.group(2));
                    } else if (lastLocation != null && !t.isEmpty()) {
                        locations.merge(lastLocation, "\n" + t, String::concat);
                    }
                }
                case "Mappings" -> {
                    Matcher m = RAW_MAPPING.matcher(line);
                    if (m.matches()) {
                        mappings.put(Long.parseLong(m.group(1)), new long[] {Long.parseUnsignedLong(m.group(2), 16),
                                Long.parseUnsignedLong(m.group(3), 16), Long.parseUnsignedLong(m.group(4), 16)});
                    }
                }
                default -> { }
            }
        }
        return new Raw(samples, locations, mappings, raw);
    }
}
