/*
 * What the native side knows of the running HotSpot JVM: a table of offsets and addresses that
 * Java reads from gHotSpotVMStructs (and libjvm's symbols) and hands over once, plus the few
 * primitives the walker needs on top of it. Java owns the knowledge of which field is called what
 * on which JDK; C only follows the numbers.
 */
#ifndef STACKTRACE_VM_H
#define STACKTRACE_VM_H

#include <jni.h>
#include <stdint.h>

/* Indices of the layout array given to st_vm_init. Keep in step with HotSpotLayout.java. */
enum st_vm_key {
    VM_SAFEFETCH_N,              /* address of SafeFetchN_impl in libjvm, or 0 */
    VM_AGCT,                     /* address of AsyncGetCallTrace */
    VM_CODE_LOW_ADDR,            /* &CodeCache::_low_bound */
    VM_CODE_HIGH_ADDR,           /* &CodeCache::_high_bound */
    VM_CODE_HEAPS_ADDR,          /* &CodeCache::_heaps */
    VM_CALL_STUB_RETURN_ADDR,    /* &StubRoutines::_call_stub_return_address */
    VM_INTERP_LOW, VM_INTERP_HIGH,   /* the interpreter's code (values) */
    VM_JT_ANCHOR, VM_JT_STATE, VM_JT_STACK_BASE,
    VM_ANCHOR_SP, VM_ANCHOR_PC, VM_ANCHOR_FP,
    VM_JCW_ANCHOR,               /* JavaCallWrapper::_anchor */
    VM_ENTRY_CW_SLOT,            /* frame::entry_frame_call_wrapper_offset (words from fp) */
    VM_INTERP_METHOD_SLOT,       /* interpreter frame: Method* at fp[slot] */
    VM_INTERP_BCP_SLOT,          /* interpreter frame: bcp at fp[slot] */
    VM_INTERP_SENDER_SP_SLOT,
    VM_HEAP_MEMORY, VM_HEAP_SEGMAP, VM_HEAP_LOG2,
    VM_VS_LOW, VM_VS_HIGH,
    VM_HEAPBLOCK_SIZE, VM_HEAPBLOCK_USED,
    VM_GA_LEN, VM_GA_DATA,
    VM_CB_NAME, VM_CB_FRAME_SIZE, VM_CB_FRAME_COMPLETE, VM_CB_FRAME_COMPLETE_BYTES,
    VM_CB_CODE_BEGIN,            /* JDK 17: CodeBlob::_code_begin, else -1 */
    VM_CB_CODE_OFFSET,           /* JDK 21+: CodeBlob::_code_offset, else -1 */
    VM_CB_KIND,                  /* JDK 21+: CodeBlob::_kind, else -1 */
    VM_KIND_NMETHOD,
    VM_NM_METHOD, VM_NM_STATE,
    VM_METHOD_CONST, VM_METHOD_ACCESS_FLAGS,
    VM_CM_CONSTANTS, VM_CM_IDNUM, VM_CM_NAME_INDEX, VM_CM_SIZE,
    VM_CP_HOLDER, VM_CP_SIZE,
    VM_IK_JMIDS, VM_KLASS_NAME, VM_CP_SOURCE_FILE_INDEX,
    VM_SYMBOL_LENGTH, VM_SYMBOL_BODY,
    VM_JVM_TEXT_LOW, VM_JVM_TEXT_HIGH,   /* libjvm's mapped range, to trust CodeBlob::_name (JDK 17) */
    VM_THREAD_OSTHREAD, VM_OSTHREAD_TID, /* to check the JNIEnv offset found at start */
    VM_KEYS
};

extern int64_t vm_layout[VM_KEYS];
extern int vm_ready;
extern JavaVM *vm_java;

#define VM(key) (vm_layout[key])

/* One machine word at addr, or 0 with *ok = 0 if it cannot be read: never faults. */
uintptr_t vm_load(uintptr_t addr, int *ok);
/* One machine word by process_vm_readv on our own pid: never faults, whatever the signal mask
   (SafeFetchN relies on the JVM's SIGSEGV handler, so it must not run with SIGSEGV blocked).
   Returns 1, or 0 with *out = 0 if it cannot be read. */
int vm_read_word(uintptr_t addr, uintptr_t *out);
int vm_load_u16(uintptr_t addr, uint16_t *out);
int vm_load_i32(uintptr_t addr, int32_t *out);
int vm_load_u8(uintptr_t addr, uint8_t *out);

int vm_in_code_cache(uintptr_t pc);
int vm_in_interpreter(uintptr_t pc);
/* The CodeBlob holding pc, or 0. */
uintptr_t vm_find_blob(uintptr_t pc);
int vm_blob_is_nmethod(uintptr_t blob);
int vm_blob_frame_size(uintptr_t blob);          /* in words; <= 0 when it has none */
int vm_blob_in_prologue(uintptr_t blob, uintptr_t pc);
/* The Java method of an nmethod, or 0 (not an nmethod, or no longer alive). */
uintptr_t vm_nmethod_method(uintptr_t blob);
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
