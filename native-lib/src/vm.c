/*
 * Reading the JVM's own structures from inside any thread, signal handlers included.
 *
 * Every load of VM memory is a safe_load (safe_access.h): HotSpot's SafeFetchN, whose fault the
 * JVM's own SIGSEGV handler turns into an error value, so a stale pointer ends a walk instead of
 * crashing the process (without SafeFetchN, process_vm_readv on our own pid: as safe, but a system
 * call per word).
 */
#define _GNU_SOURCE
#include "vm.h"
#include "jvmti.h"
#include "safe_access.h"
#include "stacktrace.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct hotspot_layout hotspot;
int vm_ready;
JavaVM *vm_java;

static long jni_env_offset = -1;
static long thread_key = -1;
static uintptr_t jni_functions;   /* JNIEnv->functions of every JavaThread */

int vm_in_code_cache(uintptr_t pc) {
    int ok1, ok2;
    uintptr_t low = safe_load(hotspot.code_low_at, &ok1);
    uintptr_t high = safe_load(hotspot.code_high_at, &ok2);
    return ok1 && ok2 && pc >= low && pc < high;
}

int vm_in_interpreter(uintptr_t pc) {
    return pc >= hotspot.interpreter_low && pc < hotspot.interpreter_high;
}

uintptr_t vm_find_blob(uintptr_t pc) {
    if (!vm_in_code_cache(pc)) return 0;
    int ok;
    uintptr_t heaps = safe_load(hotspot.code_heaps_at, &ok);
    if (!ok) return 0;
    int32_t count;
    if (!safe_load_i32(heaps + hotspot.growable_array_len, &count) || count <= 0 || count > 16) return 0;
    uintptr_t data = safe_load(heaps + hotspot.growable_array_data, &ok);
    if (!ok) return 0;
    for (int i = 0; i < count; i++) {
        uintptr_t heap = safe_load(data + 8 * (uintptr_t) i, &ok);
        if (!ok) return 0;
        uintptr_t low = safe_load(heap + hotspot.code_heap_memory + hotspot.virtual_space_low, &ok);
        if (!ok) continue;
        uintptr_t high = safe_load(heap + hotspot.code_heap_memory + hotspot.virtual_space_high, &ok);
        if (!ok || pc < low || pc >= high) continue;
        int32_t log2;
        if (!safe_load_i32(heap + hotspot.code_heap_log2_segment_size, &log2) || log2 < 4 || log2 > 16) return 0;
        uintptr_t map = safe_load(heap + hotspot.code_heap_segmap + hotspot.virtual_space_low, &ok);
        if (!ok) return 0;
        /* The segment map says, for each segment, how far back its block starts (0xFF: free). */
        uintptr_t segment = (pc - low) >> log2;
        for (int steps = 0; steps < 4096; steps++) {
            uint8_t back;
            if (!safe_load_u8(map + segment, &back) || back == 0xFF) return 0;
            if (back == 0) break;
            if (back > segment) return 0;
            segment -= back;
        }
        uintptr_t block = low + (segment << log2);
        uint8_t used;
        if (!safe_load_u8(block + hotspot.heap_block_used, &used) || !used) return 0;
        return block + (uintptr_t) hotspot.heap_block_size;
    }
    return 0;
}

int vm_blob_is_nmethod(uintptr_t blob) {
    if (hotspot.code_blob_kind >= 0) {
        uint8_t kind;
        return safe_load_u8(blob + hotspot.code_blob_kind, &kind) && kind == hotspot.kind_nmethod;
    }
    /* JDK 17: nmethods are named "nmethod" (or "native nmethod"): a string in libjvm. */
    int ok;
    uintptr_t name = safe_load(blob + hotspot.code_blob_name, &ok);
    if (!ok || name < hotspot.libjvm_low || name >= hotspot.libjvm_high) return 0;
    char text[24];
    for (int i = 0; i < (int) sizeof text; i++) {
        if (!safe_load_u8(name + (uintptr_t) i, (uint8_t *) &text[i])) return 0;
        if (text[i] == '\0') {
            return i >= 7 && memcmp(text + i - 7, "nmethod", 7) == 0;
        }
    }
    return 0;
}

