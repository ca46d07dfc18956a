package dev.stacktrace.internal.jvm;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.stacktrace.internal.binding.LibStacktrace;
import dev.stacktrace.internal.symbols.Mapping;
import dev.stacktrace.internal.symbols.ProcessMaps;
import dev.stacktrace.internal.symbols.SymbolValues;
import dev.stacktrace.internal.symbols.Symbolizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The numbers the native walker needs to find Java frames: offsets and addresses of the running
 * HotSpot, from {@link VMStructs} and libjvm's symbols, in the order the library gives its keys
 * (VM_&lt;KEY&gt; in its table of ABI constants, from native-lib/src/vm.h). The knowledge of which
 * field is called what on which JDK lives here.
 */
public final class HotSpotLayout {
    /** The library's layout keys without their VM_ prefix; the library says where each goes. */
    enum Key {
        SAFEFETCH_N, AGCT, CODE_LOW_ADDR, CODE_HIGH_ADDR, CODE_HEAPS_ADDR, CALL_STUB_RETURN_ADDR,
        INTERP_LOW, INTERP_HIGH, JT_ANCHOR, JT_STATE, JT_STACK_BASE, ANCHOR_SP, ANCHOR_PC, ANCHOR_FP,
        JCW_ANCHOR, ENTRY_CW_SLOT, INTERP_METHOD_SLOT, INTERP_BCP_SLOT, INTERP_SENDER_SP_SLOT,
        HEAP_MEMORY, HEAP_SEGMAP, HEAP_LOG2, VS_LOW, VS_HIGH, HEAPBLOCK_SIZE, HEAPBLOCK_USED, GA_LEN, GA_DATA,
        CB_NAME, CB_FRAME_SIZE, CB_FRAME_COMPLETE, CB_FRAME_COMPLETE_BYTES, CB_CODE_BEGIN, CB_CODE_OFFSET, CB_KIND,
        KIND_NMETHOD, NM_METHOD, NM_STATE, NM_COMPILE_ID, METHOD_CONST, METHOD_ACCESS_FLAGS,
        CM_CONSTANTS, CM_IDNUM, CM_NAME_INDEX, CM_SIZE, CP_HOLDER, CP_SIZE,
        IK_JMIDS, KLASS_NAME, CP_SOURCE_FILE_INDEX, SYMBOL_LENGTH, SYMBOL_BODY,
        JVM_TEXT_LOW, JVM_TEXT_HIGH, THREAD_OSTHREAD, OSTHREAD_TID,
    }

    /** Why a layout could not be built. */
    public static final class MissingException extends Exception {
        private static final long serialVersionUID = 1L;

        MissingException(String what) {
            super(what);
        }
    }

    private final long[] values = new long[Key.values().length];
    private final VMStructs vm;

    private HotSpotLayout(VMStructs vm) {
        this.vm = vm;
    }

    /** The layout of this JVM, or why there is none. */
    public static long[] build() throws MissingException {
        VMStructs vm = VMStructs.get();
        if (!vm.available()) throw new MissingException(vm.unavailableReason());
        return inLibraryOrder(new HotSpotLayout(vm).fill());
    }

    /** The values at the indices of the library's keys; every key of the library must be one we fill. */
    private static long[] inLibraryOrder(long[] byKey) throws MissingException {
        long count = LibStacktrace.abiConstant("VM_KEYS").orElse(-1);
        if (count != Key.values().length) {
            throw new MissingException("the native library has " + count + " layout keys, this jar knows "
                    + Key.values().length + " (a jar and library of different builds)");
        }
        long[] ordered = new long[(int) count];
        for (Key key : Key.values()) {
            long index = LibStacktrace.abiConstant("VM_" + key.name()).orElse(-1);
            if (index < 0 || index >= count) {
                throw new MissingException("the native library has no layout key VM_" + key.name()
                        + " (a jar and library of different builds)");
            }
            ordered[(int) index] = byKey[key.ordinal()];
        }
        return ordered;
    }

