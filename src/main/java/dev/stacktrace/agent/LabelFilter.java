package dev.stacktrace.agent;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The label filter of a /flamegraph request: {@code ?label=endpoint=/checkout&label=tenant=acme}. */
final class LabelFilter {
    private LabelFilter() {}

    /** The labels asked for (empty: no filter), or null when a {@code label} parameter is malformed. */
    static Map<String, String> parse(String rawQuery) {
        Map<String, String> filter = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) return filter;
        for (String param : rawQuery.split("&")) {
            int eq = param.indexOf('=');
            if (eq < 0 || !decode(param.substring(0, eq)).equals("label")) continue;
            String label = decode(param.substring(eq + 1));
            int sep = label.indexOf('=');
            if (sep <= 0) return null;
            filter.put(label.substring(0, sep), label.substring(sep + 1));
        }
        return filter;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "";  // a broken %-escape: no valid name or label
        }
    }
}
