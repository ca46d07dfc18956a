package dev.stacktrace.push;

import com.google.protobuf.ByteString;
import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.stacks.LibraryMapping;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Line;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Mapping;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.ScopeProfiles;
import io.opentelemetry.proto.profiles.v1development.Stack;
import io.opentelemetry.proto.profiles.v1development.ValueType;
import io.opentelemetry.proto.resource.v1.Resource;
import dev.stacktrace.tools.ProfileSnapshot;
import dev.stacktrace.tools.Profiler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One window of samples as an OTLP {@code ExportProfilesServiceRequest} (profiles signal,
 * v1development): one resource ({@code service.name} and the static labels), one scope, one profile,
 * everything named through the request's dictionary.
 *
 * <p>Frames map as follows. A native frame is a location with its absolute address, a mapping (the
 * library's path, its address range and file offset in this process, its GNU build id as the
 * attribute {@code process.executable.build_id.gnu}), and a function named by the symbol (or by its place,
 * {@code libfoo.so+0x1a2b}, when it is in no symbol). A Java frame is a function
 * {@code class.method} with its source file, and a line; Java methods inlined into a compiled
 * frame share one location with it, innermost line first, as the proto's {@code Location.lines}
 * says inlining is written. A marker frame ({@code [truncated]}) is a function of that name.
 * Each location carries {@code profile.frame.type} ("jvm" or "native"); a sample's labels are its
 * attributes. Values are nanoseconds of cpu (or wall) time: samples × the sampling period, the
 * period given in the profile.
 */
public final class OtlpProfiles {
    static final String SCOPE = "dev.stacktrace";
    static final String FRAME_TYPE = "profile.frame.type";
    /** The semantic conventions' attribute for an object's GNU build id. */
    static final String BUILD_ID = "process.executable.build_id.gnu";

    private final List<String> strings = new ArrayList<>();
    private final Map<String, Integer> stringIndex = new HashMap<>();
    private final List<Mapping> mappings = new ArrayList<>();
    private final Map<String, Integer> mappingIndex = new HashMap<>();
    private final List<Function> functions = new ArrayList<>();
    private final Map<List<Object>, Integer> functionIndex = new HashMap<>();
    private final List<Location> locations = new ArrayList<>();
    private final Map<List<Object>, Integer> locationIndex = new HashMap<>();
    private final List<Stack> stacks = new ArrayList<>();
    private final Map<List<Integer>, Integer> stackIndex = new HashMap<>();
    private final List<KeyValueAndUnit> attributes = new ArrayList<>();
    private final Map<List<String>, Integer> attributeIndex = new HashMap<>();

    private OtlpProfiles() {
        string("");
        mappings.add(Mapping.getDefaultInstance());
        functions.add(Function.getDefaultInstance());
        locations.add(Location.getDefaultInstance());
        stacks.add(Stack.getDefaultInstance());
        attributes.add(KeyValueAndUnit.getDefaultInstance());
    }

    /** The request for one profile; {@code resource}: service.name and the static labels, in order. */
    public static ExportProfilesServiceRequest request(ProfileSnapshot snapshot, Map<String, String> resource) {
        return new OtlpProfiles().build(snapshot, resource);
    }

    private ExportProfilesServiceRequest build(ProfileSnapshot snapshot, Map<String, String> resource) {
        long period = Math.max(1, snapshot.interval().toNanos());
        String type = snapshot.mode() == Profiler.Mode.WALL ? "wall" : "cpu";
        Profile.Builder profile = Profile.newBuilder()
                .setSampleType(valueType(type, "nanoseconds"))
                .setPeriodType(valueType(type, "nanoseconds"))
                .setPeriod(period)
                .setTimeUnixNano(nanos(snapshot.start()))
                .setDurationNano(snapshot.duration().toNanos());
        // one sample per distinct stack of locations and set of labels (two stacks of entries may share one)
        Map<List<Integer>, Long> counts = new LinkedHashMap<>();
        for (ProfileSnapshot.Sample s : snapshot.samples()) {
            List<Integer> key = new ArrayList<>();
            key.add(stack(s.frames()));
            new TreeMap<>(s.labels()).forEach((k, v) -> key.add(label(k, v)));
            counts.merge(key, s.count(), Long::sum);
        }
        counts.forEach((key, count) -> profile.addSamples(Sample.newBuilder().setStackIndex(key.get(0))
                .addAllAttributeIndices(key.subList(1, key.size())).addValues(count * period)));

        Resource.Builder res = Resource.newBuilder();
        resource.forEach((k, v) -> res.addAttributes(KeyValue.newBuilder().setKey(k)
                .setValue(AnyValue.newBuilder().setStringValue(v))));
        ProfilesDictionary dictionary = ProfilesDictionary.newBuilder()
                .addAllStringTable(strings)
                .addAllMappingTable(mappings)
                .addAllLocationTable(locations)
                .addAllFunctionTable(functions)
                // the zero link with ids of their proper lengths, as the proto asks
                .addLinkTable(Link.newBuilder().setTraceId(ByteString.copyFrom(new byte[16]))
                        .setSpanId(ByteString.copyFrom(new byte[8])))
                .addAllAttributeTable(attributes)
                .addAllStackTable(stacks)
                .build();
        return ExportProfilesServiceRequest.newBuilder()
                .setDictionary(dictionary)
                .addResourceProfiles(ResourceProfiles.newBuilder()
                        .setResource(res)
                        .addScopeProfiles(ScopeProfiles.newBuilder()
                                .setScope(InstrumentationScope.newBuilder().setName(SCOPE))
                                .addProfiles(profile)))
                .build();
    }

