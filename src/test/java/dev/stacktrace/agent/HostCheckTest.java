package dev.stacktrace.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HostCheckTest {
    private final HostCheck check = new HostCheck("127.0.0.1", List.of("stacks.example.org"), List.of("build-7"));

    @Test
    void acceptsAddressesLocalhostAndConfiguredNames() {
        for (String host : List.of("127.0.0.1:9464", "127.0.0.1", "10.1.2.3:80", "localhost:9464", "LOCALHOST",
                "localhost.", "[::1]:9464", "[::1]", "[fe80::1%eth0]:9464", "stacks.example.org:443", "build-7:9464")) {
            assertTrue(check.accepts(host), host);
        }
        assertTrue(check.accepts(null), "HTTP/1.0 without Host");
    }

    @Test
    void refusesOtherNames() {
        for (String host : List.of("attacker.example", "attacker.example:9464", "localhost.attacker.example",
                "127.0.0.1.attacker.example", "stacks.example.org.evil", "localhost:94x", "[::1]x", "[::1]:",
                "build-7.other:9464", "evil@127.0.0.1")) {
            assertFalse(check.accepts(host), host);
        }
    }

    @Test
    void theConfiguredHostIsAccepted() {
        assertTrue(new HostCheck("myhost.internal", List.of(), List.of()).accepts("myhost.internal:9464"));
        assertFalse(new HostCheck("127.0.0.1", List.of(), List.of()).accepts("myhost.internal:9464"));
    }
}
