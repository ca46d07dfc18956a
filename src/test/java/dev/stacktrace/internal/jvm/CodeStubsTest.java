package dev.stacktrace.internal.jvm;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.Stacktrace;
import dev.stacktrace.internal.binding.LibStacktrace;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Generated code that is no Java method is named as the JVM names it: its stubs, else their CodeBlob. */
class CodeStubsTest {
    @Test
    void everyReportedStubLiesInANamedCodeBlob() {
        Stacktrace.getThreadStack(Thread.currentThread(), 4, true);  // sets the library up
        int count = LibStacktrace.st_code_stub_count();
        assertTrue(count > 20, "the JVM reports its stubs: " + count);
        long[] range = new long[2];
        byte[] name = new byte[256];
        List<String> blobs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = LibStacktrace.st_code_stub(i, range, name, name.length);
            if (n <= 0) continue;
            String stub = new String(name, 0, n, StandardCharsets.UTF_8);
            assertNotNull(CodeStubs.at(range[0]), stub);
            CodeStubs.Stub blob = CodeStubs.blob(range[0]);
            if (blob == null) continue;  // code the JVM keeps outside a blob it names
            assertTrue(blob.address() <= range[0] && range[0] - blob.address() < blob.length(), blob + " holds " + stub);
            assertTrue(!blob.name().isBlank() && blob.name().chars().allMatch(c -> c >= 0x20 && c < 0x7f), blob.name());
            blobs.add(blob.name());
        }
        System.out.println("blobs of the reported stubs: " + new java.util.TreeSet<>(blobs));
        assertTrue(blobs.size() > count / 2, "most stubs lie in a named blob: " + blobs.size() + " of " + count);
        assertNull(CodeStubs.blob(0x1000), "memory outside the code cache is no blob");
    }
}