int vm_blob_frame_size(uintptr_t blob) {
    int32_t size;
    return safe_load_i32(blob + hotspot.code_blob_frame_size, &size) ? size : 0;
}

/* Where a blob's instructions start; *ok = 0 if that cannot be read. */
static uintptr_t blob_code(uintptr_t blob, int *ok) {
    if (hotspot.code_blob_code_begin >= 0) return safe_load(blob + hotspot.code_blob_code_begin, ok);
    int32_t offset;
    *ok = safe_load_i32(blob + hotspot.code_blob_code_offset, &offset);
    return blob + (uintptr_t) offset;
}

int st_code_blob_name(int64_t pc, int64_t *code, char *out, int outlen) {
    if (!vm_ready || code == NULL || out == NULL || outlen <= 0 || !vm_in_code_cache((uintptr_t) pc)) return -1;
    uintptr_t blob = vm_find_blob((uintptr_t) pc);
    int ok;
    if (blob == 0 || vm_blob_is_nmethod(blob)) return -1;
    uintptr_t name = safe_load(blob + hotspot.code_blob_name, &ok);
    /* the names are string constants in libjvm: anything else is not a name */
    if (!ok || name < hotspot.libjvm_low || name >= hotspot.libjvm_high) return -1;
    int n = 0;
    for (; n < outlen - 1; n++) {
        if (!safe_load_u8(name + (uintptr_t) n, (uint8_t *) &out[n])) return -1;
        if (out[n] == '\0') break;
    }
    out[n] = '\0';
    *code = (int64_t) blob_code(blob, &ok);
    return ok && n > 0 ? n : -1;
}

int vm_blob_in_prologue(uintptr_t blob, uintptr_t pc) {
    int ok;
    uintptr_t code = blob_code(blob, &ok);
    int32_t complete = -1;
    if (hotspot.code_blob_frame_complete_bytes == 2) {
        uint16_t c16;
        if (safe_load_u16(blob + hotspot.code_blob_frame_complete, &c16)) complete = (int16_t) c16;
    } else {
        safe_load_i32(blob + hotspot.code_blob_frame_complete, &complete);
    }
    return !ok || complete < 0 || pc < code + (uintptr_t) complete;
}

uintptr_t vm_nmethod_method(uintptr_t blob) {
    if (!vm_blob_is_nmethod(blob)) return 0;
    uint8_t state;
    /* in_use 0, not_used 1, not_entrant 2; beyond that (zombie/unloaded on 17) the Method may be gone */
    if (!safe_load_u8(blob + hotspot.nmethod_state, &state) || state > 2) return 0;
    int ok;
    uintptr_t method = safe_load(blob + hotspot.nmethod_method, &ok);
    return ok ? method : 0;
}

int32_t vm_nmethod_compile_id(uintptr_t blob) {
    int32_t id;
    if (hotspot.nmethod_compile_id < 0 || !safe_load_i32(blob + hotspot.nmethod_compile_id, &id)) return 0;
    return id > 0 ? id : 0;
}

int vm_method_is_native(uintptr_t method) {
    int32_t flags;
    return method != 0 && safe_load_i32(method + hotspot.method_access_flags, &flags) && (flags & 0x0100);
}

uintptr_t vm_method_jmethod_id(uintptr_t method) {
    int ok;
    uintptr_t cm = safe_load(method + hotspot.method_const_method, &ok);
    if (!ok) return 0;
    uintptr_t cp = safe_load(cm + hotspot.const_method_constants, &ok);
    if (!ok) return 0;
    uint16_t idnum;
    if (!safe_load_u16(cm + hotspot.const_method_idnum, &idnum)) return 0;
    uintptr_t holder = safe_load(cp + hotspot.constant_pool_holder, &ok);
    if (!ok) return 0;
    uintptr_t ids = safe_load(holder + hotspot.instance_klass_jmethod_ids, &ok);
    if (!ok || ids == 0) return 0;
    uintptr_t length = safe_load(ids, &ok);  /* ids[0] is the array's length */
    if (!ok || (uintptr_t) idnum + 1 > length) return 0;
    uintptr_t id = safe_load(ids + 8 * ((uintptr_t) idnum + 1), &ok);
    return ok ? id : 0;
}

