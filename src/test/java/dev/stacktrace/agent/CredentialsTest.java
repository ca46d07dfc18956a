package dev.stacktrace.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {
    @TempDir
    Path dir;

    private Path file(String content, String permissions) throws Exception {
        Path f = Files.createTempFile(dir, "auth", "");
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(permissions));
        return f;
    }

    @Test
    void plainPassword() throws Exception {
        Credentials c = Credentials.read(file("ops:pa:ss word\n", "rw-------"));
        assertTrue(c.matches("ops", "pa:ss word"));
        assertFalse(c.matches("ops", "pa:ss"));
        assertFalse(c.matches("other", "pa:ss word"));
    }

    @Test
    void hashedPasswordWithComments() throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("secret".getBytes(StandardCharsets.UTF_8)));
        Credentials c = Credentials.read(file("# scrape user\n\nprom:sha256:" + hex.toUpperCase() + "\n", "rw-r-----"));
        assertTrue(c.matches("prom", "secret"));
        assertFalse(c.matches("prom", "sha256:" + hex));
    }

    @Test
    void refusesWhatWouldGoWrong() throws Exception {
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
                () -> Credentials.read(file("ops:secret\n", "rw-r--r--")));
        assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Credentials.read(file("ops:secret\nother:x\n", "rw-------")));
        assertThrows(IllegalArgumentException.class, () -> Credentials.read(file("justapassword\n", "rw-------")));
        assertThrows(IllegalArgumentException.class, () -> Credentials.read(file("ops:\n", "rw-------")));
        assertThrows(IllegalArgumentException.class, () -> Credentials.read(file("ops:sha256:abc\n", "rw-------")));
        assertThrows(IllegalArgumentException.class, () -> Credentials.read(dir.resolve("missing")));
    }
}
