package dev.stacktrace.internal.jvm;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
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
    private record Key(String type, String field) {}

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
            long stride = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryArrayStride").getLong(0);
            long typeNameAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryTypeNameOffset").getLong(0);
            long fieldNameAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryFieldNameOffset").getLong(0);
            long isStaticAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryIsStaticOffset").getLong(0);
            long offsetAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryOffsetOffset").getLong(0);
            long addressAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryAddressOffset").getLong(0);
            long typeStringAt = jvm.getGlobalVariableAddress("gHotSpotVMStructEntryTypeStringOffset").getLong(0);
            Map<Key, Long> offsets = new HashMap<>();
            Map<Key, Long> statics = new HashMap<>();
            Map<Key, String> fieldTypes = new HashMap<>();
            for (long entry = 0; ; entry += stride) {
                Pointer typeName = table.getPointer(entry + typeNameAt);
                if (typeName == null) break;  // the table ends with an all-null entry
                Pointer fieldName = table.getPointer(entry + fieldNameAt);
                if (fieldName == null) continue;
                Key key = new Key(typeName.getString(0), fieldName.getString(0));
                Pointer typeString = table.getPointer(entry + typeStringAt);
                if (typeString != null) fieldTypes.put(key, typeString.getString(0));
                if (table.getInt(entry + isStaticAt) != 0) {
                    statics.put(key, Pointer.nativeValue(table.getPointer(entry + addressAt)));
                } else {
                    offsets.put(key, table.getLong(entry + offsetAt));
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
        long stride = jvm.getGlobalVariableAddress(strideSymbol).getLong(0);
        long nameAt = jvm.getGlobalVariableAddress(nameSymbol).getLong(0);
        long valueAt = jvm.getGlobalVariableAddress(valueSymbol).getLong(0);
        Map<String, Long> values = new HashMap<>();
        for (long entry = 0; ; entry += stride) {
            Pointer name = table.getPointer(entry + nameAt);
            if (name == null) break;
            values.put(name.getString(0), intValues ? (long) table.getInt(entry + valueAt) : table.getLong(entry + valueAt));
        }
        return Map.copyOf(values);
    }

    /** libjvm, already loaded by the launcher: this only takes another reference to it. */
    public static NativeLibrary libjvm() {
        return NativeLibrary.getInstance(libjvmPath().orElseThrow().toString());
    }

    private static VMStructs unavailable(String reason) {
        return new VMStructs(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), reason);
    }
}