    private long[] fill() throws MissingException {
        NativeLibrary jvm = VMStructs.libjvm();
        put(Key.SAFEFETCH_N, safeFetch());
        put(Key.AGCT, Pointer.nativeValue(jvm.getFunction("AsyncGetCallTrace")));
        put(Key.CODE_LOW_ADDR, address("CodeCache", "_low_bound"));
        put(Key.CODE_HIGH_ADDR, address("CodeCache", "_high_bound"));
        put(Key.CODE_HEAPS_ADDR, address("CodeCache", "_heaps"));
        put(Key.CALL_STUB_RETURN_ADDR, address("StubRoutines", "_call_stub_return_address"));
        // The interpreter's code: AbstractInterpreter::_code is a StubQueue, stable once the VM runs.
        Pointer queue = new Pointer(address("AbstractInterpreter", "_code")).getPointer(0);
        long buffer = Pointer.nativeValue(queue.getPointer(offset("StubQueue", "_stub_buffer")));
        put(Key.INTERP_LOW, buffer);
        put(Key.INTERP_HIGH, buffer + queue.getInt(offset("StubQueue", "_buffer_limit")));
        put(Key.JT_ANCHOR, offset("JavaThread", "_anchor"));
        put(Key.JT_STATE, offset("JavaThread", "_thread_state"));
        put(Key.JT_STACK_BASE, offset("JavaThread", "_stack_base", "Thread", "_stack_base"));
        put(Key.ANCHOR_SP, offset("JavaFrameAnchor", "_last_Java_sp"));
        put(Key.ANCHOR_PC, offset("JavaFrameAnchor", "_last_Java_pc"));
        put(Key.ANCHOR_FP, offset("JavaFrameAnchor", "_last_Java_fp"));
        put(Key.JCW_ANCHOR, offset("JavaCallWrapper", "_anchor"));
        put(Key.ENTRY_CW_SLOT, constant("frame::entry_frame_call_wrapper_offset"));
        // x86-64 interpreter frame, in words from fp: sender sp -1, last sp -2, Method* -3, mirror -4,
        // mdp -5, cache -6, locals -7, bcp -8 (frame_x86.hpp). VMStructs exports the first two.
        long lastSp = constant("frame::interpreter_frame_last_sp_offset");
        put(Key.INTERP_METHOD_SLOT, lastSp - 1);
        put(Key.INTERP_BCP_SLOT, lastSp - 6);
        put(Key.INTERP_SENDER_SP_SLOT, constant("frame::interpreter_frame_sender_sp_offset"));
        put(Key.HEAP_MEMORY, offset("CodeHeap", "_memory"));
        put(Key.HEAP_SEGMAP, offset("CodeHeap", "_segmap"));
        put(Key.HEAP_LOG2, offset("CodeHeap", "_log2_segment_size"));
        put(Key.VS_LOW, offset("VirtualSpace", "_low"));
        put(Key.VS_HIGH, offset("VirtualSpace", "_high"));
        put(Key.HEAPBLOCK_SIZE, typeSize("HeapBlock"));
        put(Key.HEAPBLOCK_USED, offset("HeapBlock::Header", "_used"));
        put(Key.GA_LEN, offset("GrowableArrayBase", "_len"));
        put(Key.GA_DATA, offset("GrowableArray<int>", "_data"));
        put(Key.CB_NAME, offset("CodeBlob", "_name"));
        put(Key.CB_FRAME_SIZE, offset("CodeBlob", "_frame_size"));
        put(Key.CB_FRAME_COMPLETE, offset("CodeBlob", "_frame_complete_offset"));
        String completeType = vm.fieldType("CodeBlob", "_frame_complete_offset");
        put(Key.CB_FRAME_COMPLETE_BYTES, completeType != null && completeType.contains("16") ? 2 : 4);
        put(Key.CB_CODE_BEGIN, optional(vm.offset("CodeBlob", "_code_begin")));      // JDK 17
        put(Key.CB_CODE_OFFSET, optional(vm.offset("CodeBlob", "_code_offset")));    // JDK 21+
        if (values[Key.CB_CODE_BEGIN.ordinal()] < 0 && values[Key.CB_CODE_OFFSET.ordinal()] < 0) {
            throw new MissingException("CodeBlob has neither _code_begin nor _code_offset");
        }
        put(Key.CB_KIND, optional(vm.offset("CodeBlob", "_kind")));                  // JDK 21+
        put(Key.KIND_NMETHOD, vm.intConstant("CodeBlobKind::Nmethod").orElse(1));
        put(Key.NM_METHOD, offset("nmethod", "_method", "CompiledMethod", "_method"));
        put(Key.NM_STATE, offset("nmethod", "_state"));
        put(Key.NM_COMPILE_ID, optional(vm.offset("nmethod", "_compile_id")));  // without it, no inlining cache
        put(Key.METHOD_CONST, offset("Method", "_constMethod"));
        put(Key.METHOD_ACCESS_FLAGS, offset("Method", "_access_flags"));
        put(Key.CM_CONSTANTS, offset("ConstMethod", "_constants"));
        put(Key.CM_IDNUM, offset("ConstMethod", "_method_idnum"));
        put(Key.CM_NAME_INDEX, offset("ConstMethod", "_name_index"));
        put(Key.CM_SIZE, typeSize("ConstMethod"));
        put(Key.CP_HOLDER, offset("ConstantPool", "_pool_holder"));
        put(Key.CP_SIZE, typeSize("ConstantPool"));
        put(Key.IK_JMIDS, offset("InstanceKlass", "_methods_jmethod_ids"));
        put(Key.KLASS_NAME, offset("Klass", "_name"));
        put(Key.CP_SOURCE_FILE_INDEX, optional(vm.offset("ConstantPool", "_source_file_name_index")));
        put(Key.SYMBOL_LENGTH, offset("Symbol", "_length"));
        put(Key.SYMBOL_BODY, offset("Symbol", "_body"));
        long[] text = libjvmRange();
        put(Key.JVM_TEXT_LOW, text[0]);
        put(Key.JVM_TEXT_HIGH, text[1]);
        put(Key.THREAD_OSTHREAD, offset("JavaThread", "_osthread", "Thread", "_osthread"));
        put(Key.OSTHREAD_TID, offset("OSThread", "_thread_id"));
        return values.clone();
    }

