package dev.stacktrace.internal.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The layout handed to the native walker describes the loaded libjvm, not other mappings of its file. */
class HotSpotLayoutTest {

    @Test
    void libjvmsRangeIsTheLoadersMappingsOnly() throws Exception {
        Path libjvm = VMStructs.libjvmPath().orElseThrow();
        try (FileChannel file = FileChannel.open(libjvm, StandardOpenOption.READ)) {
            // as the symbolizer maps libjvm's string tables: shared, and anywhere in the address space
            MappedByteBuffer mapped = file.map(FileChannel.MapMode.READ_ONLY, 0, 64 * 1024);
            List<long[]> loader = new ArrayList<>();
            List<long[]> shared = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (!line.endsWith(libjvm.toString())) continue;
                String[] f = line.split("\\s+");
                String[] range = f[0].split("-");
                long[] r = {Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16)};
                (f[1].charAt(3) == 's' ? shared : loader).add(r);
            }
            assertTrue(!shared.isEmpty() && !loader.isEmpty(), "a shared mapping of libjvm's file beside the loader's");

            long[] layout = HotSpotLayout.build();
            long low = layout[HotSpotLayout.Key.JVM_TEXT_LOW.ordinal()];
            long high = layout[HotSpotLayout.Key.JVM_TEXT_HIGH.ordinal()];
            assertEquals(loader.stream().mapToLong(r -> r[0]).min().orElseThrow(), low);
            assertEquals(loader.stream().mapToLong(r -> r[1]).max().orElseThrow(), high);
            for (long[] r : shared) {
                assertTrue(r[1] <= low || r[0] >= high, "a shared mapping inside libjvm's range");
            }
            assertEquals(0x7f, mapped.get(0), "libjvm's ELF header, mapped until the layout is built");
        }
    }
}
