package dev.stacktrace.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The one user allowed in by HTTP basic auth, read from the agent's {@code authFile}: a line
 * {@code user:password}, or {@code user:sha256:<64 hex digits>} (the SHA-256 of the password's UTF-8
 * bytes, e.g. {@code printf %s 'secret' | sha256sum}) so that the file need not hold the password itself.
 * A file that every user may read is refused: it would hand the password to all of them.
 */
final class Credentials {
    private static final String SHA256 = "sha256:";

    private final String user;
    private final byte[] passwordHash;

    private Credentials(String user, byte[] passwordHash) {
        this.user = user;
        this.passwordHash = passwordHash;
    }

    static Credentials read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("authFile " + file + " is not a readable file");
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("authFile " + file + " may be read by every user of this machine; "
                        + "make it private first: chmod 600 " + file);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (lines.size() != 1) {
            throw new IllegalArgumentException("authFile " + file + " must hold one line user:password or "
                    + "user:sha256:<hex>, not " + lines.size() + " lines");
        }
        String line = lines.get(0);
        int colon = line.indexOf(':');
        if (colon <= 0 || colon == line.length() - 1) {
            throw new IllegalArgumentException("authFile " + file + " must hold user:password or user:sha256:<hex>");
        }
        String user = line.substring(0, colon);
        String secret = line.substring(colon + 1);
        if (secret.startsWith(SHA256)) {
            String hex = secret.substring(SHA256.length());
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("authFile " + file + ": after sha256: come 64 hex digits, the SHA-256 "
                        + "of the password (printf %s 'password' | sha256sum)");
            }
            return new Credentials(user, HexFormat.of().parseHex(hex));
        }
        return new Credentials(user, sha256(secret));
    }

    String user() {
        return user;
    }

    /** Compares in constant time, so the answer's timing does not leak how much of the password was right. */
    boolean matches(String user, String password) {
        boolean userOk = MessageDigest.isEqual(sha256(this.user), sha256(user));
        boolean passwordOk = MessageDigest.isEqual(passwordHash, sha256(password));
        return userOk & passwordOk;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
