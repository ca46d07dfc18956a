package dev.stacktrace.tools;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.stacktrace.StackEntry;
import dev.stacktrace.internal.stacks.LibraryMapping;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a {@link ProfileSnapshot} as a gzip-compressed pprof profile, the protobuf message
 * {@code perftools.profiles.Profile} of
 * <a href="https://github.com/google/pprof/blob/main/proto/profile.proto">profile.proto</a>, as
 * {@code go tool pprof}, Pyroscope, Parca and Grafana read it.
 *
 * <ul>
 *   <li>Sample types in the Go runtime's convention: {@code samples/count} and {@code cpu/nanoseconds}
 *       (cpu mode) or {@code wall/nanoseconds} (wall mode), the second being count × interval; the
 *       period type is that second type and the period the sampling interval.</li>
 *   <li>Java frames: a function named {@code className.methodName} with the source file name, and a
 *       location with the line (0 when unknown); no address, as a method has no one place.</li>
 *   <li>Native frames: a location at the frame's address in the mapping of its library (path,
 *       build-id, start, limit, file offset), with a function named by the symbol, or by the place
 *       ({@code libfoo.so+0x1a2b}) when there is none; every mapping says it has functions, so pprof
 *       never tries to symbolize again. Code that maps no file (JIT stubs, the vdso) has a location
 *       with its address and function but no mapping.</li>
 *   <li>Marker frames ({@code [truncated]}, {@code [unknown Java]}) are functions too: every sample counts.</li>
 *   <li>Sample labels as string labels.</li>
 * </ul>
 * Fields are written directly with protobuf-java's {@link CodedOutputStream}: no generated classes.
 */
public final class Pprof {

    // perftools.profiles.Profile field numbers
    private static final int PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
            PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS = 10,
            PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12;
    private static final int VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2;
    private static final int SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3;
    private static final int LABEL_KEY = 1, LABEL_STR = 2;
    private static final int MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3,
            MAPPING_FILE_OFFSET = 4, MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7;
    private static final int LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4;
    private static final int LINE_FUNCTION_ID = 1, LINE_LINE = 2;
    private static final int FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4;

    private static final int BUFFER = 32 * 1024;

    private Pprof() {}

    /**
     * Writes {@code snapshot} to {@code out} (gzip-compressed pprof); {@code out} is flushed, not closed.
     *
     * @throws IllegalStateException when protobuf-java is not on the class path (the agent jar carries
     *         it; a library user adds {@code com.google.protobuf:protobuf-java})
     */
    public static void write(ProfileSnapshot snapshot, OutputStream out) throws IOException {
        try {
            write(snapshot, out, LibraryMapping::of);
        } catch (NoClassDefFoundError e) {
            if (e.getMessage() == null || !e.getMessage().contains("protobuf")) throw e;
            throw new IllegalStateException("pprof output needs com.google.protobuf:protobuf-java 4.x on the class "
                    + "path: " + e.getMessage(), e);
        }
    }

