package dev.stacktrace.internal.jvm;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * HotSpot's self-description: the table of field offsets that libjvm exports as gHotSpotVMStructs
 * (the same table the Serviceability Agent reads). Read once, from our own process, so the offsets
 * always match the running JVM. Empty on a JVM that does not export it (not HotSpot).
 */
public final class VMStructs {
    /** (type, field). Not a record: a record's equals and hashCode are linked at first use, tens of ms in a cold JVM. */
    private static final class Key {
        private final String type;
        private final String field;

        Key(String type, String field) {
            this.type = type;
            this.field = field;
        }

        String type() {
            return type;
        }

        String field() {
            return field;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && type.equals(k.type) && field.equals(k.field);
        }

        @Override
        public int hashCode() {
            return type.hashCode() * 31 + field.hashCode();
        }
    }

    private static final VMStructs INSTANCE = load();

    private final Map<Key, Long> offsets;
    private final Map<Key, Long> staticAddresses;
    private final Map<Key, String> fieldTypes;
    private final Map<String, Long> typeSizes;
    private final Map<String, Long> intConstants;
    private final String unavailableReason;

    private VMStructs(Map<Key, Long> offsets, Map<Key, Long> staticAddresses, Map<Key, String> fieldTypes,
                      Map<String, Long> typeSizes, Map<String, Long> intConstants, String unavailableReason) {
        this.offsets = offsets;
        this.staticAddresses = staticAddresses;
        this.fieldTypes = fieldTypes;
        this.typeSizes = typeSizes;
        this.intConstants = intConstants;
        this.unavailableReason = unavailableReason;
    }

    public static VMStructs get() {
        return INSTANCE;
    }

    public boolean available() {
        return unavailableReason == null;
    }

    /** Why the table could not be read, or null. */
    public String unavailableReason() {
        return unavailableReason;
    }