int vm_interpreted_bci(uintptr_t method, uintptr_t bcp) {
    int ok;
    uintptr_t cm = safe_load(method + hotspot.method_const_method, &ok);
    if (!ok) return -1;
    uintptr_t code = cm + (uintptr_t) hotspot.const_method_size;  /* bytecodes follow the ConstMethod */
    if (bcp < code || bcp - code > 65535) return -1;
    return (int) (bcp - code);
}

uintptr_t vm_current_java_thread(JNIEnv **env_out) {
    if (!vm_ready || jni_env_offset < 0 || thread_key < 0) return 0;
    /* HotSpot's own pthread key for the current Thread*: a read of this thread's key array, no
       allocation and no lock (glibc keeps it in struct pthread; HotSpot's handlers read it the same
       way). Unlike GetEnv, this never touches libjvm's dynamic TLS, whose first use in a thread can
       allocate. A thread without a JavaThread (native, or not yet attached) reads NULL. */
    uintptr_t thread = (uintptr_t) pthread_getspecific((pthread_key_t) thread_key);
    if (thread == 0) return 0;
    /* a JavaThread, not another kind of Thread (GC, compiler-less VM threads): it has a JNIEnv
       whose functions table is the VM's */
    int ok;
    uintptr_t functions = safe_load(thread + (uintptr_t) jni_env_offset, &ok);
    if (!ok || functions != jni_functions) return 0;
    if (env_out != NULL) *env_out = (JNIEnv *) (thread + (uintptr_t) jni_env_offset);
    return thread;
}

/* Finds the pthread key under which HotSpot keeps the current Thread*: the one whose value, in
   this (Java) thread, is our JavaThread. -1 if there is none (then no thread counts as Java). */
static long find_thread_key(uintptr_t java_thread) {
    for (long key = 0; key < PTHREAD_KEYS_MAX; key++) {
        if ((uintptr_t) pthread_getspecific((pthread_key_t) key) == java_thread) return key;
    }
    return -1;
}

int vm_symbol_string(uintptr_t symbol, char *out, int outlen, int *truncated) {
    uint16_t length;
    *truncated = 0;
    if (outlen <= 0) return -1;
    out[0] = '\0';
    if (symbol == 0 || !safe_load_u16(symbol + hotspot.symbol_length, &length)) return -1;
    int n = length < outlen - 1 ? length : outlen - 1;
    for (int i = 0; i < n; i++) {
        if (!safe_load_u8(symbol + hotspot.symbol_body + (uintptr_t) i, (uint8_t *) &out[i])) { out[i] = '\0'; return -1; }
    }
    out[n] = '\0';
    *truncated = n < length;
    return length;
}

static uintptr_t constant_pool_symbol(uintptr_t cp, uint16_t index) {
    int ok;
    uintptr_t symbol = safe_load(cp + (uintptr_t) hotspot.constant_pool_size + 8 * (uintptr_t) index, &ok);
    return ok ? symbol & ~(uintptr_t) 1 : 0;  /* the low bit tags some entries */
}

