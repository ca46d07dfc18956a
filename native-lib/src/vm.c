/*
 * Reading the JVM's own structures from inside any thread, signal handlers included.
 *
 * Every load of VM memory goes through HotSpot's SafeFetchN: a fault inside it is caught by the
 * JVM's own SIGSEGV handler, which resumes with an error value, so a stale pointer ends a walk
 * instead of crashing the process. (Without SafeFetchN we fall back to process_vm_readv on our own
 * pid: as safe, but a system call per word.) Reads of the interrupted thread's own stack need no
 * such care: the walker only reads between the interrupted sp and the stack base.
 */
#define _GNU_SOURCE
#include "vm.h"
#include "jvmti.h"
#include "stacktrace.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int64_t vm_layout[VM_KEYS];
int vm_ready;
JavaVM *vm_java;

static long jni_env_offset = -1;
static long thread_key = -1;
static uintptr_t jni_functions;   /* JNIEnv->functions of every JavaThread */

typedef intptr_t (*safefetch_fn)(intptr_t *, intptr_t);
#define SENTINEL_A ((intptr_t) 0x5afe5afe5afe5afeLL)
#define SENTINEL_B ((intptr_t) 0x0badc0de0badc0deLL)

uintptr_t vm_load(uintptr_t addr, int *ok) {
    if (addr < 4096 || (addr & 7) != 0) { *ok = 0; return 0; }
    safefetch_fn fetch = (safefetch_fn) (uintptr_t) VM(VM_SAFEFETCH_N);
    if (fetch != NULL) {
        intptr_t v = fetch((intptr_t *) addr, SENTINEL_A);
        if (v == SENTINEL_A) v = fetch((intptr_t *) addr, SENTINEL_B);
        if (v == SENTINEL_B) { *ok = 0; return 0; }
        *ok = 1;
        return (uintptr_t) v;
    }
    uintptr_t value = 0;
    *ok = vm_read_word(addr, &value);
    return value;
}

int vm_read_word(uintptr_t addr, uintptr_t *out) {
    uintptr_t value = 0;
    struct iovec local = {&value, sizeof value}, remote = {(void *) addr, sizeof value};
    int ok = syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) == (long) sizeof value;
    *out = ok ? value : 0;
    return ok;
}

/* Narrow loads read the aligned word that holds them (little-endian). */
static int load_bytes(uintptr_t addr, void *out, size_t n) {
    uintptr_t base = addr & ~(uintptr_t) 7;
    size_t shift = addr - base;
    if (shift + n > 8) return 0;
    int ok;
    uintptr_t word = vm_load(base, &ok);
    if (!ok) return 0;
    memcpy(out, (const char *) &word + shift, n);
    return 1;
}

int vm_load_u8(uintptr_t addr, uint8_t *out) { return load_bytes(addr, out, 1); }
int vm_load_u16(uintptr_t addr, uint16_t *out) { return load_bytes(addr, out, 2); }
int vm_load_i32(uintptr_t addr, int32_t *out) { return load_bytes(addr, out, 4); }

int vm_in_code_cache(uintptr_t pc) {
    int ok1, ok2;
    uintptr_t low = vm_load((uintptr_t) VM(VM_CODE_LOW_ADDR), &ok1);
    uintptr_t high = vm_load((uintptr_t) VM(VM_CODE_HIGH_ADDR), &ok2);
    return ok1 && ok2 && pc >= low && pc < high;
}

int vm_in_interpreter(uintptr_t pc) {
    return pc >= (uintptr_t) VM(VM_INTERP_LOW) && pc < (uintptr_t) VM(VM_INTERP_HIGH);
}

uintptr_t vm_find_blob(uintptr_t pc) {
    if (!vm_in_code_cache(pc)) return 0;
    int ok;
    uintptr_t heaps = vm_load((uintptr_t) VM(VM_CODE_HEAPS_ADDR), &ok);
    if (!ok) return 0;
    int32_t count;
    if (!vm_load_i32(heaps + VM(VM_GA_LEN), &count) || count <= 0 || count > 16) return 0;
    uintptr_t data = vm_load(heaps + VM(VM_GA_DATA), &ok);
    if (!ok) return 0;
    for (int i = 0; i < count; i++) {
        uintptr_t heap = vm_load(data + 8 * (uintptr_t) i, &ok);
        if (!ok) return 0;
        uintptr_t low = vm_load(heap + VM(VM_HEAP_MEMORY) + VM(VM_VS_LOW), &ok);
        if (!ok) continue;
        uintptr_t high = vm_load(heap + VM(VM_HEAP_MEMORY) + VM(VM_VS_HIGH), &ok);
        if (!ok || pc < low || pc >= high) continue;
        int32_t log2;
        if (!vm_load_i32(heap + VM(VM_HEAP_LOG2), &log2) || log2 < 4 || log2 > 16) return 0;
        uintptr_t map = vm_load(heap + VM(VM_HEAP_SEGMAP) + VM(VM_VS_LOW), &ok);
        if (!ok) return 0;
        /* The segment map says, for each segment, how far back its block starts (0xFF: free). */
        uintptr_t segment = (pc - low) >> log2;
        for (int steps = 0; steps < 4096; steps++) {
            uint8_t back;
            if (!vm_load_u8(map + segment, &back) || back == 0xFF) return 0;
            if (back == 0) break;
            if (back > segment) return 0;
            segment -= back;
        }
        uintptr_t block = low + (segment << log2);
        uint8_t used;
        if (!vm_load_u8(block + VM(VM_HEAPBLOCK_USED), &used) || !used) return 0;
        return block + (uintptr_t) VM(VM_HEAPBLOCK_SIZE);
    }
    return 0;
}