    /** Offset of a non-static field within its type, e.g. ("OSThread", "_thread_id"). */
    public OptionalLong offset(String type, String field) {
        Long value = offsets.get(new Key(type, field));
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** Address of a static field, e.g. ("CodeCache", "_low_bound"). */
    public OptionalLong staticAddress(String type, String field) {
        Long value = staticAddresses.get(new Key(type, field));
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** The declared type of a field as HotSpot names it (e.g. "int", "int16_t", "Method*"), or null. */
    public String fieldType(String type, String field) {
        return fieldTypes.get(new Key(type, field));
    }

    /** sizeof(type), from gHotSpotVMTypes. */
    public OptionalLong typeSize(String type) {
        Long value = typeSizes.get(type);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** A named integer constant, from gHotSpotVMIntConstants (e.g. "frame::entry_frame_call_wrapper_offset"). */
    public OptionalLong intConstant(String name) {
        Long value = intConstants.get(name);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** Every entry as "type::field", for diagnostics. */
    public Map<String, Long> describe() {
        Map<String, Long> all = new HashMap<>();
        offsets.forEach((k, v) -> all.put(k.type() + "::" + k.field(), v));
        staticAddresses.forEach((k, v) -> all.put(k.type() + "::" + k.field() + " (static)", v));
        return all;
    }

    static Optional<Path> libjvmPath() {
        Path home = Path.of(System.getProperty("java.home"));
        for (String vm : new String[] {"server", "client", "zero"}) {
            Path candidate = home.resolve("lib").resolve(vm).resolve("libjvm.so");
            if (Files.isRegularFile(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    private static VMStructs load() {
        try {
            Optional<Path> path = libjvmPath();
            if (path.isEmpty()) return unavailable("libjvm.so not found under java.home");
            NativeLibrary jvm = libjvm();
            Pointer table = jvm.getGlobalVariableAddress("gHotSpotVMStructs").getPointer(0);
            int stride = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryArrayStride").getLong(0);
            int typeNameAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryTypeNameOffset").getLong(0);
            int fieldNameAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryFieldNameOffset").getLong(0);
            int isStaticAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryIsStaticOffset").getLong(0);
            int offsetAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryOffsetOffset").getLong(0);
            int addressAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryAddressOffset").getLong(0);
            int typeStringAt = (int) jvm.getGlobalVariableAddress("gHotSpotVMStructEntryTypeStringOffset").getLong(0);
            Map<Key, Long> offsets = new HashMap<>();
            Map<Key, Long> statics = new HashMap<>();
            Map<Key, String> fieldTypes = new HashMap<>();
            CStrings strings = new CStrings();
            for (Entries entries = new Entries(table, stride, typeNameAt); entries.next(); ) {
                ByteBuffer e = entries.entry;
                long fieldName = e.getLong(fieldNameAt);
                if (fieldName == 0) continue;
                Key key = new Key(strings.shared(e.getLong(typeNameAt)), CStrings.read(fieldName));
                long typeString = e.getLong(typeStringAt);
                if (typeString != 0) fieldTypes.put(key, strings.shared(typeString));
                if (e.getInt(isStaticAt) != 0) {
                    statics.put(key, e.getLong(addressAt));
                } else {
                    offsets.put(key, e.getLong(offsetAt));
                }
            }
            return new VMStructs(Map.copyOf(offsets), Map.copyOf(statics), Map.copyOf(fieldTypes), readTypeSizes(jvm),
                    readIntConstants(jvm), null);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return unavailable("cannot read HotSpot's gHotSpotVMStructs: " + e.getMessage());
        }
    }

    private static Map<String, Long> readTypeSizes(NativeLibrary jvm) {
        return readNamedValues(jvm, "gHotSpotVMTypes", "gHotSpotVMTypeEntryArrayStride",
                "gHotSpotVMTypeEntryTypeNameOffset", "gHotSpotVMTypeEntrySizeOffset", false);
    }

    private static Map<String, Long> readIntConstants(NativeLibrary jvm) {
        return readNamedValues(jvm, "gHotSpotVMIntConstants", "gHotSpotVMIntConstantEntryArrayStride",
                "gHotSpotVMIntConstantEntryNameOffset", "gHotSpotVMIntConstantEntryValueOffset", true);
    }

    /** A table of (name, value) entries ending with a null name, as libjvm exports them. */
    private static Map<String, Long> readNamedValues(NativeLibrary jvm, String tableSymbol, String strideSymbol,
                                                     String nameSymbol, String valueSymbol, boolean intValues) {
        Pointer table = jvm.getGlobalVariableAddress(tableSymbol).getPointer(0);
        int stride = (int) jvm.getGlobalVariableAddress(strideSymbol).getLong(0);
        int nameAt = (int) jvm.getGlobalVariableAddress(nameSymbol).getLong(0);
        int valueAt = (int) jvm.getGlobalVariableAddress(valueSymbol).getLong(0);
        Map<String, Long> values = new HashMap<>();
        for (Entries entries = new Entries(table, stride, nameAt); entries.next(); ) {
            ByteBuffer e = entries.entry;
            values.put(CStrings.read(e.getLong(nameAt)), intValues ? (long) e.getInt(valueAt) : e.getLong(valueAt));
        }
        return Map.copyOf(values);
    }

    /**
     * The entries of one of libjvm's tables, one at a time up to the one whose name pointer (at
     * {@code nameAt}) is null: one native copy an entry into one buffer, never a byte past the end.
     */
    private static final class Entries {
        private final Pointer table;
        private final int stride;
        private final int nameAt;
        private final byte[] bytes;
        /** The current entry, native byte order. */
        final ByteBuffer entry;
        private long at;

        Entries(Pointer table, int stride, int nameAt) {
            if (stride <= 0 || stride > 4096 || nameAt < 0 || nameAt + 8 > stride) {
                throw new IllegalStateException("unexpected table layout: stride " + stride + ", name at " + nameAt);
            }
            this.table = table;
            this.stride = stride;
            this.nameAt = nameAt;
            this.bytes = new byte[stride];
            this.entry = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
            this.at = -stride;
        }

        boolean next() {
            at += stride;
            table.read(at, bytes, 0, stride);
            return entry.getLong(nameAt) != 0;
        }
    }

    /** C strings of libjvm's tables; names of types, which many entries share, are read once. */
    private static final class CStrings {
        private final Map<Long, String> shared = new HashMap<>();

        static String read(long address) {
            return new Pointer(address).getString(0);
        }

        String shared(long address) {
            String s = shared.get(address);
            if (s == null) {
                s = read(address);
                shared.put(address, s);
            }
            return s;
        }
    }

    /** libjvm, already loaded by the launcher: this only takes another reference to it. */
    public static NativeLibrary libjvm() {
        return NativeLibrary.getInstance(libjvmPath().orElseThrow().toString());
    }

    private static VMStructs unavailable(String reason) {
        return new VMStructs(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), reason);
    }
}
