/*
 * What the native side knows of the running HotSpot JVM: its layout (offsets and addresses that
 * Java reads from gHotSpotVMStructs and libjvm's symbols and hands over once, read into one typed
 * struct), plus the few primitives the walker needs on top of it. Java owns the knowledge of which
 * field is called what on which JDK; C only follows the numbers.
 */
#ifndef STACKTRACE_VM_H
#define STACKTRACE_VM_H

#include <jni.h>
#include <stdint.h>

/*
 * The layout, one entry a line: its key (VM_<KEY>: its index in the array st_vm_init takes; Java
 * reads the keys' names and indices from st_abi_constant), the field of struct hotspot_layout it
 * fills, and the field's type. An offset of -1 says the field does not exist in this JDK.
 */
#define HOTSPOT_LAYOUT(X) \
    X(SAFEFETCH_N, safefetch_n, uintptr_t)                   /* SafeFetchN_impl in libjvm, or 0 */ \
    X(AGCT, async_get_call_trace, uintptr_t)                 /* AsyncGetCallTrace */ \
    X(CODE_LOW_ADDR, code_low_at, uintptr_t)                 /* &CodeCache::_low_bound */ \
    X(CODE_HIGH_ADDR, code_high_at, uintptr_t)               /* &CodeCache::_high_bound */ \
    X(CODE_HEAPS_ADDR, code_heaps_at, uintptr_t)             /* &CodeCache::_heaps */ \
    X(CALL_STUB_RETURN_ADDR, call_stub_return_at, uintptr_t) /* &StubRoutines::_call_stub_return_address */ \
    X(INTERP_LOW, interpreter_low, uintptr_t)                /* the interpreter's code */ \
    X(INTERP_HIGH, interpreter_high, uintptr_t) \
    X(JT_ANCHOR, java_thread_anchor, int64_t)                /* JavaThread::_anchor */ \
    X(JT_STATE, java_thread_state, int64_t) \
    X(JT_STACK_BASE, java_thread_stack_base, int64_t) \
    X(ANCHOR_SP, anchor_last_java_sp, int64_t)               /* JavaFrameAnchor */ \
    X(ANCHOR_PC, anchor_last_java_pc, int64_t) \
    X(ANCHOR_FP, anchor_last_java_fp, int64_t) \
    X(JCW_ANCHOR, call_wrapper_anchor, int64_t)              /* JavaCallWrapper::_anchor */ \
    X(ENTRY_CW_SLOT, entry_frame_call_wrapper_slot, int64_t) /* words from an entry frame's fp */ \
    X(INTERP_METHOD_SLOT, interpreter_method_slot, int64_t)  /* interpreter frame: Method* at fp[slot] */ \
    X(INTERP_BCP_SLOT, interpreter_bcp_slot, int64_t)        /* interpreter frame: bcp at fp[slot] */ \
    X(INTERP_SENDER_SP_SLOT, interpreter_sender_sp_slot, int64_t) \
    X(HEAP_MEMORY, code_heap_memory, int64_t)                /* CodeHeap */ \
    X(HEAP_SEGMAP, code_heap_segmap, int64_t) \
    X(HEAP_LOG2, code_heap_log2_segment_size, int64_t) \
    X(VS_LOW, virtual_space_low, int64_t)                    /* VirtualSpace */ \
    X(VS_HIGH, virtual_space_high, int64_t) \
    X(HEAPBLOCK_SIZE, heap_block_size, int64_t)              /* sizeof(HeapBlock) */ \
    X(HEAPBLOCK_USED, heap_block_used, int64_t) \
    X(GA_LEN, growable_array_len, int64_t)                   /* GrowableArray */ \
    X(GA_DATA, growable_array_data, int64_t) \
    X(CB_NAME, code_blob_name, int64_t)                      /* CodeBlob */ \
    X(CB_FRAME_SIZE, code_blob_frame_size, int64_t) \
    X(CB_FRAME_COMPLETE, code_blob_frame_complete, int64_t) \
    X(CB_FRAME_COMPLETE_BYTES, code_blob_frame_complete_bytes, int64_t) /* its width: 2 or 4 */ \
    X(CB_CODE_BEGIN, code_blob_code_begin, int64_t)          /* JDK 17: CodeBlob::_code_begin, else -1 */ \
    X(CB_CODE_OFFSET, code_blob_code_offset, int64_t)        /* JDK 21+: CodeBlob::_code_offset, else -1 */ \
    X(CB_KIND, code_blob_kind, int64_t)                      /* JDK 21+: CodeBlob::_kind, else -1 */ \
    X(KIND_NMETHOD, kind_nmethod, int64_t)                   /* the _kind value of an nmethod */ \
    X(NM_METHOD, nmethod_method, int64_t)                    /* nmethod */ \
    X(NM_STATE, nmethod_state, int64_t) \
    X(NM_COMPILE_ID, nmethod_compile_id, int64_t)            /* nmethod::_compile_id, or -1 */ \
    X(METHOD_CONST, method_const_method, int64_t)            /* Method */ \
    X(METHOD_ACCESS_FLAGS, method_access_flags, int64_t) \
    X(CM_CONSTANTS, const_method_constants, int64_t)         /* ConstMethod */ \
    X(CM_IDNUM, const_method_idnum, int64_t) \
    X(CM_NAME_INDEX, const_method_name_index, int64_t) \
    X(CM_SIZE, const_method_size, int64_t)                   /* sizeof(ConstMethod): bytecodes follow */ \
    X(CP_HOLDER, constant_pool_holder, int64_t)              /* ConstantPool */ \
    X(CP_SIZE, constant_pool_size, int64_t)                  /* sizeof(ConstantPool): entries follow */ \
    X(IK_JMIDS, instance_klass_jmethod_ids, int64_t)         /* InstanceKlass::_methods_jmethod_ids */ \
    X(KLASS_NAME, klass_name, int64_t) \
    X(CP_SOURCE_FILE_INDEX, constant_pool_source_file_index, int64_t) \
    X(SYMBOL_LENGTH, symbol_length, int64_t)                 /* Symbol */ \
    X(SYMBOL_BODY, symbol_body, int64_t) \
    X(JVM_TEXT_LOW, libjvm_low, uintptr_t)                   /* libjvm's mapped range, to trust CodeBlob::_name */ \
    X(JVM_TEXT_HIGH, libjvm_high, uintptr_t) \
    X(THREAD_OSTHREAD, thread_osthread, int64_t)             /* to check the JNIEnv offset found at start */ \
    X(OSTHREAD_TID, osthread_thread_id, int64_t)