int vm_blob_is_nmethod(uintptr_t blob) {
    if (VM(VM_CB_KIND) >= 0) {
        uint8_t kind;
        return vm_load_u8(blob + VM(VM_CB_KIND), &kind) && kind == VM(VM_KIND_NMETHOD);
    }
    /* JDK 17: nmethods are named "nmethod" (or "native nmethod"): a string in libjvm. */
    int ok;
    uintptr_t name = vm_load(blob + VM(VM_CB_NAME), &ok);
    if (!ok || name < (uintptr_t) VM(VM_JVM_TEXT_LOW) || name >= (uintptr_t) VM(VM_JVM_TEXT_HIGH)) return 0;
    char text[24];
    for (int i = 0; i < (int) sizeof text; i++) {
        if (!load_bytes(name + i, &text[i], 1)) return 0;
        if (text[i] == '\0') {
            return i >= 7 && memcmp(text + i - 7, "nmethod", 7) == 0;
        }
    }
    return 0;
}

int vm_blob_frame_size(uintptr_t blob) {
    int32_t size;
    return vm_load_i32(blob + VM(VM_CB_FRAME_SIZE), &size) ? size : 0;
}

/* Where a blob's instructions start; *ok = 0 if that cannot be read. */
static uintptr_t blob_code(uintptr_t blob, int *ok) {
    if (VM(VM_CB_CODE_BEGIN) >= 0) return vm_load(blob + VM(VM_CB_CODE_BEGIN), ok);
    int32_t offset;
    *ok = vm_load_i32(blob + VM(VM_CB_CODE_OFFSET), &offset);
    return blob + (uintptr_t) offset;
}

