package dev.stacktrace.push;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stacktrace.StackEntry;
import dev.stacktrace.Stacktrace;
import dev.stacktrace.testlib.BlockedNativeThread;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Sample;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OTLP encoding of known stacks, read back with the opentelemetry-proto parser. */
class OtlpProfilesTest {
    private static final StackEntry DEFLATE = new StackEntry(0x7f0000001234L, "deflate", 0x34, "libz.so.1", false,
            "/usr/lib/x86_64-linux-gnu/libz.so.1");
    private static final StackEntry INLINED = StackEntry.javaFrame(0x7f0000009000L, StackEntry.Kind.JAVA_INLINED,
            "java.util.zip.Deflater", "ensureOpen", "Deflater.java", 600);
    private static final StackEntry COMPILED = StackEntry.javaFrame(0x7f0000009000L, StackEntry.Kind.JAVA_COMPILED,
            "java.util.zip.Deflater", "deflate", "Deflater.java", 586);
    private static final StackEntry MAIN = StackEntry.javaFrame(0x7f000000a000L, StackEntry.Kind.JAVA_INTERPRETED,
            "app.Main", "main", "Main.java", 12);
    private static final StackEntry TRUNCATED = StackEntry.marker("[truncated]");

    @Test
    void stacksSamplesAndResourceReadBack() throws Exception {
        List<ProfileSnapshot.Sample> samples = List.of(
                new ProfileSnapshot.Sample(List.of(DEFLATE, INLINED, COMPILED, MAIN), Map.of(), 7),
                new ProfileSnapshot.Sample(List.of(COMPILED, MAIN), Map.of("endpoint", "/checkout"), 3),
                new ProfileSnapshot.Sample(List.of(DEFLATE, TRUNCATED), Map.of(), 2));
        Instant from = Instant.ofEpochSecond(1_800_000_000L, 250_000_000);
        ProfileSnapshot window = ProfileSnapshot.of(Profiler.Mode.CPU, Duration.ofMillis(10), from,
                Duration.ofSeconds(15), samples);
        Map<String, String> resource = new LinkedHashMap<>();
        resource.put("service.name", "checkout");
        resource.put("env", "prod");

        byte[] bytes = OtlpProfiles.request(window, resource).toByteArray();
        ExportProfilesServiceRequest r = ExportProfilesServiceRequest.parseFrom(bytes);

        ProfilesDictionary d = r.getDictionary();
        assertEquals("", d.getStringTable(0), "string_table[0] is the empty string");
        assertEquals(Mapping.getDefaultInstance(), d.getMappingTable(0));
        assertEquals(Location.getDefaultInstance(), d.getLocationTable(0));
        assertEquals(0, d.getStackTable(0).getLocationIndicesCount());
        assertEquals(16, d.getLinkTable(0).getTraceId().size());
        assertEquals(1, r.getResourceProfilesCount());
        var attributes = r.getResourceProfiles(0).getResource().getAttributesList();
        assertEquals("service.name", attributes.get(0).getKey());
        assertEquals("checkout", attributes.get(0).getValue().getStringValue());
        assertEquals("prod", attributes.get(1).getValue().getStringValue());

        Profile p = r.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
        assertEquals("cpu", d.getStringTable(p.getSampleType().getTypeStrindex()));
        assertEquals("nanoseconds", d.getStringTable(p.getSampleType().getUnitStrindex()));
        assertEquals(10_000_000L, p.getPeriod());
        assertEquals(1_800_000_000_250_000_000L, p.getTimeUnixNano());
        assertEquals(15_000_000_000L, p.getDurationNano());
        assertEquals(3, p.getSamplesCount());

        Map<List<String>, Long> decoded = new LinkedHashMap<>();
        for (Sample s : p.getSamplesList()) decoded.put(frames(d, s), s.getValues(0) / p.getPeriod());
        Map<List<String>, Long> expected = new LinkedHashMap<>();
        // the inlined method shares its compiled caller's location, innermost line first
        expected.put(List.of("deflate@libz.so.1", "java.util.zip.Deflater.ensureOpen:600|java.util.zip.Deflater.deflate:586",
                "app.Main.main:12"), 7L);
        expected.put(List.of("java.util.zip.Deflater.deflate:586", "app.Main.main:12"), 3L);
        expected.put(List.of("deflate@libz.so.1", "[truncated]"), 2L);
        assertEquals(expected, decoded);
        // a sample's labels are its attributes
        Sample labelled = p.getSamplesList().stream().filter(x -> x.getAttributeIndicesCount() == 1).findFirst().orElseThrow();
        var label = d.getAttributeTable(labelled.getAttributeIndices(0));
        assertEquals("endpoint", d.getStringTable(label.getKeyStrindex()));
        assertEquals("/checkout", label.getValue().getStringValue());
        assertEquals(3, labelled.getValues(0) / p.getPeriod());

        // a native location has its address inside a mapping named by the library's path, and a frame type
        Location native_ = d.getLocationTableList().stream().filter(l -> l.getMappingIndex() != 0).findFirst().orElseThrow();
        assertEquals(DEFLATE.address(), native_.getAddress());
        assertEquals("/usr/lib/x86_64-linux-gnu/libz.so.1",
                d.getStringTable(d.getMappingTable(native_.getMappingIndex()).getFilenameStrindex()));
        var frameType = d.getAttributeTable(native_.getAttributeIndices(0));
        assertEquals("profile.frame.type", d.getStringTable(frameType.getKeyStrindex()));
        assertEquals("native", frameType.getValue().getStringValue());
        // one location per distinct frame: deflate appears in two stacks, once in the table
        long deflates = d.getLocationTableList().stream().filter(l -> l.getAddress() == DEFLATE.address()).count();
        assertEquals(1, deflates);
        assertTrue(d.getFunctionTableList().stream().allMatch(f -> f.getNameStrindex() < d.getStringTableCount()));
    }