    /** @param mappings the file mapping of a native frame's address, or null */
    static void write(ProfileSnapshot snapshot, OutputStream out, LongFunction<LibraryMapping> mappings) throws IOException {
        Tables t = new Tables(mappings);
        List<ProfileSnapshot.Sample> samples = snapshot.samples();
        int[][] locationIds = new int[samples.size()][];
        for (int i = 0; i < samples.size(); i++) {
            List<StackEntry> frames = samples.get(i).frames();
            int[] ids = new int[frames.size()];
            for (int f = 0; f < ids.length; f++) ids[f] = t.location(frames.get(f));
            locationIds[i] = ids;
        }
        for (ProfileSnapshot.Sample s : samples) {
            s.labels().forEach((k, v) -> {
                t.string(k);
                t.string(v);
            });
        }
        boolean cpu = snapshot.mode() == Profiler.Mode.CPU;
        int samplesType = t.string("samples"), countUnit = t.string("count");
        int timeType = t.string(cpu ? "cpu" : "wall"), nanosUnit = t.string("nanoseconds");
        long period = snapshot.interval().toNanos();

        GZIPOutputStream gzip = new GZIPOutputStream(new KeepOpen(out), BUFFER);
        try {
            CodedOutputStream o = CodedOutputStream.newInstance(gzip, BUFFER);
            writeValueType(o, PROFILE_SAMPLE_TYPE, samplesType, countUnit);
            writeValueType(o, PROFILE_SAMPLE_TYPE, timeType, nanosUnit);
            for (int i = 0; i < samples.size(); i++) writeSample(o, t, samples.get(i), locationIds[i], period);
            for (int i = 0; i < t.mappingFiles.size(); i++) writeMapping(o, t, i);
            for (int i = 0; i < t.locationFunction.size(); i++) writeLocation(o, t, i);
            for (int i = 0; i < t.functionName.size(); i++) writeFunction(o, t, i);
            for (String s : t.stringList) o.writeString(PROFILE_STRING_TABLE, s);
            long startNanos = snapshot.start().getEpochSecond() * 1_000_000_000L + snapshot.start().getNano();
            o.writeInt64(PROFILE_TIME_NANOS, startNanos);
            o.writeInt64(PROFILE_DURATION_NANOS, snapshot.duration().toNanos());
            writeValueType(o, PROFILE_PERIOD_TYPE, timeType, nanosUnit);
            o.writeInt64(PROFILE_PERIOD, period);
            o.flush();
            gzip.finish();
        } finally {
            gzip.close(); // frees the deflater; KeepOpen leaves the caller's stream open
        }
        out.flush();
    }

    private static void writeValueType(CodedOutputStream o, int field, int type, int unit) throws IOException {
        o.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(int64Size(VALUE_TYPE_TYPE, type) + int64Size(VALUE_TYPE_UNIT, unit));
        writeInt64(o, VALUE_TYPE_TYPE, type);
        writeInt64(o, VALUE_TYPE_UNIT, unit);
    }