int st_code_blob_name(int64_t pc, int64_t *code, char *out, int outlen) {
    if (!vm_ready || code == NULL || out == NULL || outlen <= 0 || !vm_in_code_cache((uintptr_t) pc)) return -1;
    uintptr_t blob = vm_find_blob((uintptr_t) pc);
    int ok;
    if (blob == 0 || vm_blob_is_nmethod(blob)) return -1;
    uintptr_t name = vm_load(blob + VM(VM_CB_NAME), &ok);
    /* the names are string constants in libjvm: anything else is not a name */
    if (!ok || name < (uintptr_t) VM(VM_JVM_TEXT_LOW) || name >= (uintptr_t) VM(VM_JVM_TEXT_HIGH)) return -1;
    int n = 0;
    for (; n < outlen - 1; n++) {
        if (!load_bytes(name + (uintptr_t) n, &out[n], 1)) return -1;
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
    if (VM(VM_CB_FRAME_COMPLETE_BYTES) == 2) {
        uint16_t c16;
        if (vm_load_u16(blob + VM(VM_CB_FRAME_COMPLETE), &c16)) complete = (int16_t) c16;
    } else {
        vm_load_i32(blob + VM(VM_CB_FRAME_COMPLETE), &complete);
    }
    return !ok || complete < 0 || pc < code + (uintptr_t) complete;
}

uintptr_t vm_nmethod_method(uintptr_t blob) {
    if (!vm_blob_is_nmethod(blob)) return 0;
    uint8_t state;
    /* in_use 0, not_used 1, not_entrant 2; beyond that (zombie/unloaded on 17) the Method may be gone */
    if (!vm_load_u8(blob + VM(VM_NM_STATE), &state) || state > 2) return 0;
    int ok;
    uintptr_t method = vm_load(blob + VM(VM_NM_METHOD), &ok);
    return ok ? method : 0;
}

uintptr_t vm_method_jmethod_id(uintptr_t method) {
    int ok;
    uintptr_t cm = vm_load(method + VM(VM_METHOD_CONST), &ok);
    if (!ok) return 0;
    uintptr_t cp = vm_load(cm + VM(VM_CM_CONSTANTS), &ok);
    if (!ok) return 0;
    uint16_t idnum;
    if (!vm_load_u16(cm + VM(VM_CM_IDNUM), &idnum)) return 0;
    uintptr_t holder = vm_load(cp + VM(VM_CP_HOLDER), &ok);
    if (!ok) return 0;
    uintptr_t ids = vm_load(holder + VM(VM_IK_JMIDS), &ok);
    if (!ok || ids == 0) return 0;
    uintptr_t length = vm_load(ids, &ok);  /* ids[0] is the array's length */
    if (!ok || (uintptr_t) idnum + 1 > length) return 0;
    uintptr_t id = vm_load(ids + 8 * ((uintptr_t) idnum + 1), &ok);
    return ok ? id : 0;
}

int vm_interpreted_bci(uintptr_t method, uintptr_t bcp) {
    int ok;
    uintptr_t cm = vm_load(method + VM(VM_METHOD_CONST), &ok);
    if (!ok) return -1;
    uintptr_t code = cm + (uintptr_t) VM(VM_CM_SIZE);  /* bytecodes follow the ConstMethod */
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
    uintptr_t functions = vm_load(thread + (uintptr_t) jni_env_offset, &ok);
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
    if (symbol == 0 || !vm_load_u16(symbol + VM(VM_SYMBOL_LENGTH), &length)) return -1;
    int n = length < outlen - 1 ? length : outlen - 1;
    for (int i = 0; i < n; i++) {
        if (!load_bytes(symbol + VM(VM_SYMBOL_BODY) + i, &out[i], 1)) { out[i] = '\0'; return -1; }
    }
    out[n] = '\0';
    *truncated = n < length;
    return length;
}

static uintptr_t constant_pool_symbol(uintptr_t cp, uint16_t index) {
    int ok;
    uintptr_t symbol = vm_load(cp + (uintptr_t) VM(VM_CP_SIZE) + 8 * (uintptr_t) index, &ok);
    return ok ? symbol & ~(uintptr_t) 1 : 0;  /* the low bit tags some entries */
}

int vm_method_names(uintptr_t method, char *klass, int klass_len, int *klass_trunc, char *name, int name_len,
                    int *name_trunc, char *file, int file_len, int *file_trunc) {
    int ok;
    uintptr_t cm = vm_load(method + VM(VM_METHOD_CONST), &ok);
    if (!ok) return -1;
    uintptr_t cp = vm_load(cm + VM(VM_CM_CONSTANTS), &ok);
    if (!ok) return -1;
    uintptr_t holder = vm_load(cp + VM(VM_CP_HOLDER), &ok);
    if (!ok) return -1;
    uint16_t index;
    if (!vm_load_u16(cm + VM(VM_CM_NAME_INDEX), &index)) return -1;
    if (vm_symbol_string(constant_pool_symbol(cp, index), name, name_len, name_trunc) < 0) return -1;
    if (vm_symbol_string(vm_load(holder + VM(VM_KLASS_NAME), &ok), klass, klass_len, klass_trunc) < 0) return -1;
    /* Class.getName()'s form: dots for slashes, and a hidden class's "+0x..." suffix after a slash */
    char *hidden = NULL;
    for (char *c = klass; *c; c++) {
        if (*c == '/') *c = '.';
        else if (c[0] == '+' && c[1] == '0' && c[2] == 'x') hidden = c;
    }
    if (hidden != NULL) *hidden = '/';
    file[0] = '\0';
    *file_trunc = 0;
    if (VM(VM_CP_SOURCE_FILE_INDEX) >= 0 && vm_load_u16(cp + VM(VM_CP_SOURCE_FILE_INDEX), &index) && index != 0) {
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
        uintptr_t stack_base = vm_load(jt + VM(VM_JT_STACK_BASE), &ok1);
        uintptr_t anchor_sp = vm_load(jt + VM(VM_JT_ANCHOR) + VM(VM_ANCHOR_SP), &ok2);
        if (!ok1 || !ok2 || stack_base != base || anchor_sp <= here || anchor_sp >= base) continue;
        if (!vm_load_i32(jt + VM(VM_JT_STATE), &state) || state != 4 /* _thread_in_native */) continue;
        uintptr_t osthread = vm_load(jt + VM(VM_THREAD_OSTHREAD), &ok3);
        if (!ok3 || !vm_load_i32(osthread + VM(VM_OSTHREAD_TID), &os_tid) || os_tid != tid) continue;
        return k;
    }
    return -1;
}

int vm_setup(const int64_t *layout, int count, JavaVM *java_vm, JNIEnv *env) {
    if (count != VM_KEYS) return -EINVAL;
    memcpy(vm_layout, layout, sizeof vm_layout);
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

int st_vm_keys(void) { return VM_KEYS; }
