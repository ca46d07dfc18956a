package dev.stacktrace.tools;

import dev.stacktrace.testlib.Json;

import dev.stacktrace.StackEntry;
import dev.stacktrace.StackEntry.Kind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlameGraphTest {

    // ---- frames

    private static long nextAddress = 0x7f00_0000_1000L;

    private static StackEntry nat(String name, String lib) {
        return new StackEntry(nextAddress += 0x10, name, "?".equals(name) ? 0 : 0x1c, lib, false);
    }

    private static StackEntry jvm(String name, String lib) {
        return new StackEntry(nextAddress += 0x10, name, "?".equals(name) ? 0 : 0x40, lib, true);
    }

    private static StackEntry java(Kind kind, String cls, String method) {
        return StackEntry.javaFrame(nextAddress += 0x10, kind, cls, method, null, -1);
    }

    /** Innermost first, like the profiler's stacks. */
    private static List<StackEntry> stack(StackEntry... innermostFirst) {
        return List.of(innermostFirst);
    }

    /** A zlib call from compiled Java code: fresh entries each time, so equal stacks are distinct objects. */
    private static List<StackEntry> deflateStack() {
        return stack(
                nat("deflate", "libz.so.1"),
                nat("Java_java_util_zip_Deflater_deflateBytesBytes", "libzip.so"),
                java(Kind.JAVA_NATIVE, "java.util.zip.Deflater", "deflateBytesBytes"),
                java(Kind.JAVA_INLINED, "java.util.zip.Deflater", "deflate"),
                java(Kind.JAVA_COMPILED, "app.Main", "compress"),
                java(Kind.JAVA_INTERPRETED, "app.Main", "main"),
                nat("JavaMain", "libjli.so"),
                nat("start_thread", "libc.so.6"));
    }

    private static Map<List<StackEntry>, Long> profile() {
        Map<List<StackEntry>, Long> p = new LinkedHashMap<>();
        p.put(deflateStack(), 5L);
        p.put(deflateStack(), 3L); // same labels, other addresses: must merge into 8
        p.put(stack(
                nat("?", "libfoo.so"),
                jvm("?", "[jit]"),
                jvm("JavaThread::run()", "libjvm.so"),
                jvm("thread_native_entry(Thread*)", "libjvm.so"),
                nat("start_thread", "libc.so.6")), 2L);
        p.put(stack(
                nat("weird;name\nwith\rbreaks", "libw.so"),
                nat("start_thread", "libc.so.6")), 1L);
        p.put(stack(nat("never_sampled", "libc.so.6")), 0L); // left out
        p.put(List.of(), 4L);                                    // no frames: left out
        return p;
    }

    // ---- collapsed

    @Test
    void collapsedIsRootFirstMergedSortedAndAnnotated() {
        String expected = ""
                + "start_thread;JavaMain;app.Main.main_[j];app.Main.compress_[j];java.util.zip.Deflater.deflate_[i];"
                + "java.util.zip.Deflater.deflateBytesBytes_[j];Java_java_util_zip_Deflater_deflateBytesBytes;deflate 8\n"
                + "start_thread;thread_native_entry(Thread*);JavaThread::run();[jit];[libfoo.so] 2\n"
                + "start_thread;weird:name with breaks 1\n";
        assertEquals(expected, FlameGraph.collapsed(profile()));
    }

    @Test
    void linesAreSortedWhateverTheMapOrder() {
        Map<List<StackEntry>, Long> p = new HashMap<>();
        for (String name : List.of("zeta", "alpha", "mid", "beta")) {
            p.put(stack(nat(name, "libx.so"), nat("main", "app")), 1L);
        }
        assertEquals("main;alpha 1\nmain;beta 1\nmain;mid 1\nmain;zeta 1\n", FlameGraph.collapsed(p));
    }

    @Test
    void writeCollapsedEqualsCollapsed() throws Exception {
        StringBuilder sb = new StringBuilder();
        FlameGraph.writeCollapsed(profile(), sb);
        assertEquals(FlameGraph.collapsed(profile()), sb.toString());
        assertEquals("", FlameGraph.collapsed(Map.of()));
    }

    @Test
    void labels() {
        assertEquals("app.Main.run_[j]", FlameGraph.label(java(Kind.JAVA_COMPILED, "app.Main", "run")));
        assertEquals("app.Main.run_[j]", FlameGraph.label(java(Kind.JAVA_INTERPRETED, "app.Main", "run")));
        assertEquals("app.Main.run_[j]", FlameGraph.label(java(Kind.JAVA_NATIVE, "app.Main", "run")));
        assertEquals("app.Main.run_[i]", FlameGraph.label(java(Kind.JAVA_INLINED, "app.Main", "run")));
        assertEquals("__GI___poll", FlameGraph.label(nat("__GI___poll", "libc.so.6")));
        assertEquals("G1YoungCollector::collect()", FlameGraph.label(jvm("G1YoungCollector::collect()", "libjvm.so")));
        // Unknown symbols: their library, bracketed once, without a directory.
        assertEquals("[libfoo.so]", FlameGraph.label(nat("?", "libfoo.so")));
        assertEquals("[libbar.so]", FlameGraph.label(nat("?", "/opt/x/libbar.so")));
        assertEquals("[jit]", FlameGraph.label(jvm("?", "[jit]")));
        assertEquals("[unknown]", FlameGraph.label(nat("?", "[unknown]")));
        assertEquals("[unknown]", FlameGraph.label(nat("?", "")));
        assertEquals("[libq.so]", FlameGraph.label(nat(" \t", "libq.so"))); // blank name
    }

    @Test
    void labelsAreSanitized() {
        assertEquals("a:b:c", FlameGraph.label(nat("a;b;c", "l")));
        assertEquals("line one line two", FlameGraph.label(nat("line one\nline two", "l")));
        assertEquals("tab x", FlameGraph.label(nat("tab\tx\u0000", "l")));
        assertEquals("nbsp x", FlameGraph.label(nat("nbsp\u00a0x", "l")));
        assertEquals("foo(int, int)", FlameGraph.label(nat("foo(int, int)", "l")));       // inner spaces stay
        assertEquals("operator new_2", FlameGraph.label(nat("operator new 2", "l")));      // no trailing " 2"
        assertEquals("f_1.5", FlameGraph.label(nat("f 1.5", "l")));
        assertEquals("f(int) const", FlameGraph.label(nat("  f(int) const  ", "l")));
    }

    /**
     * Every line parses under flamegraph.pl's rules (its line regex; the stack part must not look
     * like a differential second column) and speedscope's, giving back the intended frames.
     */
    @Test
    void linesParseLikeFlamegraphPlAndSpeedscope() {
        Pattern perl = Pattern.compile("^(.*)\\s+?(\\d+(?:\\.\\d*)?)$", Pattern.UNICODE_CHARACTER_CLASS);
        Pattern speedscope = Pattern.compile("^(.*) (\\d+)$");
        Map<List<StackEntry>, Long> p = profile();
        p.put(stack(nat("operator new 2", "l"), nat("foo(int, int)", "l"), nat("main", "app")), 7L);
        String out = FlameGraph.collapsed(p);
        assertTrue(out.endsWith("\n"));
        int lines = 0;
        long sum = 0;
        for (String line : out.split("\n")) {
            lines++;
            Matcher m = perl.matcher(line);
            assertTrue(m.matches(), line);
            assertFalse(perl.matcher(m.group(1)).matches(), "read as a differential line: " + line);
            Matcher s = speedscope.matcher(line);
            assertTrue(s.matches(), line);
            assertEquals(m.group(1), s.group(1));
            for (String frame : m.group(1).split(";", -1)) {
                assertFalse(frame.isEmpty(), line);
                assertEquals(frame.strip(), frame, line);
            }
            sum += Long.parseLong(m.group(2));
        }
        assertEquals(4, lines);
        assertEquals(8 + 2 + 1 + 7, sum);
        assertTrue(out.contains("main;foo(int, int);operator new_2 7\n"), out);
    }

    // ---- HTML

    @Test
    void htmlEmbedsEveryFrameAndTheTotal() {
        Map<List<StackEntry>, Long> p = profile();
        String html = FlameGraph.html(p, "CPU profile");
        Map<String, Object> data = data(html);
        assertEquals(11L, data.get("total"));
        List<Object> strings = list(data.get("strings"));
        for (List<StackEntry> s : p.keySet()) {
            for (StackEntry e : s) {
                if (p.get(s) > 0) assertTrue(strings.contains(FlameGraph.label(e)), FlameGraph.label(e));
            }
        }
        assertFalse(strings.contains("never_sampled"));
        assertTrue(html.contains("<title>CPU profile</title>"));

        // Six numbers per node, preorder: the root holds the total, children never exceed parents,
        // and the leaves' samples add up to the total.
        List<Object> nodes = list(data.get("nodes"));
        assertEquals(0, nodes.size() % 6);
        int n = nodes.size() / 6;
        long[] val = new long[n];
        int[] depth = new int[n];
        for (int i = 0; i < n; i++) {
            depth[i] = (int) (long) (Long) nodes.get(6 * i + 4);
            val[i] = (Long) nodes.get(6 * i + 5);
        }
        assertEquals(0, depth[0]);
        assertEquals(11L, val[0]);
        assertEquals("all", strings.get((int) (long) (Long) nodes.get(0)));
        long leaves = 0;
        for (int i = 1; i < n; i++) {
            assertTrue(depth[i] >= 1 && depth[i] <= depth[i - 1] + 1, "preorder depth at " + i);
            boolean leaf = i + 1 == n || depth[i + 1] <= depth[i];
            if (leaf) leaves += val[i];
        }
        assertEquals(11L, leaves);
        // The merged tree: start_thread once under the root, holding everything.
        assertEquals(1, depth[1]);
        assertEquals(11L, val[1]);
        assertEquals("start_thread", strings.get((int) (long) (Long) nodes.get(6)));
        // Categories as the legend numbers them: the deflate stack's compiled frame is Java (0),
        // the inlined one aqua (1), libjvm JVM (3), the unknown library frame grey (4).
        assertEquals(0L, category(strings, nodes, "app.Main.compress_[j]"));
        assertEquals(1L, category(strings, nodes, "java.util.zip.Deflater.deflate_[i]"));
        assertEquals(2L, category(strings, nodes, "deflate"));
        assertEquals(3L, category(strings, nodes, "JavaThread::run()"));
        assertEquals(4L, category(strings, nodes, "[libfoo.so]"));
    }

    @Test
    void htmlNeedsNoNetwork() {
        String html = FlameGraph.html(profile(), "t").toLowerCase();
        for (String bad : List.of("http://", "https://", "//cdn", "<script src", "<link", "@import", "url(")) {
            assertFalse(html.contains(bad), bad);
        }
        assertEquals(2, count(html, "<script"));
        assertTrue(html.contains("<canvas"));
    }

    @Test
    void hostileNamesCannotEscapeTheScript() {
        String hostile = "</script><script>alert(1)</script>";
        Map<List<StackEntry>, Long> p = profile();
        p.put(stack(nat(hostile, "libevil.so"), nat("<!--", "l"), nat("main", "app")), 3L);
        String html = FlameGraph.html(p, "<b>" + hostile);
        assertEquals(2, count(html.toLowerCase(), "<script"), "a frame name opened a script element");
        assertFalse(html.contains("alert(1)</script>"));
        assertFalse(html.contains("<b>"));
        assertTrue(html.contains("<title>&lt;b&gt;&lt;/script&gt;"));
        // The data element holds no markup at all, and still carries the exact name.
        String json = rawJson(html);
        assertFalse(json.contains("<") || json.contains(">"), json);
        List<Object> strings = list(data(html).get("strings"));
        assertTrue(strings.contains(hostile));
        assertTrue(strings.contains("<!--"));
    }

    @Test
    void nonAsciiRoundTripsThroughEscapedJson() {
        String name = "Grüße::naïve(ä, 𝄞) \"q\" \\";
        String html = FlameGraph.html(Map.of(stack(nat(name, "libü.so"), nat("main", "app")), 1L), "x");
        String json = rawJson(html);
        for (char c : json.toCharArray()) assertTrue(c >= 0x20 && c < 0x7f, "raw char " + (int) c);
        List<Object> strings = list(data(html).get("strings"));
        assertTrue(strings.contains(name));
        assertTrue(strings.contains("libü.so"));
        // U+2028 is a line separator: a label never carries it, the JSON would escape it anyway.
        assertEquals("a b", FlameGraph.label(nat("a\u2028b", "l")));
    }

    @Test
    void tenThousandStacksStayCompact() {
        Map<List<StackEntry>, Long> p = new HashMap<>();
        StackEntry root = nat("start_thread", "libc.so.6");
        for (int i = 0; i < 10_000; i++) {
            List<StackEntry> s = new ArrayList<>();
            s.add(nat("leaf" + i, "libx.so"));
            for (int d = 0; d < 30; d++) s.add(java(Kind.JAVA_COMPILED, "pkg.Class" + (i % (d + 2)), "m" + d));
            s.add(root);
            p.put(s, 1L + i % 7);
        }
        String html = FlameGraph.html(p, "big");
        Map<String, Object> data = data(html);
        assertEquals(p.values().stream().mapToLong(Long::longValue).sum(), data.get("total"));
        assertTrue(html.length() < 6_000_000, "html is " + html.length() + " chars");
        assertEquals(10_000, FlameGraph.collapsed(p).split("\n").length);
    }

    @Test
    void deepStacksDoNotOverflow() {
        List<StackEntry> s = new ArrayList<>();
        for (int d = 0; d < 20_000; d++) s.add(nat("f" + d, "libdeep.so"));
        String html = FlameGraph.html(Map.of(s, 2L), "deep");
        assertEquals(20_001 * 6, list(data(html).get("nodes")).size());
        assertTrue(FlameGraph.collapsed(Map.of(s, 2L)).startsWith("f19999;f19998;"));
    }

    @Test
    void aLabeledProfileHasAViewPerLabelAndOneWithoutLabels() {
        Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels = new LinkedHashMap<>();
        byLabels.put(Map.of("endpoint", "/checkout", "tenant", "acme"), Map.of(deflateStack(), 5L));
        byLabels.put(Map.of("endpoint", "/search"), Map.of(deflateStack(), 2L,
                stack(nat("memcpy", "libc.so.6"), nat("start_thread", "libc.so.6")), 1L));
        byLabels.put(Map.of(), Map.of(stack(nat("poll", "libc.so.6"), nat("start_thread", "libc.so.6")), 4L));
        Map<String, Object> data = data(FlameGraph.labeledHtml(byLabels, "labeled"));
        assertEquals(12L, data.get("total"));
        Map<String, Long> totals = new LinkedHashMap<>();
        List<Object> strings = list(data.get("strings"));
        for (Object v : list(data.get("views"))) {
            Map<String, Object> view = Json.object(v);
            totals.put((String) view.get("name"), (Long) view.get("total"));
            // each view is a whole tree: its root holds its total
            assertEquals("all", strings.get((int) (long) (Long) list(view.get("nodes")).get(0)));
            assertEquals(view.get("total"), list(view.get("nodes")).get(5));
        }
        // most samples first; a sample with two labels is in both views
        assertEquals(List.of("endpoint=/checkout", "tenant=acme", "endpoint=/search", "(no labels)"), List.copyOf(totals.keySet()));
        assertEquals(List.of(5L, 5L, 3L, 4L), List.copyOf(totals.values()));
        // memcpy was sampled only under /search, poll only without labels
        List<Object> search = list(Json.object(list(data.get("views")).get(2)).get("nodes"));
        java.util.Set<Object> names = new java.util.HashSet<>();
        for (int i = 0; i < search.size(); i += 6) names.add(strings.get((int) (long) (Long) search.get(i)));
        assertTrue(names.contains("memcpy"), names.toString());
        assertFalse(names.contains("poll"), names.toString());
    }

    @Test
    void aProfileWithoutLabelsHasNoViews() {
        Map<String, Object> data = data(FlameGraph.labeledHtml(Map.of(Map.of(), profile()), "plain"));
        assertEquals(List.of(), data.get("views"));
        assertEquals(data(FlameGraph.html(profile(), "plain")).get("total"), data.get("total"));
    }

    @Test
    void theMenuOffersAtMostMaxLabelViews() {
        Map<Map<String, String>, Map<List<StackEntry>, Long>> byLabels = new LinkedHashMap<>();
        for (int i = 0; i < FlameGraph.MAX_LABEL_VIEWS + 10; i++) byLabels.put(Map.of("tenant", "t" + i), Map.of(deflateStack(), 1L + i));
        List<Object> views = list(data(FlameGraph.labeledHtml(byLabels, "many")).get("views"));
        assertEquals(FlameGraph.MAX_LABEL_VIEWS, views.size());
        assertEquals("tenant=t" + (FlameGraph.MAX_LABEL_VIEWS + 9), Json.object(views.get(0)).get("name"));
    }

    // ---- helpers

    private static long category(List<Object> strings, List<Object> nodes, String label) {
        int idx = strings.indexOf(label);
        assertTrue(idx >= 0, label);
        for (int i = 0; i < nodes.size(); i += 6) {
            if ((Long) nodes.get(i) == idx) return (Long) nodes.get(i + 2);
        }
        throw new AssertionError("no node " + label);
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }

    private static String rawJson(String html) {
        String open = "<script type=\"application/json\" id=\"fg-data\">";
        int a = html.indexOf(open);
        assertTrue(a >= 0, "no data element");
        int b = html.indexOf("</script>", a);
        return html.substring(a + open.length(), b);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(String html) {
        return Json.object(Json.parse(rawJson(html)));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    /** A small strict JSON parser (objects, arrays, strings, integers, true/false/null): enough to check the page's data. */
}