int vm_method_names(uintptr_t method, char *klass, int klass_len, int *klass_trunc, char *name, int name_len,
                    int *name_trunc, char *file, int file_len, int *file_trunc) {
    int ok;
    uintptr_t cm = safe_load(method + hotspot.method_const_method, &ok);
    if (!ok) return -1;
    uintptr_t cp = safe_load(cm + hotspot.const_method_constants, &ok);
    if (!ok) return -1;
    uintptr_t holder = safe_load(cp + hotspot.constant_pool_holder, &ok);
    if (!ok) return -1;
    uint16_t index;
    if (!safe_load_u16(cm + hotspot.const_method_name_index, &index)) return -1;
    if (vm_symbol_string(constant_pool_symbol(cp, index), name, name_len, name_trunc) < 0) return -1;
    if (vm_symbol_string(safe_load(holder + hotspot.klass_name, &ok), klass, klass_len, klass_trunc) < 0) return -1;
    /* Class.getName()'s form: dots for slashes, and a hidden class's "+0x..." suffix after a slash */
    char *hidden = NULL;
    for (char *c = klass; *c; c++) {
        if (*c == '/') *c = '.';
        else if (c[0] == '+' && c[1] == '0' && c[2] == 'x') hidden = c;
    }
    if (hidden != NULL) *hidden = '/';
    file[0] = '\0';
    *file_trunc = 0;
    if (hotspot.constant_pool_source_file_index >= 0 && safe_load_u16(cp + hotspot.constant_pool_source_file_index, &index) && index != 0) {
        vm_symbol_string(constant_pool_symbol(cp, index), file, file_len, file_trunc);
    }
    return 0;
}

/* JavaThread::_jni_environment is not in VMStructs: find it from the calling (Java) thread, whose
   JavaThread we can recognise: its stack base is ours, its anchor is on our stack, it is in native,
   and its OSThread holds our tid. */
static long find_jni_env_offset(JNIEnv *env) {
    pthread_attr_t attr;
    void *stack;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return -1;
    pthread_attr_getstack(&attr, &stack, &size);
    pthread_attr_destroy(&attr);
    uintptr_t base = (uintptr_t) stack + size, here = (uintptr_t) &attr;
    pid_t tid = (pid_t) st_gettid();
    for (long k = 8; k < 8192; k += 8) {
        uintptr_t jt = (uintptr_t) env - (uintptr_t) k;
        int ok1, ok2, ok3;
        int32_t state, os_tid;
        uintptr_t stack_base = safe_load(jt + hotspot.java_thread_stack_base, &ok1);
        uintptr_t anchor_sp = safe_load(jt + hotspot.java_thread_anchor + hotspot.anchor_last_java_sp, &ok2);
        if (!ok1 || !ok2 || stack_base != base || anchor_sp <= here || anchor_sp >= base) continue;
        if (!safe_load_i32(jt + hotspot.java_thread_state, &state) || state != 4 /* _thread_in_native */) continue;
        uintptr_t osthread = safe_load(jt + hotspot.thread_osthread, &ok3);
        if (!ok3 || !safe_load_i32(osthread + hotspot.osthread_thread_id, &os_tid) || os_tid != tid) continue;
        return k;
    }
    return -1;
}

int vm_setup(const int64_t *layout, int count, JavaVM *java_vm, JNIEnv *env) {
    if (count != VM_KEYS) return -EINVAL;
#define VM_FILL(key, field, type) hotspot.field = (type) layout[VM_##key];
    HOTSPOT_LAYOUT(VM_FILL)
#undef VM_FILL
    safe_access_use_safefetch(hotspot.safefetch_n);
    vm_java = java_vm;
    jni_env_offset = find_jni_env_offset(env);
    if (jni_env_offset < 0) return -ENOENT;
    jni_functions = (uintptr_t) (*env);
    thread_key = find_thread_key((uintptr_t) env - (uintptr_t) jni_env_offset);
    if (thread_key < 0) return -ENOENT;
    vm_ready = 1;
    return 0;
}

int st_vm_init(JNIEnv *env, const int64_t *layout, int count) {
    if (env == NULL || layout == NULL) return -EINVAL;
    JavaVM *java_vm;
    if ((*env)->GetJavaVM(env, &java_vm) != JNI_OK) return -EINVAL;
    int rc = vm_setup(layout, count, java_vm, env);
    if (rc != 0) return rc;
    return jvmti_setup(java_vm, env) == 0 ? 0 : -ST_EJVMTI;
}