    /** The stack's index; frames innermost first, inlined Java frames folded into their compiled caller's location. */
    private int stack(List<StackEntry> frames) {
        List<Integer> locs = new ArrayList<>();
        int i = 0;
        while (i < frames.size()) {
            int end = i;
            while (end + 1 < frames.size() && frames.get(end).kind() == StackEntry.Kind.JAVA_INLINED
                    && frames.get(end + 1).isJava()) {
                end++;
            }
            locs.add(location(frames.subList(i, end + 1)));
            i = end + 1;
        }
        return stackIndex.computeIfAbsent(locs, l -> {
            stacks.add(Stack.newBuilder().addAllLocationIndices(l).build());
            return stacks.size() - 1;
        });
    }

    /** One location: a native frame, a marker, or a Java frame with the frames inlined into it (innermost first). */
    private int location(List<StackEntry> group) {
        StackEntry physical = group.get(group.size() - 1);
        List<Object> key = new ArrayList<>();
        if (physical.isJava() || physical.isMarker()) {
            for (StackEntry e : group) {
                key.add(e.name());
                key.add(e.fileName());
                key.add(e.lineNumber());
            }
        } else {
            key.add(physical.address());
            key.add(physical.name());
        }
        return locationIndex.computeIfAbsent(key, k -> {
            Location.Builder loc = Location.newBuilder();
            if (physical.isJava()) {
                for (StackEntry e : group) {
                    loc.addLines(Line.newBuilder().setFunctionIndex(function(e.name(), e.fileName()))
                            .setLine(Math.max(0, e.lineNumber())));
                }
                loc.addAttributeIndices(frameType("jvm"));
            } else if (physical.isMarker()) {
                loc.addLines(Line.newBuilder().setFunctionIndex(function(physical.name(), null)));
            } else {
                loc.setAddress(physical.address());
                loc.setMappingIndex(mapping(physical));
                loc.addLines(Line.newBuilder().setFunctionIndex(function(physical.name(), null)));
                loc.addAttributeIndices(frameType("native"));
            }
            locations.add(loc.build());
            return locations.size() - 1;
        });
    }

    private int function(String name, String file) {
        return functionIndex.computeIfAbsent(java.util.Arrays.asList(name, file), k -> {
            Function.Builder f = Function.newBuilder().setNameStrindex(string(name)).setSystemNameStrindex(string(name));
            if (file != null) f.setFilenameStrindex(string(file));
            functions.add(f.build());
            return functions.size() - 1;
        });
    }

    /** The mapping that holds a native frame: its address range, file offset and build id where the process's map says. */
    private int mapping(StackEntry frame) {
        LibraryMapping m = LibraryMapping.of(frame.address());
        String file = m != null ? m.path() : frame.path() != null ? frame.path() : frame.library();
        String key = m != null ? file + "@" + Long.toHexString(m.start()) : file;
        return mappingIndex.computeIfAbsent(key, k -> {
            Mapping.Builder b = Mapping.newBuilder().setFilenameStrindex(string(file));
            if (m != null) {
                b.setMemoryStart(m.start()).setMemoryLimit(m.limit()).setFileOffset(m.fileOffset());
                if (m.buildId() != null) b.addAttributeIndices(label(BUILD_ID, m.buildId()));
            }
            mappings.add(b.build());
            return mappings.size() - 1;
        });
    }

    private int frameType(String type) {
        return label(FRAME_TYPE, type);
    }

    /** A string attribute's index in the attribute table. */
    private int label(String key, String value) {
        return attributeIndex.computeIfAbsent(List.of(key, value), kv -> {
            attributes.add(KeyValueAndUnit.newBuilder().setKeyStrindex(string(key))
                    .setValue(AnyValue.newBuilder().setStringValue(value)).build());
            return attributes.size() - 1;
        });
    }

    private ValueType valueType(String type, String unit) {
        return ValueType.newBuilder().setTypeStrindex(string(type)).setUnitStrindex(string(unit)).build();
    }

    private int string(String s) {
        return stringIndex.computeIfAbsent(s, x -> {
            strings.add(x);
            return strings.size() - 1;
        });
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}