    /**
     * HotSpot's SafeFetchN: a load whose fault the JVM's own SIGSEGV handler turns into an error
     * value. A static function in libjvm's symbol table on current JDKs; a generated stub, reached
     * through StubRoutines, on older ones. 0 when neither is found (the walker then uses a system call).
     */
    private static long safeFetch() {
        OptionalLong quick = safeFetchFromFile();
        if (quick.isPresent()) return quick.getAsLong();
        Symbolizer symbols = Symbolizer.shared();
        OptionalLong impl = symbols.addressOf("libjvm.so", "SafeFetchN_impl");
        if (impl.isPresent()) return impl.getAsLong();
        OptionalLong entry = symbols.addressOf("libjvm.so", "_ZN12StubRoutines18_safefetchN_entryE");
        return entry.isPresent() ? new Pointer(entry.getAsLong()).getLong(0) : 0;
    }

    /**
     * SafeFetchN from libjvm's file without loading its whole symbol table: its link-time distance
     * from AsyncGetCallTrace (exported, so its runtime address is known) added to that address. Only
     * when the file on disk is the mapped one (same inode, not deleted); empty otherwise.
     */
    private static OptionalLong safeFetchFromFile() {
        try {
            Path path = VMStructs.libjvmPath().orElse(null);
            if (path == null || !isMappedFile(path)) return OptionalLong.empty();
            String agct = "AsyncGetCallTrace", impl = "SafeFetchN_impl", entry = "_ZN12StubRoutines18_safefetchN_entryE";
            Map<String, Long> values = SymbolValues.find(path, agct, impl, entry);
            if (!values.containsKey(agct)) return OptionalLong.empty();
            long runtimeAgct = Pointer.nativeValue(VMStructs.libjvm().getFunction(agct));
            if (values.containsKey(impl)) return OptionalLong.of(runtimeAgct + values.get(impl) - values.get(agct));
            if (values.containsKey(entry)) {
                return OptionalLong.of(new Pointer(runtimeAgct + values.get(entry) - values.get(agct)).getLong(0));
            }
            return OptionalLong.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** Whether /proc/self/maps maps {@code path} with the inode the file has now. */
    private static boolean isMappedFile(Path path) throws java.io.IOException {
        if (!(Files.getAttribute(path, "unix:ino") instanceof Long ino)) return false;
        for (Mapping m : ProcessMaps.readSelf().all()) {
            if (!m.deleted() && path.toString().equals(m.path())) return m.inode() == ino;
        }
        return false;
    }

    /**
     * The span of libjvm's mappings made by the loader. Shared mappings of its file are FileChannel
     * maps (the symbolizer's string tables), anywhere in the address space: not libjvm's range.
     */
    private static long[] libjvmRange() throws MissingException {
        String path = VMStructs.libjvmPath().orElseThrow().toString();
        long low = Long.MAX_VALUE, high = 0;
        for (Mapping m : ProcessMaps.readSelf().all()) {
            if (m.deleted() || m.shared() || !path.equals(m.path())) continue;
            low = Math.min(low, m.start());
            high = Math.max(high, m.end());
        }
        if (high == 0) throw new MissingException("libjvm.so is not in /proc/self/maps (or that cannot be read)");
        return new long[] {low, high};
    }

    private void put(Key key, long value) {
        values[key.ordinal()] = value;
    }

    private long offset(String type, String field) throws MissingException {
        OptionalLong value = vm.offset(type, field);
        if (value.isEmpty()) throw new MissingException(type + "::" + field + " is not in VMStructs");
        return value.getAsLong();
    }

    private long offset(String type, String field, String otherType, String otherField) throws MissingException {
        OptionalLong value = vm.offset(type, field);
        return value.isPresent() ? value.getAsLong() : offset(otherType, otherField);
    }

    private long address(String type, String field) throws MissingException {
        OptionalLong value = vm.staticAddress(type, field);
        if (value.isEmpty()) throw new MissingException(type + "::" + field + " (static) is not in VMStructs");
        return value.getAsLong();
    }

    private long typeSize(String type) throws MissingException {
        OptionalLong value = vm.typeSize(type);
        if (value.isEmpty()) throw new MissingException("sizeof(" + type + ") is not in VMStructs");
        return value.getAsLong();
    }

    private long constant(String name) throws MissingException {
        OptionalLong value = vm.intConstant(name);
        if (value.isEmpty()) throw new MissingException(name + " is not in VMStructs");
        return value.getAsLong();
    }

    private static long optional(OptionalLong value) {
        return value.isPresent() ? value.getAsLong() : -1;
    }
}