enum st_vm_key {
#define VM_KEY(key, field, type) VM_##key,
    HOTSPOT_LAYOUT(VM_KEY)
#undef VM_KEY
    VM_KEYS
};

struct hotspot_layout {
#define VM_FIELD(key, field, type) type field;
    HOTSPOT_LAYOUT(VM_FIELD)
#undef VM_FIELD
};

/* Filled once by st_vm_init, before vm_ready is set; read-only afterwards. */
extern struct hotspot_layout hotspot;
extern int vm_ready;
extern JavaVM *vm_java;

int vm_in_code_cache(uintptr_t pc);
int vm_in_interpreter(uintptr_t pc);
/* The CodeBlob holding pc, or 0. */
uintptr_t vm_find_blob(uintptr_t pc);
int vm_blob_is_nmethod(uintptr_t blob);
int vm_blob_frame_size(uintptr_t blob);          /* in words; <= 0 when it has none */
int vm_blob_in_prologue(uintptr_t blob, uintptr_t pc);
/* The Java method of an nmethod, or 0 (not an nmethod, or no longer alive). */
uintptr_t vm_nmethod_method(uintptr_t blob);
/* The compile id of an nmethod (HotSpot never gives one twice), or 0 when unknown. */
int32_t vm_nmethod_compile_id(uintptr_t blob);
/* Whether a Method* is a native method. */
int vm_method_is_native(uintptr_t method);
/* Method* -> its jmethodID the way AsyncGetCallTrace finds it, or 0. */
uintptr_t vm_method_jmethod_id(uintptr_t method);
/* An interpreted frame's bytecode index from its bcp, or -1. */
int vm_interpreted_bci(uintptr_t method, uintptr_t bcp);
/* JavaThread* of the calling thread (in a signal handler too), or 0 for a thread the VM does not know. */
uintptr_t vm_current_java_thread(JNIEnv **env_out);

/* Copies a Symbol's UTF-8 into out (NUL-terminated, truncated to outlen-1); returns the full length or -1. */
int vm_symbol_string(uintptr_t symbol, char *out, int outlen, int *truncated);
/* Class name (binary, with dots), method name and source file of a Method*, from the VM's own structures. */
int vm_method_names(uintptr_t method, char *klass, int klass_len, int *klass_trunc, char *name, int name_len,
                    int *name_trunc, char *file, int file_len, int *file_trunc);

#endif
