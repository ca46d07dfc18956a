package dev.stacktrace.agent;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which Host headers the agent answers. A web page can make a browser send requests to 127.0.0.1
 * under the page's own host name (DNS rebinding) and read the answers; refusing names we do not
 * know stops that. Accepted: no Host header, IP literals (a rebinding needs a name), localhost, the
 * configured {@code host}, this machine's names and the {@code allowedHosts} option. No name is
 * looked up in DNS per request.
 */
final class HostCheck {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-fA-F:.]+(%[0-9A-Za-z_.-]+)?]");

    private final Set<String> names = new HashSet<>();

    HostCheck(String host, List<String> allowedHosts, List<String> machineNames) {
        names.add("localhost");
        names.add(host.toLowerCase(Locale.ROOT));
        for (String name : allowedHosts) names.add(name.toLowerCase(Locale.ROOT));
        for (String name : machineNames) names.add(name.toLowerCase(Locale.ROOT));
    }

    boolean accepts(String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) return true;
        String host = hostHeader.strip().toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close > 0 && IPV6.matcher(host.substring(0, close + 1)).matches()
                    && (close == host.length() - 1 || isPort(host.substring(close + 1)));
        }
        int colon = host.lastIndexOf(':');
        if (colon >= 0) {
            if (!isPort(host.substring(colon))) return false;
            host = host.substring(0, colon);
        }
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        return IPV4.matcher(host).matches() || names.contains(host);
    }

    private static boolean isPort(String text) {
        return text.matches(":\\d{1,5}");
    }
}
