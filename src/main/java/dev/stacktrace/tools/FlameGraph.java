package dev.stacktrace.tools;

import dev.stacktrace.StackEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
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
 * half a pixel are not drawn.
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
        String t = escapeHtml(title == null ? "Flame graph" : title);
        int data = PAGE.indexOf("@DATA@");
        out.append(PAGE.substring(0, data).replace("@TITLE@", t));
        writeJson(tree(samples), out);
        out.append(PAGE.substring(data + "@DATA@".length()).replace("@TITLE@", t));
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
     * The page's data: {@code {"total":n,"strings":[...],"nodes":[...]}}, where nodes holds six
     * numbers per node in preorder: name index, library index, category, kind bits, depth, samples.
     * Preorder with depths is enough for the script to rebuild parents and x offsets.
     */
    private static void writeJson(Node root, Appendable out) throws IOException {
        Map<String, Integer> strings = new LinkedHashMap<>();
        List<long[]> nodes = new ArrayList<>();
        flatten(root, 0, strings, nodes);
        out.append("{\"total\":").append(Long.toString(root.total)).append(",\"strings\":[");
        boolean first = true;
        for (String s : strings.keySet()) {
            if (!first) out.append(',');
            first = false;
            jsonString(s, out);
        }
        out.append("],\"nodes\":[");
        first = true;
        for (long[] n : nodes) {
            for (long v : n) {
                if (!first) out.append(',');
                first = false;
                out.append(Long.toString(v));
            }
        }
        out.append("]}");
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

    // ---- the page: everything inline, no external references; names reach the DOM only as text

    private static final String PAGE = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>@TITLE@</title>
            <style>
            body { margin: 0; font: 13px system-ui, sans-serif; color: #222; background: #f8f8f4; }
            header { padding: 8px 12px 4px; }
            h1 { font-size: 17px; margin: 0 0 6px; }
            .bar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
            #search { width: 260px; padding: 3px 6px; font: inherit; }
            button { font: inherit; padding: 2px 10px; cursor: pointer; }
            button:disabled { cursor: default; opacity: .45; }
            #matched { color: #a0a; font-weight: 600; min-width: 17em; }
            .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; }
            .legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
            #details { padding: 4px 12px; height: 18px; color: #444; white-space: nowrap; overflow: hidden;
                       text-overflow: ellipsis; font-family: ui-monospace, Menlo, Consolas, monospace; }
            #chart { padding: 0 12px 12px; }
            canvas { display: block; width: 100%; cursor: pointer; }
            #tip { position: fixed; display: none; pointer-events: none; background: #fffff2;
                   border: 1px solid #999; box-shadow: 2px 2px 6px rgba(0,0,0,.25); padding: 5px 8px;
                   max-width: 640px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
            #tip div:first-child { font-weight: 600; word-break: break-all; }
            </style>
            </head>
            <body>
            <header>
            <h1>@TITLE@</h1>
            <div class="bar">
              <input id="search" type="search" placeholder="Search (regex), Ctrl+F" autocomplete="off">
              <button id="reset" disabled>Reset zoom</button>
              <span id="matched"></span>
              <span class="legend">
                <span><i style="background:hsl(120,55%,50%)"></i>Java</span>
                <span><i style="background:hsl(182,55%,50%)"></i>Java inlined</span>
                <span><i style="background:hsl(38,85%,55%)"></i>native</span>
                <span><i style="background:hsl(4,75%,60%)"></i>JVM</span>
                <span><i style="background:hsl(0,0%,74%)"></i>no symbol</span>
              </span>
            </div>
            </header>
            <div id="details">&nbsp;</div>
            <div id="chart"><canvas id="fg"></canvas></div>
            <div id="tip"></div>
            <script type="application/json" id="fg-data">@DATA@</script>
            <script>
            "use strict";
            (function () {
              const DATA = JSON.parse(document.getElementById("fg-data").textContent);
              const S = DATA.strings, A = DATA.nodes, N = A.length / 6, TOTAL = DATA.total;
              const ROW = 17, MIN_WIDTH = 0.5, FONT = "11px ui-monospace, Menlo, Consolas, monospace";
              const KINDS = ["native", "JVM", "interpreted", "compiled", "inlined", "native method"];
              const CATS = ["Java", "Java inlined", "native", "JVM", "no symbol"];

              // Per node: name, library, category, kinds, depth, samples (preorder); then parent,
              // x offset in samples, end of subtree (exclusive) and self samples.
              const NAME = new Int32Array(N), LIB = new Int32Array(N), CAT = new Int8Array(N),
                    KIND = new Int32Array(N), DEPTH = new Int32Array(N), VAL = new Float64Array(N),
                    PARENT = new Int32Array(N), X = new Float64Array(N), END = new Int32Array(N),
                    SELF = new Float64Array(N), NEXT = new Float64Array(N);
              let maxDepth = 0;
              const path = [];
              for (let i = 0; i < N; i++) {
                NAME[i] = A[6*i]; LIB[i] = A[6*i+1]; CAT[i] = A[6*i+2]; KIND[i] = A[6*i+3];
                DEPTH[i] = A[6*i+4]; VAL[i] = A[6*i+5]; SELF[i] = VAL[i];
                const d = DEPTH[i];
                while (path.length > d) END[path.pop()] = i;
                const p = d > 0 ? path[d - 1] : -1;
                PARENT[i] = p;
                if (p >= 0) { X[i] = NEXT[p]; NEXT[p] += VAL[i]; SELF[p] -= VAL[i]; }
                NEXT[i] = X[i];
                path.push(i);
                if (d > maxDepth) maxDepth = d;
              }
              while (path.length) END[path.pop()] = N;

              // Colour: a hue band per category, the shade from a hash of the name so that the
              // same function gets the same colour in every graph.
              function hash(s) {
                let h = 2166136261;
                for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
                return ((h >>> 0) % 1000) / 1000;
              }
              const COLOR = new Array(N);
              for (let i = 0; i < N; i++) {
                const v = hash(S[NAME[i]]);
                switch (CAT[i]) {
                  case 0: COLOR[i] = "hsl(" + (105 + 30*v) + ",55%," + (44 + 16*v) + "%)"; break;
                  case 1: COLOR[i] = "hsl(" + (175 + 15*v) + ",55%," + (46 + 14*v) + "%)"; break;
                  case 2: COLOR[i] = "hsl(" + (28 + 27*v) + ",85%," + (52 + 10*v) + "%)"; break;
                  case 3: COLOR[i] = "hsl(" + (0 + 10*v) + ",75%," + (58 + 10*v) + "%)"; break;
                  default: COLOR[i] = "hsl(0,0%," + (70 + 10*v) + "%)";
                }
              }
              COLOR[0] = "hsl(0,0%,82%)";

              const canvas = document.getElementById("fg"), ctx = canvas.getContext("2d");
              const tip = document.getElementById("tip"), details = document.getElementById("details");
              const resetButton = document.getElementById("reset"), searchBox = document.getElementById("search");
              const matchedText = document.getElementById("matched");
              const fmt = n => n.toLocaleString("en-US");
              const pct = (a, b) => (b > 0 ? 100 * a / b : 0).toFixed(2) + "%";
              // The details line shows the hovered frame, else this summary.
              const SUMMARY = fmt(TOTAL) + " samples, " + fmt(N - 1) + " frames, depth " + maxDepth +
                              ". Click a frame to zoom, Esc to reset.";
              details.textContent = SUMMARY;

              let focus = 0, matched = null, drawn = [], width = 0, height = 0;

              // As tall as the deepest frame wide enough to draw, like flamegraph.pl's pruning.
              function visibleDepth(w) {
                const scale = w / VAL[focus];
                let depth = DEPTH[focus];
                for (let i = focus; i < END[focus]; ) {
                  if (VAL[i] * scale < MIN_WIDTH) { i = END[i]; continue; }
                  if (DEPTH[i] > depth) depth = DEPTH[i];
                  i++;
                }
                return depth;
              }

              function render() {
                height = (visibleDepth(canvas.clientWidth) + 1) * ROW;
                canvas.style.height = height + "px";
                width = canvas.clientWidth; // again: a scrollbar may have come or gone
                const x0 = X[focus], scale = width / VAL[focus];
                const dpr = window.devicePixelRatio || 1;
                canvas.width = Math.round(width * dpr);
                canvas.height = Math.round(height * dpr);
                ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
                ctx.clearRect(0, 0, width, height);
                ctx.font = FONT;
                ctx.textBaseline = "middle";
                const charWidth = ctx.measureText("m").width;
                drawn = [];
                for (let d = 0; d <= maxDepth; d++) drawn.push([]);
                // Ancestors of the zoomed frame span the whole width, faded.
                for (let a = PARENT[focus]; a >= 0; a = PARENT[a]) box(a, 0, width, true, charWidth);
                // The zoomed frame's subtree; a frame too narrow to draw hides its children too.
                for (let i = focus; i < END[focus]; ) {
                  const w = VAL[i] * scale;
                  if (w < MIN_WIDTH) { i = END[i]; continue; }
                  box(i, (X[i] - x0) * scale, w, false, charWidth);
                  i++;
                }
              }

              function box(i, x, w, faded, charWidth) {
                const y = height - (DEPTH[i] + 1) * ROW;
                ctx.globalAlpha = faded ? 0.5 : 1;
                ctx.fillStyle = matched && matched[i] ? "rgb(230,0,230)" : COLOR[i];
                ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW - 1);
                const room = Math.floor((w - 6) / charWidth);
                if (room >= 3) {
                  const name = S[NAME[i]];
                  ctx.fillStyle = "#000";
                  ctx.fillText(name.length <= room ? name : name.slice(0, room - 2) + "..", x + 3, y + ROW / 2);
                }
                ctx.globalAlpha = 1;
                drawn[DEPTH[i]].push(i, x, w);
              }

              function hit(ev) {
                const r = canvas.getBoundingClientRect();
                const mx = ev.clientX - r.left, d = Math.floor((height - (ev.clientY - r.top)) / ROW);
                if (d < 0 || d > maxDepth) return -1;
                const row = drawn[d];
                for (let k = 0; k < row.length; k += 3) {
                  if (mx >= row[k + 1] && mx < row[k + 1] + row[k + 2]) return row[k];
                }
                return -1;
              }

              function describe(i) {
                const lines = [S[NAME[i]]];
                if (i > 0) {
                  const kinds = KINDS.filter((k, b) => KIND[i] & (1 << b));
                  lines.push(CATS[CAT[i]] + " (" + kinds.join(", ") + ")" +
                             (S[LIB[i]] && S[LIB[i]] !== "[java]" ? " in " + S[LIB[i]] : ""));
                }
                lines.push(fmt(VAL[i]) + " samples, " + pct(VAL[i], TOTAL) + " of all" +
                           (focus > 0 && i >= focus && i < END[focus] ? ", " + pct(VAL[i], VAL[focus]) + " of zoomed" : ""));
                lines.push("self: " + fmt(SELF[i]) + " samples, " + pct(SELF[i], TOTAL));
                return lines;
              }

              canvas.addEventListener("mousemove", ev => {
                const i = hit(ev);
                if (i < 0) { tip.style.display = "none"; details.textContent = SUMMARY; return; }
                const lines = describe(i);
                details.textContent = lines[0] + "  (" + fmt(VAL[i]) + " samples, " + pct(VAL[i], TOTAL) + ")";
                tip.replaceChildren(...lines.map(t => { const e = document.createElement("div"); e.textContent = t; return e; }));
                tip.style.display = "block";
                const tw = tip.offsetWidth, th = tip.offsetHeight;
                tip.style.left = Math.max(0, Math.min(ev.clientX + 14, window.innerWidth - tw - 4)) + "px";
                tip.style.top = (ev.clientY + 18 + th > window.innerHeight ? ev.clientY - th - 8 : ev.clientY + 18) + "px";
              });
              canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; details.textContent = SUMMARY; });
              canvas.addEventListener("click", ev => {
                const i = hit(ev);
                if (i >= 0) zoom(i);
              });

              function zoom(i) {
                focus = i;
                resetButton.disabled = i === 0;
                render();
              }
              resetButton.addEventListener("click", () => zoom(0));

              function search(term) {
                if (!term) { matched = null; matchedText.textContent = ""; render(); return; }
                let re = null;
                try { re = new RegExp(term); } catch (e) { re = null; }
                matched = new Uint8Array(N);
                for (let i = 1; i < N; i++) {
                  const name = S[NAME[i]];
                  matched[i] = re ? re.test(name) : name.includes(term);
                }
                // Count each sample once: a match inside a matched frame adds nothing.
                let sum = 0;
                for (let i = 1; i < N; ) {
                  if (matched[i]) { sum += VAL[i]; i = END[i]; } else i++;
                }
                matchedText.textContent = "Matched: " + pct(sum, TOTAL) + " (" + fmt(sum) + " samples)";
                render();
              }
              let pending = 0;
              searchBox.addEventListener("input", () => {
                clearTimeout(pending);
                pending = setTimeout(() => search(searchBox.value), 150);
              });
              window.addEventListener("keydown", ev => {
                if ((ev.ctrlKey || ev.metaKey) && ev.key === "f") { ev.preventDefault(); searchBox.focus(); searchBox.select(); }
                else if (ev.key === "Escape") { if (document.activeElement === searchBox) { searchBox.value = ""; search(""); } else zoom(0); }
              });
              window.addEventListener("resize", render);
              render();
            })();
            </script>
            </body>
            </html>
            """;
}
