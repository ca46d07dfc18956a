package dev.stacktrace.bench;

import dev.stacktrace.StackEntry;
import dev.stacktrace.tools.Profiler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How six real JNI libraries' stacks look (bench/jni-libraries.sh): for each, a small workload in a
 * thread of its own ({@link JniLibraryWorkloads}), profiled by our {@link Profiler} and then by
 * async-profiler (from its Maven jar, in this JVM; never both at once). Prints for each profiler:
 * frames per stack, the share of native frames named, the share of the library's own frames named
 * (ours only: async-profiler's frames carry no library), the share of samples holding a marker frame
 * (a name in brackets), and the top 5 innermost frames.
 *
 * <p>A native frame is named unless it is {@code ?} (ours), {@code [unknown]}, a bare
 * {@code library+0xoffset} or a library's path (async-profiler). Other frames in brackets are markers, not native frames:
 * ours such as {@code [truncated]}, async-profiler's such as {@code [unknown_Java]}.
 *
 * <pre>
 *   --libraries rocksdb,zstd,netty,sqlite,snappy,lz4  --seconds 3  --warmup-seconds 2  --interval-ms 2
 *   --mode wall|cpu  --async-cstack vmx|vm|dwarf|fp
 * </pre>
 */
public final class JniLibrariesBenchmark {
    private static List<String> libraries = JniLibraryWorkloads.NAMES;
    private static double seconds = 3;
    private static double warmupSeconds = 2;
    private static double intervalMs = 2;
    private static Profiler.Mode mode = Profiler.Mode.WALL;
    private static String asyncCstack = "vmx";

    /** A frame as both profilers' outputs can give it. {@code library} is null where unknown. */
    private record Frame(String name, boolean java, boolean kernel, String library) {}

    /** One sampled stack, innermost frame first, and how many samples had it. */
    private record Sample(List<Frame> frames, long count) {}

    private record View(String profiler, long samples, long notRecorded, double framesPerStack, long nativeFrames,
                        long namedNative, long libraryFrames, long namedLibrary, long markerSamples,
                        List<Map.Entry<String, Long>> top) {}

    private static final Pattern OFFSET_ONLY = Pattern.compile("\\S+\\+0x[0-9a-fA-F]+");
    /** async-profiler names a frame it has no symbol for by its library's path (" (deleted)" for a deleted file). */
    private static final Pattern LIBRARY_ONLY = Pattern.compile("/.*|.*\\.so(\\.[0-9.]+)?( \\(deleted\\))?");

    public static void main(String[] args) throws Exception {
        parse(args);
        Locale.setDefault(Locale.ROOT);
        AsyncProfilerSession probe = new AsyncProfilerSession(asyncEvent(), intervalMs, asyncCstack);
        System.out.printf("JniLibrariesBenchmark: java %s (%s), %d cpus; %s mode, %.0f s per profiler and library, "
                        + "interval %.1f ms; async-profiler %s (%s)%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(), mode, seconds,
                intervalMs, probe.version(), probe.options());
        List<View[]> rows = new ArrayList<>();
        for (String name : libraries) {
            try (JniLibraryWorkloads.Running r = JniLibraryWorkloads.start(name)) {
                Thread.sleep(Math.round(warmupSeconds * 1000));
                View ours = ours(r);
                View theirs = async(r);
                System.out.printf("%n%s (thread %s)%n", name, r.thread().getName());
                print(ours);
                print(theirs);
                rows.add(new View[] {ours, theirs});
            }
        }
        System.out.println();
        System.out.println("| library | frames per stack ours / async | native frames named ours / async "
                + "| library's frames named (ours) | samples with a marker ours / async | samples ours (not recorded) / async |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (int i = 0; i < rows.size(); i++) {
            View o = rows.get(i)[0], a = rows.get(i)[1];
            System.out.printf("| %s | %.1f / %.1f | %s / %s | %s | %s / %s | %d (%d) / %d |%n", libraries.get(i),
                    o.framesPerStack(), a.framesPerStack(), pct(o.namedNative(), o.nativeFrames()),
                    pct(a.namedNative(), a.nativeFrames()), pct(o.namedLibrary(), o.libraryFrames()),
                    pct(o.markerSamples(), o.samples()), pct(a.markerSamples(), a.samples()), o.samples(),
                    o.notRecorded(), a.samples());
        }
    }

    private static String asyncEvent() {
        return mode == Profiler.Mode.CPU ? "cpu" : "wall";
    }

    private static View ours(JniLibraryWorkloads.Running r) throws Exception {
        Profiler p = Profiler.builder().thread(r.thread()).mode(mode)
                .interval(Duration.ofNanos(Math.round(intervalMs * 1e6))).build().start();
        try {
            Thread.sleep(Math.round(seconds * 1000));
        } finally {
            p.join();
        }
        List<Sample> samples = new ArrayList<>();
        long recorded = 0;
        for (Map.Entry<List<StackEntry>, Long> e : p.getStacks().entrySet()) {
            List<Frame> frames = new ArrayList<>();
            for (StackEntry f : e.getKey()) frames.add(new Frame(f.name(), f.isJava(), false, f.library()));
            samples.add(new Sample(frames, e.getValue()));
            recorded += e.getValue();
        }
        return view("ours", samples, Math.max(0, p.sampleCount() - recorded), r.libraryKey());
    }

    private static View async(JniLibraryWorkloads.Running r) throws Exception {
        AsyncProfilerSession a = new AsyncProfilerSession(asyncEvent(), intervalMs, asyncCstack);
        String said = a.start(r.thread());
        if (!said.startsWith("Profiling started")) System.out.println("async-profiler: " + said.replace('\n', ' '));
        String collapsed;
        try {
            Thread.sleep(Math.round(seconds * 1000));
        } finally {
            collapsed = a.stopCollapsed();
        }
        String root = "[" + r.thread().getName() + " tid=";
        List<Sample> samples = new ArrayList<>();
        for (String line : collapsed.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (space < 0 || !line.startsWith(root)) continue;
            String[] names = line.substring(0, space).split(";");
            List<Frame> frames = new ArrayList<>();
            for (int i = names.length - 1; i >= 1; i--) frames.add(asyncFrame(names[i]));  // innermost first, no root
            samples.add(new Sample(frames, Long.parseLong(line.substring(space + 1).trim())));
        }
        return view("async-profiler", samples, 0, r.libraryKey());
    }

    /** A frame of async-profiler's collapsed output with {@code ann}: Java frames end in _[j], _[i], _[0], _[1]; kernel _[k]. */
    private static Frame asyncFrame(String s) {
        int at = s.lastIndexOf("_[");
        if (at > 0 && s.endsWith("]") && s.length() - at == 4) {
            char c = s.charAt(at + 2);
            String name = s.substring(0, at);
            return c == 'k' ? new Frame(name, false, true, null) : new Frame(name, true, false, null);
        }
        return new Frame(s, false, false, null);
    }

    private static boolean isMarker(Frame f) {
        return !f.java() && f.name().startsWith("[") && !f.name().equals("[unknown]");
    }

    private static boolean isNamed(Frame f) {
        return !f.name().equals("?") && !f.name().equals("[unknown]") && !OFFSET_ONLY.matcher(f.name()).matches()
                && !LIBRARY_ONLY.matcher(f.name()).matches();
    }

    private static View view(String profiler, List<Sample> samples, long notRecorded, String libraryKey) {
        long all = 0, frames = 0, nat = 0, named = 0, lib = 0, libNamed = 0, marked = 0;
        Map<String, Long> self = new HashMap<>();
        for (Sample s : samples) {
            long n = s.count();
            all += n;
            frames += n * s.frames().size();
            boolean marker = false;
            for (Frame f : s.frames()) {
                if (isMarker(f)) {
                    marker = true;
                    continue;
                }
                if (f.java() || f.kernel()) continue;
                nat += n;
                boolean isNamed = isNamed(f);
                if (isNamed) named += n;
                if (f.library() != null && f.library().contains(libraryKey)) {
                    lib += n;
                    if (isNamed) libNamed += n;
                }
            }
            if (marker) marked += n;
            if (!s.frames().isEmpty()) {
                Frame top = s.frames().get(0);
                String label = top.library() == null || top.java() ? top.name() : top.name() + " (" + top.library() + ")";
                self.merge(label, n, Long::sum);
            }
        }
        List<Map.Entry<String, Long>> top = new ArrayList<>(self.entrySet());
        top.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        return new View(profiler, all, notRecorded, all == 0 ? 0 : (double) frames / all, nat, named, lib, libNamed, marked,
                top.subList(0, Math.min(5, top.size())));
    }

    private static void print(View v) {
        System.out.printf("  %-14s %d samples%s, %.1f frames per stack, native frames named %s, library's frames named %s, "
                        + "samples with a marker %s%n", v.profiler(), v.samples(),
                v.profiler().equals("ours") ? " (+" + v.notRecorded() + " not recorded)" : "", v.framesPerStack(),
                pct(v.namedNative(), v.nativeFrames()), v.profiler().equals("ours") ? pct(v.namedLibrary(), v.libraryFrames()) : "n/a",
                pct(v.markerSamples(), v.samples()));
        for (Map.Entry<String, Long> e : v.top()) {
            System.out.printf("      %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, v.samples()), e.getKey());
        }
    }

    private static String pct(long part, long whole) {
        return whole == 0 ? "-" : String.format("%.0f%%", 100.0 * part / whole);
    }

    private static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--libraries" -> libraries = List.of(args[++i].split(","));
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--interval-ms" -> intervalMs = Double.parseDouble(args[++i]);
                case "--mode" -> mode = Profiler.Mode.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--async-cstack" -> asyncCstack = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --libraries "
                        + String.join(",", JniLibraryWorkloads.NAMES) + " --seconds S --warmup-seconds S --interval-ms MS "
                        + "--mode wall|cpu --async-cstack vmx|vm|dwarf|fp");
            }
        }
    }
}
