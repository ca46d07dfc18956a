package dev.stacktrace.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The answer to a command of the attach CLI, as the agent writes it into the file the CLI made: a
 * first line {@code ok key=value ...} (values are numbers and words without spaces) or
 * {@code error <message>}, then the body (a dump, a status text, a flame graph), if any.
 */
public record AttachReply(String error, Map<String, String> values, String body) {
    public AttachReply {
        values = Map.copyOf(values);
    }

    public static AttachReply ok(Map<String, String> values, String body) {
        return new AttachReply(null, values, body);
    }

    public static AttachReply failed(String message) {
        return new AttachReply(message.lines().findFirst().orElse(message), Map.of(), "");
    }

    public boolean isOk() {
        return error == null;
    }

    public String value(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalStateException("the agent's answer has no " + key + ": " + this);
        return v;
    }

    /**
     * Into the file the CLI made (never one of our own making, and never through a link, so the
     * answer goes only where that user can read it).
     */
    void writeTo(Path file) throws IOException {
        String head = isOk() ? "ok" + values.entrySet().stream().map(e -> " " + e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining()) : "error " + error;
        Files.writeString(file, head + "\n" + body, StandardCharsets.UTF_8, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
    }

    /** What the agent wrote, or null when it wrote nothing. */
    public static AttachReply readFrom(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.isEmpty()) return null;
        int eol = text.indexOf('\n');
        String head = eol < 0 ? text : text.substring(0, eol);
        String body = eol < 0 ? "" : text.substring(eol + 1);
        if (head.startsWith("error ")) return new AttachReply(head.substring("error ".length()), Map.of(), body);
        if (!head.equals("ok") && !head.startsWith("ok ")) return null;
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : head.substring(2).trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) values.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return ok(values, body);
    }
}
