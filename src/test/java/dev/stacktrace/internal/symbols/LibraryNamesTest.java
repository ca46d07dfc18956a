package dev.stacktrace.internal.symbols;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryNamesTest {

    @TempDir
    Path dir;

    /** The names these libraries gave their extracted files here (zstd-jni 1.5.7-28, netty 4.2.18, ...). */
    @Test
    void randomPartsOfExtractedLibrariesAreRemoved() {
        assertEquals("librocksdbjni.so", LibraryNames.stable("librocksdbjni6896714794818434492.so"));
        assertEquals("libsqlitejdbc.so", LibraryNames.stable("sqlite-3.54.1.0-e3ceac36-aa37-41e3-ad4e-4f5ffce702f9-libsqlitejdbc.so"));
        assertEquals("libsnappyjava.so", LibraryNames.stable("snappy-1.1.10-5c058def-1511-458c-b47e-cb54a47aa30f-libsnappyjava.so"));
        assertEquals("libzstd-jni.so", LibraryNames.stable("libzstd-jni-1.5.7-287301744969686553729.so"));
        assertEquals("liblz4-java.so", LibraryNames.stable("liblz4-java-7572665250450827138.so"));
        assertEquals("libnetty_transport_native_epoll_x86_64.so",
                LibraryNames.stable("libnetty_transport_native_epoll_x86_647097482725846685024.so"));
        assertEquals("libnetty_transport_native_epoll_aarch_64.so",
                LibraryNames.stable("libnetty_transport_native_epoll_aarch_6412345678901234567.so"));
        assertEquals("libfoo.so", LibraryNames.stable("libfoo-0b7e4a3c-1d2e-4f50-8a9b-0c1d2e3f4a5b.so"));
    }

    @Test
    void namesFromTheJdksOwnTempFilesAreStable() throws IOException {
        for (int i = 0; i < 20; i++) {
            File f = File.createTempFile("librocksdbjni", ".so", dir.toFile());
            assertEquals("librocksdbjni.so", LibraryNames.stable(f.getName()), f.getName());
            File z = File.createTempFile("libzstd-jni-1.5.7-28", ".so", dir.toFile());
            assertEquals("libzstd-jni.so", LibraryNames.stable(z.getName()), z.getName());
            File n = File.createTempFile("libnetty_transport_native_epoll_x86_64", ".so", dir.toFile());
            assertEquals("libnetty_transport_native_epoll_x86_64.so", LibraryNames.stable(n.getName()), n.getName());
            Files.delete(f.toPath());
            Files.delete(z.toPath());
            Files.delete(n.toPath());
        }
    }

    @Test
    void ordinaryNamesAreLeftAlone() {
        for (String name : new String[] {"libc.so.6", "libz.so.1.2.13", "libjvm.so", "libstdc++.so.6.0.30",
                "libnio.so", "libicudata.so.72", "libpython3.11.so", "ld-linux-x86-64.so.2", "libssl3.so",
                "libLLVM-15.so", "libjnidispatch.so", "[vdso]", "jna8412.tmp"}) {
            assertEquals(name, LibraryNames.stable(name));
        }
    }
}