    private static void writeSample(CodedOutputStream o, Tables t, ProfileSnapshot.Sample s, int[] locations,
                                    long period) throws IOException {
        int locationBytes = 0;
        for (int id : locations) locationBytes += CodedOutputStream.computeUInt64SizeNoTag(id);
        long count = s.count();
        long nanos = count * period;
        int valueBytes = CodedOutputStream.computeInt64SizeNoTag(count) + CodedOutputStream.computeInt64SizeNoTag(nanos);
        int size = packedSize(SAMPLE_LOCATION_ID, locationBytes) + packedSize(SAMPLE_VALUE, valueBytes);
        for (Map.Entry<String, String> l : s.labels().entrySet()) {
            size += messageSize(SAMPLE_LABEL, labelSize(t, l));
        }
        o.writeTag(PROFILE_SAMPLE, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(size);
        if (locations.length > 0) {
            o.writeTag(SAMPLE_LOCATION_ID, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(locationBytes);
            for (int id : locations) o.writeUInt64NoTag(id);
        }
        o.writeTag(SAMPLE_VALUE, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(valueBytes);
        o.writeInt64NoTag(count);
        o.writeInt64NoTag(nanos);
        for (Map.Entry<String, String> l : s.labels().entrySet()) {
            o.writeTag(SAMPLE_LABEL, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(labelSize(t, l));
            writeInt64(o, LABEL_KEY, t.string(l.getKey()));
            writeInt64(o, LABEL_STR, t.string(l.getValue()));
        }
    }

    private static int labelSize(Tables t, Map.Entry<String, String> l) {
        return int64Size(LABEL_KEY, t.string(l.getKey())) + int64Size(LABEL_STR, t.string(l.getValue()));
    }

    private static void writeMapping(CodedOutputStream o, Tables t, int i) throws IOException {
        LibraryMapping m = t.mappingFiles.get(i);
        int filename = t.string(m.path());
        int buildId = m.buildId() == null ? 0 : t.string(m.buildId());
        int size = uint64Size(MAPPING_ID, i + 1) + uint64Size(MAPPING_MEMORY_START, m.start())
                + uint64Size(MAPPING_MEMORY_LIMIT, m.limit()) + uint64Size(MAPPING_FILE_OFFSET, m.fileOffset())
                + int64Size(MAPPING_FILENAME, filename) + int64Size(MAPPING_BUILD_ID, buildId)
                + CodedOutputStream.computeBoolSize(MAPPING_HAS_FUNCTIONS, true);
        o.writeTag(PROFILE_MAPPING, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(size);
        writeUInt64(o, MAPPING_ID, i + 1);
        writeUInt64(o, MAPPING_MEMORY_START, m.start());
        writeUInt64(o, MAPPING_MEMORY_LIMIT, m.limit());
        writeUInt64(o, MAPPING_FILE_OFFSET, m.fileOffset());
        writeInt64(o, MAPPING_FILENAME, filename);
        writeInt64(o, MAPPING_BUILD_ID, buildId);
        o.writeBool(MAPPING_HAS_FUNCTIONS, true);
    }

    private static void writeLocation(CodedOutputStream o, Tables t, int i) throws IOException {
        int function = t.locationFunction.get(i);
        long line = t.locationLine.get(i);
        long address = t.locationAddress.get(i);
        int mapping = t.locationMapping.get(i);
        int lineSize = uint64Size(LINE_FUNCTION_ID, function) + int64Size(LINE_LINE, line);
        int size = uint64Size(LOCATION_ID, i + 1) + uint64Size(LOCATION_MAPPING_ID, mapping)
                + uint64Size(LOCATION_ADDRESS, address) + messageSize(LOCATION_LINE, lineSize);
        o.writeTag(PROFILE_LOCATION, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(size);
        writeUInt64(o, LOCATION_ID, i + 1);
        writeUInt64(o, LOCATION_MAPPING_ID, mapping);
        writeUInt64(o, LOCATION_ADDRESS, address);
        o.writeTag(LOCATION_LINE, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(lineSize);
        writeUInt64(o, LINE_FUNCTION_ID, function);
        writeInt64(o, LINE_LINE, line);
    }

    private static void writeFunction(CodedOutputStream o, Tables t, int i) throws IOException {
        int name = t.functionName.get(i);
        int file = t.functionFile.get(i);
        int size = uint64Size(FUNCTION_ID, i + 1) + int64Size(FUNCTION_NAME, name) + int64Size(FUNCTION_SYSTEM_NAME, name)
                + int64Size(FUNCTION_FILENAME, file);
        o.writeTag(PROFILE_FUNCTION, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        o.writeUInt32NoTag(size);
        writeUInt64(o, FUNCTION_ID, i + 1);
        writeInt64(o, FUNCTION_NAME, name);
        writeInt64(o, FUNCTION_SYSTEM_NAME, name);
        writeInt64(o, FUNCTION_FILENAME, file);
    }

    // proto3: a field holding its default (0) is not written

    private static int uint64Size(int field, long v) {
        return v == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, v);
    }

    private static int int64Size(int field, long v) {
        return v == 0 ? 0 : CodedOutputStream.computeInt64Size(field, v);
    }

    private static int packedSize(int field, int bytes) {
        return bytes == 0 ? 0 : messageSize(field, bytes);
    }

    private static int messageSize(int field, int bytes) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(bytes) + bytes;
    }

    private static void writeUInt64(CodedOutputStream o, int field, long v) throws IOException {
        if (v != 0) o.writeUInt64(field, v);
    }

    private static void writeInt64(CodedOutputStream o, int field, long v) throws IOException {
        if (v != 0) o.writeInt64(field, v);
    }

    /**
     * The profile's tables, ids from 1 in order of first use: strings (index 0 is ""), functions,
     * locations and mappings, each deduplicated.
     */
    private static final class Tables {
        private record FunctionKey(String name, String file, String library) {}

        private record LocationKey(long address, int function, long line) {}

        private record MappingKey(long start, String path) {}

        final LongFunction<LibraryMapping> mappings;
        final Map<String, Integer> strings = new HashMap<>();
        final List<String> stringList = new ArrayList<>();
        final Map<FunctionKey, Integer> functions = new HashMap<>();
        final IntList functionName = new IntList();
        final IntList functionFile = new IntList();
        /** Equal frames recur across stacks (each stack has its own objects): most look-ups end here. */
        final Map<StackEntry, Integer> byFrame = new HashMap<>();
        final Map<LocationKey, Integer> locations = new HashMap<>();
        final IntList locationFunction = new IntList();
        final IntList locationMapping = new IntList();
        final LongList locationLine = new LongList();
        final LongList locationAddress = new LongList();
        final Map<MappingKey, Integer> mappingIds = new HashMap<>();
        final List<LibraryMapping> mappingFiles = new ArrayList<>();

        Tables(LongFunction<LibraryMapping> mappings) {
            this.mappings = mappings;
            string("");
        }

        int string(String s) {
            Integer i = strings.get(s);
            if (i != null) return i;
            int id = stringList.size();
            stringList.add(s);
            strings.put(s, id);
            return id;
        }

        int location(StackEntry e) {
            Integer known = byFrame.get(e);
            if (known != null) return known;
            int id;
            if (e.isJava()) {
                int function = function(e.name(), e.fileName() == null ? "" : e.fileName(), "");
                id = location(0, function, Math.max(e.lineNumber(), 0), 0);
            } else if (e.isMarker()) {
                id = location(0, function(e.name(), "", ""), 0, 0);
            } else {
                int function = function(e.name(), "", e.library());
                id = location(e.address(), function, 0, e.path() == null ? 0 : mapping(e.address()));
            }
            byFrame.put(e, id);
            return id;
        }

        private int location(long address, int function, long line, int mapping) {
            LocationKey key = new LocationKey(address, function, line);
            Integer known = locations.get(key);
            if (known != null) return known;
            int id = locationFunction.size() + 1;
            locationFunction.add(function);
            locationLine.add(line);
            locationAddress.add(address);
            locationMapping.add(mapping);
            locations.put(key, id);
            return id;
        }

        private int function(String name, String file, String library) {
            FunctionKey key = new FunctionKey(name, file, library);
            Integer known = functions.get(key);
            if (known != null) return known;
            int id = functionName.size() + 1;
            functionName.add(string(name));
            functionFile.add(string(file));
            functions.put(key, id);
            return id;
        }

        /** The id of the mapping covering {@code address}, 0 when it maps no file (any more). */
        private int mapping(long address) {
            LibraryMapping m = mappings.apply(address);
            if (m == null || Long.compareUnsigned(address, m.start()) < 0 || Long.compareUnsigned(address, m.limit()) >= 0) {
                return 0;
            }
            MappingKey key = new MappingKey(m.start(), m.path());
            Integer known = mappingIds.get(key);
            if (known != null) return known;
            mappingFiles.add(m);
            int id = mappingFiles.size();
            mappingIds.put(key, id);
            return id;
        }
    }

    /** A growable int array: no boxing per element. */
    private static final class IntList {
        private int[] values = new int[64];
        private int size;

        void add(int v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        int get(int i) {
            return values[i];
        }

        int size() {
            return size;
        }
    }

    private static final class LongList {
        private long[] values = new long[64];
        private int size;

        void add(long v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long get(int i) {
            return values[i];
        }
    }

    /** Lets the gzip stream be closed (freeing its deflater) without closing the caller's stream. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
