package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes a profile (distinct stacks, innermost frame first, each with its sample count) as
 * collapsed stacks or as a self-contained HTML flame graph.
 *
 * <h2>Frame labels</h2>
 * Both outputs name a frame by {@link #label(StackEntry)}:
 * <ul>
 *   <li>Java frames: {@code className.methodName} plus the annotation that flamegraph.pl's
 *       {@code --colors=java} palette recognises: {@code _[i]} for a method inlined into its
 *       compiled caller (aqua), {@code _[j]} for every other Java frame: compiled, interpreted or a
 *       native method's stub (green). That palette knows only {@code _[j]}, {@code _[i]} and
 *       {@code _[k]}; async-profiler's {@code _[0]} (interpreted) and {@code _[1]} (C1) fall
 *       through to its red "system" colour, and its fallback regex only spots Java by
 *       {@code java/}-style slashes, which our dotted names lack. So interpreted frames are
 *       {@code _[j]} too, which also keeps a method in one box when it was sampled both before
 *       and after being compiled.</li>
 *   <li>Native and JVM frames: the demangled symbol as is ({@code deflate},
 *       {@code JavaThread::run()}); C++ names keep their spaces.</li>
 *   <li>A frame without a symbol ({@code hasName()} false: {@code "?"} or a place name such as {@code libfoo.so+0x1a2b}): its library's file name in brackets,
 *       {@code [libfoo.so]}, or the library as is when it is already bracketed ({@code [jit]},
 *       {@code [unknown]}). This is perf's convention. Unknown frames of one library merge into
 *       one box per position; an address would split one unknown function into as many boxes as
 *       it has sampled instructions, and addresses change from run to run under ASLR.</li>
 * </ul>
 * Labels are sanitized so that no frame can break the line format: {@code ;} becomes {@code :},
 * control characters and other whitespace become a plain space, the ends are trimmed, and a label
 * that would end in a space and a number gets {@code _} instead of that space (flamegraph.pl
 * would read {@code "... 12"} at the end of a stack as a second count column).
 *
 * <h2>Collapsed stacks</h2>
 * One line per distinct label sequence: frames root first, separated by {@code ;}, then one
 * space and the count, as flamegraph.pl, speedscope and most flame-graph tools read it. Both
 * parse {@code ^(.*)\s+?(\d+...)$} or {@code ^(.*) (\d+)$}: the greedy {@code (.*)} makes the
 * last space the separator, so spaces inside frames are fine. Stacks that produce equal labels
 * are merged and their counts added; lines are sorted by stack. Stacks without frames and counts
 * below 1 are left out.
 *
 * <h2>HTML</h2>
 * One page with inline CSS, script and data (no network needed): a classic flame graph, root at
 * the bottom. Hover shows the frame, its library, kind, samples and percentages; a click zooms
 * into a frame (Reset zoom or Esc undoes it); the search box (a regular expression, or plain
 * text when it is no valid one) highlights matching frames and shows the share of samples they
 * cover. Colours: Java green, inlined Java aqua, native C/C++ orange/yellow, the JVM red, frames
 * without a symbol grey. Frames merge by label as in the collapsed output; boxes narrower than
 * half a pixel are not drawn. A profile taken under {@link dev.stacktrace.Labels} gets a menu that
 * shows all samples, those of one label, or those without labels ({@link #labeledHtml}).
 */
public final class FlameGraph {

    private FlameGraph() {
    }

    // Mirrors flamegraph.pl's test for a trailing count; Perl's \s and \d are Unicode-aware there.
    private static final Pattern TRAILING_NUMBER =
            Pattern.compile("\\s(\\d+(?:\\.\\d*)?)$", Pattern.UNICODE_CHARACTER_CLASS);

    /** The frame's label in both outputs (see the class comment). */
    public static String label(StackEntry e) {
        String text = e.hasName() ? sanitize(e.name()) : "";
        if (text.isEmpty()) text = sanitize(unknownLabel(e.library()));
        if (e.isJava()) text += e.kind() == StackEntry.Kind.JAVA_INLINED ? "_[i]" : "_[j]";
        return text;
    }

    /** The profile as collapsed stacks, one line per distinct stack (see the class comment). */
    public static String collapsed(Map<List<StackEntry>, Long> samples) {
        StringBuilder sb = new StringBuilder();
        try {
            writeCollapsed(samples, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder does not throw
        }
        return sb.toString();
    }

    /** Writes {@link #collapsed(Map)} to {@code out}. */
    public static void writeCollapsed(Map<List<StackEntry>, Long> samples, Appendable out) throws IOException {
        Map<String, Long> lines = new TreeMap<>();
        for (Map.Entry<List<StackEntry>, Long> s : samples.entrySet()) {
            List<StackEntry> stack = s.getKey();
            long count = Objects.requireNonNull(s.getValue(), "count");
            if (stack.isEmpty() || count < 1) continue;
            StringBuilder line = new StringBuilder();
            for (int i = stack.size() - 1; i >= 0; i--) {
                if (line.length() > 0) line.append(';');
                line.append(label(stack.get(i)));
            }
            lines.merge(line.toString(), count, Long::sum);
        }
        for (Map.Entry<String, Long> l : lines.entrySet()) {
            out.append(l.getKey()).append(' ').append(Long.toString(l.getValue())).append('\n');
        }
    }

    /** The profile as a self-contained HTML flame graph (see the class comment). */
    public static String html(Map<List<StackEntry>, Long> samples, String title) {
        StringBuilder sb = new StringBuilder();
        try {
            writeHtml(samples, title, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sb.toString();
    }

    /** Writes {@link #html(Map, String)} to {@code out}. */
    public static void writeHtml(Map<List<StackEntry>, Long> samples, String title, Appendable out)
            throws IOException {
        writeLabeledHtml(Map.of(Map.of(), samples), title, out);
    }

    /**
     * The profile as a self-contained HTML flame graph with a label menu: all samples, or only
     * those taken while the thread's {@link dev.stacktrace.Labels} included one label (one entry per
     * {@code key=value}, the {@value #MAX_LABEL_VIEWS} with the most samples), or those taken
     * without labels. Without labels in the profile, the page is {@link #html(Map, String)}'s.
     *
     * @param byLabels each label set (the empty map: no labels) with its stacks and their counts
     */
    public static String labeledHtml(Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels, String title) {
        StringBuilder sb = new StringBuilder();
        try {
            writeLabeledHtml(byLabels, title, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sb.toString();
    }

    /** Writes {@link #labeledHtml(Map, String)} to {@code out}. */
    public static void writeLabeledHtml(Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels, String title,
                                        Appendable out) throws IOException {
        String t = escapeHtml(title == null ? "Flame graph" : title);
        int data = PAGE.indexOf("@DATA@");
        out.append(PAGE.substring(0, data).replace("@TITLE@", t));
        writeJson(byLabels, out);
        out.append(PAGE.substring(data + "@DATA@".length()).replace("@TITLE@", t));
    }

    /** The most labels the page's menu offers; the rest are in "all samples" only. */
    public static final int MAX_LABEL_VIEWS = 32;
    /** The menu's entry for samples taken without labels. */
    static final String NO_LABELS = "(no labels)";

    /**
     * The page's views beyond "all samples": per label {@code key=value}, the stacks sampled while
     * it was set (most samples first, at most {@link #MAX_LABEL_VIEWS}), then those sampled without
     * labels. None when no sample had labels.
     */
    static Map<String, Map<List<StackEntry>, Long>> labelViews(Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels) {
        Map<String, Map<List<StackEntry>, Long>> views = new LinkedHashMap<>();
        if (byLabels.keySet().stream().allMatch(Map::isEmpty)) return views;
        Map<String, Map<List<StackEntry>, Long>> byPair = new TreeMap<>();
        Map<String, Long> totals = new HashMap<>();
        byLabels.forEach((labels, stacks) -> {
            long sum = stacks.values().stream().mapToLong(Long::longValue).sum();
            for (Map.Entry<String, String> label : labels.entrySet()) {
                String pair = label.getKey() + "=" + label.getValue();
                Map<List<StackEntry>, Long> view = byPair.computeIfAbsent(pair, k -> new HashMap<>());
                stacks.forEach((stack, count) -> view.merge(stack, count, Long::sum));
                totals.merge(pair, sum, Long::sum);
            }
        });
        byPair.keySet().stream()
                .sorted(Comparator.comparing((String pair) -> totals.get(pair)).reversed())  // stable: ties by name
                .limit(MAX_LABEL_VIEWS)
                .forEach(pair -> views.put(pair, byPair.get(pair)));
        Map<List<StackEntry>, Long> unlabeled = byLabels.get(Map.<String, String>of());
        if (unlabeled != null && !unlabeled.isEmpty()) views.put(NO_LABELS, unlabeled);
        return views;
    }

    // ---- labels

    private static String unknownLabel(String library) {
        String lib = library.substring(library.lastIndexOf('/') + 1).trim();
        if (lib.isEmpty()) return "[unknown]";
        return lib.startsWith("[") && lib.endsWith("]") ? lib : "[" + lib + "]";
    }

    private static String sanitize(String s) {
        if (isClean(s)) return s; // the common case: no copy, no regex
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ';') c = ':';
            else if (Character.isISOControl(c) || Character.isWhitespace(c) || Character.isSpaceChar(c)) c = ' ';
            sb.append(c);
        }
        String out = sb.toString().trim();
        var m = TRAILING_NUMBER.matcher(out);
        if (m.find()) out = out.substring(0, m.start()) + "_" + m.group(1);
        return out;
    }

    private static boolean isClean(String s) {
        int n = s.length();
        if (n == 0 || s.charAt(0) == ' ' || s.charAt(n - 1) == ' ' || Character.isDigit(s.charAt(n - 1))) return false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == ';' || (c > 0x7e && (Character.isISOControl(c) || Character.isWhitespace(c)
                    || Character.isSpaceChar(c)))) return false;
        }
        return true;
    }

    // ---- the merged tree behind the HTML page

    /** Categories, as the page's script and legend number them. */
    static final int JAVA = 0, INLINED = 1, NATIVE = 2, JVM = 3, UNKNOWN = 4;

    static final class Node {
        final String label;
        long total;
        int kinds;          // bit per StackEntry.Kind ordinal seen under this label
        boolean named;      // some entry had a symbol / method name
        String library;     // the smallest seen, so the choice does not depend on map order
        final Map<String, Node> children = new TreeMap<>(); // sorted: left to right by name, like flamegraph.pl

        Node(String label) {
            this.label = label;
        }

        int category() {
            if (!named) return UNKNOWN;
            if ((kinds & bit(StackEntry.Kind.JAVA_INLINED)) != 0) return INLINED;
            int java = bit(StackEntry.Kind.JAVA_COMPILED) | bit(StackEntry.Kind.JAVA_INTERPRETED)
                    | bit(StackEntry.Kind.JAVA_NATIVE);
            if ((kinds & java) != 0) return JAVA;
            if ((kinds & bit(StackEntry.Kind.JVM)) != 0) return JVM;
            return NATIVE;
        }
    }

    private static int bit(StackEntry.Kind k) {
        return 1 << k.ordinal();
    }

    /** Merges the stacks into one tree under a root "all" node. */
    static Node tree(Map<List<StackEntry>, Long> samples) {
        Node root = new Node("all");
        root.named = true;
        root.library = "";
        for (Map.Entry<List<StackEntry>, Long> s : samples.entrySet()) {
            List<StackEntry> stack = s.getKey();
            long count = Objects.requireNonNull(s.getValue(), "count");
            if (stack.isEmpty() || count < 1) continue;
            root.total += count;
            Node node = root;
            for (int i = stack.size() - 1; i >= 0; i--) {
                StackEntry e = stack.get(i);
                node = node.children.computeIfAbsent(label(e), Node::new);
                node.total += count;
                node.kinds |= bit(e.kind());
                node.named |= e.hasName();
                if (node.library == null || e.library().compareTo(node.library) < 0) node.library = e.library();
            }
        }
        return root;
    }

    /**
     * The page's data: {@code {"total":n,"nodes":[...],"views":[{"name":"k=v","total":n,"nodes":[...]},
     * ...],"strings":[...]}}: the tree of all samples, then one per label view ({@link #labelViews}),
     * sharing one table of strings. nodes holds six numbers per node in preorder: name index,
     * library index, category, kind bits, depth, samples. Preorder with depths is enough for the
     * script to rebuild parents and x offsets.
     */
    private static void writeJson(Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels, Appendable out)
            throws IOException {
        Map<List<StackEntry>, Long> all = new HashMap<>();
        byLabels.values().forEach(stacks -> stacks.forEach((stack, count) -> all.merge(stack, count, Long::sum)));
        Map<String, Integer> strings = new LinkedHashMap<>();
        writeTree(tree(all), strings, out.append('{'));
        out.append(",\"views\":[");
        boolean first = true;
        for (Map.Entry<String, Map<List<StackEntry>, Long>> view : labelViews(byLabels).entrySet()) {
            if (!first) out.append(',');
            first = false;
            out.append("{\"name\":");
            jsonString(view.getKey(), out);
            writeTree(tree(view.getValue()), strings, out.append(','));
            out.append('}');
        }
        out.append("],\"strings\":[");
        first = true;
        for (String s : strings.keySet()) {
            if (!first) out.append(',');
            first = false;
            jsonString(s, out);
        }
        out.append("]}");
    }

    /** {@code "total":n,"nodes":[...]} of one tree, adding its names to the shared strings. */
    private static void writeTree(Node root, Map<String, Integer> strings, Appendable out) throws IOException {
        List<long[]> nodes = new ArrayList<>();
        flatten(root, 0, strings, nodes);
        out.append("\"total\":").append(Long.toString(root.total)).append(",\"nodes\":[");
        boolean first = true;
        for (long[] n : nodes) {
            for (long v : n) {
                if (!first) out.append(',');
                first = false;
                out.append(Long.toString(v));
            }
        }
        out.append(']');
    }

    private static void flatten(Node n, int depth, Map<String, Integer> strings, List<long[]> out) {
        // Iterative on an explicit stack: stacks can be deep enough to matter for recursion.
        record Item(Node node, int depth) { }
        ArrayList<Item> todo = new ArrayList<>();
        todo.add(new Item(n, depth));
        while (!todo.isEmpty()) {
            Item it = todo.remove(todo.size() - 1);
            Node x = it.node();
            int name = strings.computeIfAbsent(x.label, k -> strings.size());
            int lib = strings.computeIfAbsent(x.library, k -> strings.size());
            out.add(new long[] {name, lib, x.category(), x.kinds, it.depth(), x.total});
            List<Node> kids = new ArrayList<>(x.children.values());
            for (int i = kids.size() - 1; i >= 0; i--) todo.add(new Item(kids.get(i), it.depth() + 1));
        }
    }

    /**
     * A JSON string that is also safe inside a script element: {@code <}, {@code >} and {@code &}
     * are escaped (so no {@code </script>} or {@code <!--} can appear), and so is everything
     * outside printable ASCII, which keeps lone surrogates and U+2028/U+2029 harmless.
     */
    static void jsonString(String s, Appendable out) throws IOException {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&') {
                out.append(String.format("\\u%04x", (int) c));
            } else out.append(c);
        }
        out.append('"');
    }

    static String escapeHtml(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c < 0x20 ? ' ' : c);
            }
        }
        return sb.toString();
    }

    /** The page (src/main/resources/dev/stacktrace/tools/flamegraph.html): inline CSS, script and a
        data slot; names reach the DOM only as text. */
    private static final String PAGE = loadPage();

    private static String loadPage() {
        try (var in = FlameGraph.class.getResourceAsStream("flamegraph.html")) {
            if (in == null) throw new IllegalStateException("flamegraph.html is missing from the jar");
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