    /** A sample's frames as {@code function[:line]} per line ({@code |} between inlined lines), {@code @mapping} for native. */
    private static List<String> frames(ProfilesDictionary d, Sample s) {
        List<String> out = new ArrayList<>();
        for (int li : d.getStackTable(s.getStackIndex()).getLocationIndicesList()) {
            Location loc = d.getLocationTable(li);
            List<String> lines = new ArrayList<>();
            for (var line : loc.getLinesList()) {
                String name = d.getStringTable(d.getFunctionTable(line.getFunctionIndex()).getNameStrindex());
                lines.add(line.getLine() > 0 ? name + ":" + line.getLine() : name);
            }
            String frame = String.join("|", lines);
            if (loc.getMappingIndex() != 0) {
                String path = d.getStringTable(d.getMappingTable(loc.getMappingIndex()).getFilenameStrindex());
                frame += "@" + path.substring(path.lastIndexOf('/') + 1);
            }
            out.add(frame);
        }
        return out;
    }

    @Test
    void nativeMappingsCarryTheirRangeAndBuildId() throws Exception {
        // a thread blocked in native code: native frames at real addresses of libraries mapped in this process
        List<StackEntry> stack;
        try (BlockedNativeThread t = new BlockedNativeThread("otlp-mappings", 5)) {
            stack = Stacktrace.getThreadStack(t.thread(), Stacktrace.MAX_DEPTH, true);
        }
        List<StackEntry> nativeFrames = stack.stream().filter(e -> !e.isJava() && !e.isMarker()).toList();
        assertTrue(nativeFrames.size() >= 3, Stacktrace.format(stack));
        ProfileSnapshot window = ProfileSnapshot.of(Profiler.Mode.CPU, Duration.ofMillis(10), Instant.now(),
                Duration.ofSeconds(1), List.of(new ProfileSnapshot.Sample(stack, Map.of(), 1)));
        ProfilesDictionary d = OtlpProfiles.request(window, Map.of("service.name", "t")).getDictionary();

        int checked = 0;
        boolean buildId = false;
        for (Location loc : d.getLocationTableList()) {
            if (loc.getMappingIndex() == 0) continue;
            Mapping m = d.getMappingTable(loc.getMappingIndex());
            String file = d.getStringTable(m.getFilenameStrindex());
            assertTrue(m.getMemoryStart() <= loc.getAddress() && loc.getAddress() < m.getMemoryLimit(),
                    file + ": 0x" + Long.toHexString(loc.getAddress()) + " outside [0x" + Long.toHexString(m.getMemoryStart())
                            + ", 0x" + Long.toHexString(m.getMemoryLimit()) + ")");
            for (int a : m.getAttributeIndicesList()) {
                var kv = d.getAttributeTable(a);
                if (d.getStringTable(kv.getKeyStrindex()).equals("process.executable.build_id.gnu")) {
                    assertTrue(kv.getValue().getStringValue().matches("[0-9a-f]{16,}"), kv.toString());
                    buildId = true;
                }
            }
            checked++;
        }
        assertTrue(checked >= 3, "native locations with a mapping: " + checked);
        assertTrue(buildId, "no mapping has a GNU build id (libjvm and libc have one)");
    }
}
