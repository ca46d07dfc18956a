/*
 * The walk behind a mixed stack, inside the target thread's signal handler:
 *
 *  1. AsyncGetCallTrace names the Java frames (inlined ones included) with their bcis.
 *  2. A physical walk finds where those frames are: native frames by the safe unwinder down to the first
 *     pc in the JVM's code cache; then Java frames by the JVM's own layout (interpreted frames by
 *     their rbp chain, compiled frames by their CodeBlob's frame size) down to an entry frame (the
 *     call stub), below which the unwinder takes over again from the stub's caller; and so on to the
 *     thread's start. This is what puts Java -> JNI -> Java -> JNI in its true order.
 *     For a stack asked for (not the profiler's samples), AGCT is not asked when every compiled
 *     frame's methods are known from an earlier answer (inlining.c).
 *  3. mixed_merge (merge.c, in the requester) pins AGCT's frames on the physical Java frames by method; when
 *     AGCT failed or does not fit, the physical frames alone give the outer method of each frame.
 *
 * Stack memory is read directly only between the interrupted sp and the thread's stack base
 * (stack_has); everything else goes through safe_load or the safe unwinder (unwind.h), which
 * cannot fault (safe_access.h).
 */
#define _GNU_SOURCE
#include "mixed.h"
#include "stacktrace.h"
#include "vm.h"
#include "unwind.h"
#include "safe_access.h"
#include "inlining.h"

#include <jni.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct {
    JNIEnv *env_id;
    int32_t num_frames;
    struct agct_frame *frames;
} agct_trace;
typedef void (*agct_fn)(agct_trace *, int32_t, void *);

static void add_native(struct mixed_sample *s, uintptr_t ip) {
    if (s->nnative < MIXED_MAX_NATIVE) s->native[s->nnative++] = (struct native_frame) {ip, s->segments};
}

/* The native unwinder from a context until a pc in the code cache (result 1, with its pc, sp and fp) or the end (0). */
static int native_segment(struct mixed_sample *s, ucontext_t *uc, int signal_frame, uintptr_t *pc, uintptr_t *sp,
                          uintptr_t *fp) {
    struct unwind_cursor cursor;
    if (unwind_init(&cursor, uc, signal_frame) < 0) return WALK_UNWIND;
    for (int k = 0; k < MIXED_MAX_NATIVE; k++) {
        uintptr_t ip, rsp, rbp;
        if (unwind_frame(&cursor, &ip, &rsp, &rbp) < 0 || ip == 0) return WALK_BOTTOM;
        if (vm_in_code_cache(ip)) {
            *pc = ip;
            *sp = rsp;
            *fp = rbp;
            return 1;
        }
        add_native(s, ip);
        int step = unwind_step(&cursor);
        if (step == 0) return WALK_BOTTOM;
        if (step < 0) return WALK_UNWIND;  /* lost, not at the thread's start */
    }
    return WALK_FULL;
}

/* The top native segment, from the interrupted pc up to the first code-cache pc. Returns 1 at Java code. */
static int top_native_segment(struct mixed_sample *s, ucontext_t *uc, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp) {
    return native_segment(s, uc, 1, pc, sp, fp) == 1;
}

/* A byte of code, or -1. */
static int code_byte(uintptr_t addr) {
    uint8_t b;
    return safe_load_u8(addr, &b) ? b : -1;
}

/* Whether the bytes before ra end a call instruction: call rel32, or an indirect call (FF /2) through a
   register or through memory at [reg + disp8/disp32] (as the interpreter calls a method's entry). */
static int after_call(uintptr_t ra, uintptr_t *direct_target) {
    *direct_target = 0;
    if (code_byte(ra - 5) == 0xE8) {
        int32_t rel = 0;
        for (int i = 0; i < 4; i++) {
            int byte = code_byte(ra - 4 + (uintptr_t) i);
            if (byte < 0) return 0;
            rel |= (int32_t) ((uint32_t) byte << (8 * i));
        }
        *direct_target = ra + (uintptr_t) (intptr_t) rel;
        return 1;
    }
    int m2 = code_byte(ra - 1), m3 = code_byte(ra - 2), m4 = code_byte(ra - 3), m6 = code_byte(ra - 5);
    if (code_byte(ra - 2) == 0xFF && m2 >= 0xD0 && m2 <= 0xD7) return 1;                     /* call reg */
    if (code_byte(ra - 3) == 0xFF && m3 >= 0x50 && m3 <= 0x57 && m3 != 0x54) return 1;        /* call [reg+d8] */
    if (code_byte(ra - 4) == 0xFF && m4 == 0x54) return 1;                                    /* call [sib+d8] */
    if (code_byte(ra - 6) == 0xFF && m6 >= 0x90 && m6 <= 0x97 && m6 != 0x94) return 1;        /* call [reg+d32] */
    return 0;
}

/*
 * Whether ra is a return address into Java code (an nmethod or the interpreter) right after a call
 * instruction. strict: a direct call into blob at or before pc, or a call through a register; else
 * any call will do (one that reached the stub through an inline-cache stub's jump, say). Guards
 * the guesses of blob_caller against stale words that merely look like code.
 */
static int returns_into(uintptr_t ra, uintptr_t blob, uintptr_t pc, int strict) {
    if (!vm_in_code_cache(ra)) return 0;
    if (!vm_in_interpreter(ra)) {
        uintptr_t caller = vm_find_blob(ra);
        if (caller == 0 || !vm_blob_is_nmethod(caller)) return 0;
    }
    uintptr_t target;
    if (!after_call(ra, &target)) return 0;
    if (!strict) return target == 0 || vm_in_code_cache(target);
    if (target == 0) {  /* strict: only a call through a register (how far targets are called) */
        int modrm = code_byte(ra - 1);
        return code_byte(ra - 2) == 0xFF && modrm >= 0xD0 && modrm <= 0xD7;
    }
    return target <= pc && target >= blob && vm_find_blob(target) == blob;
}

/* The most a stub's frame may hold, to trust its rbp as a frame pointer. */
#define STUB_MAX_FRAME (64 * 1024)

/* Takes the caller at stack slot ra_slot if its word passes returns_into. */
static int caller_at(const struct stack_bounds *b, uintptr_t ra_slot, uintptr_t blob, uintptr_t pc, int strict,
                     uintptr_t fp, uintptr_t *next_pc, uintptr_t *next_sp, uintptr_t *next_fp) {
    if (!stack_has(b, ra_slot) || !returns_into(stack_word(ra_slot), blob, pc, strict)) return 0;
    *next_pc = stack_word(ra_slot);
    *next_sp = ra_slot + 8;
    *next_fp = fp;
    return 1;
}

/*
 * The Java frame below a top frame whose layout is not known at pc: a stub without a frame size
 * (the StubRoutines: intrinsics such as Math.sin, CRC32C, arraycopy, AES), or a compiled method in
 * its prologue. Stubs mostly set up an rbp frame right after entry (push rbp; mov rbp, rsp); before
 * that, or in a frameless stub, the return address is at [sp] or, after the push, at [sp + 8]. A
 * prologue has pushed nothing, rbp, or its whole frame (words). Each guess must pass returns_into.
 */
static int blob_caller(const struct stack_bounds *b, uintptr_t blob, int nmethod, int words, uintptr_t pc,
                       uintptr_t sp, uintptr_t fp, uintptr_t *next_pc, uintptr_t *next_sp, uintptr_t *next_fp) {
    if (!nmethod && fp >= sp && fp - sp < STUB_MAX_FRAME && stack_has(b, fp)
        && caller_at(b, fp + 8, blob, pc, 1, stack_word(fp), next_pc, next_sp, next_fp)) {
        return 1;
    }
    /* rbp may be any caller's frame pointer (even an interpreted frame far below): only a direct call
       into this blob confirms it. A word at sp is the innermost candidate: any call confirms it. */
    if (caller_at(b, sp, blob, pc, 0, fp, next_pc, next_sp, next_fp)) return 1;
    if (stack_has(b, sp) && caller_at(b, sp + 8, blob, pc, 1, stack_word(sp), next_pc, next_sp, next_fp)) return 1;
    if (nmethod && words > 2 && stack_has(b, sp + 8 * (uintptr_t) words - 16)
        && caller_at(b, sp + 8 * (uintptr_t) words - 8, blob, pc, 1, stack_word(sp + 8 * (uintptr_t) words - 16),
                     next_pc, next_sp, next_fp)) {
        return 1;
    }
    return 0;
}

/* Whether pc is where a Java frame can return to: Java code, or the call stub below the first one. */
static int java_return(uintptr_t pc, uintptr_t call_stub_return) {
    return pc == call_stub_return || vm_in_interpreter(pc) || vm_find_blob(pc) != 0;
}

/* How far an intrinsic expanded inside a compiled method may move sp below the frame (String.indexOf
   copies a short needle to the stack). */
#define MAX_DISPLACEMENT_WORDS 32

/*
 * The caller of a top compiled frame whose sp is not where its frame size says: code inlined into the
 * method pushed words (String.indexOf's intrinsic does). The frame ends at the first slot above sp + its
 * size whose word is a return address into Java code right after a call.
 */
static int displaced_caller(const struct stack_bounds *b, uintptr_t blob, int words, uintptr_t pc, uintptr_t sp,
                            uintptr_t *next_pc, uintptr_t *next_sp, uintptr_t *next_fp) {
    uintptr_t end = sp + 8 * (uintptr_t) words;
    for (uintptr_t k = 1; k <= MAX_DISPLACEMENT_WORDS; k++) {
        uintptr_t slot = end + 8 * k - 8;
        if (!stack_has(b, slot - 8)) return 0;
        if (caller_at(b, slot, blob, pc, 0, stack_word(slot - 8), next_pc, next_sp, next_fp)) return 1;
    }
    return 0;
}

/* The top frame's layout was guessed: AsyncGetCallTrace starts at its caller instead. */
static void agct_below(struct mixed_sample *s, uintptr_t pc, uintptr_t sp, uintptr_t fp) {
    s->agct_from[0] = pc;
    s->agct_from[1] = sp;
    s->agct_from[2] = fp;
}

/* One Java segment, frame by frame, down to an entry frame (returns 1, *fp = the call stub's rbp). */
static int java_segment(struct mixed_sample *s, const struct stack_bounds *b, uintptr_t *ppc, uintptr_t *psp,
                        uintptr_t *pfp, int top) {
    int ok;
    uintptr_t pc = *ppc, sp = *psp, fp = *pfp;
    uintptr_t call_stub_return = safe_load(hotspot.call_stub_return_at, &ok);
    if (!ok) return WALK_NOT_JAVA;
    for (;;) {
        if (pc == call_stub_return) { *pfp = fp; return 1; }
        if (!stack_has(b, sp)) return WALK_STACK;
        if (s->nphysical >= MIXED_MAX_PHYSICAL) return WALK_FULL;
        struct physical_frame *p = &s->physical[s->nphysical];
        uintptr_t next_pc, next_sp, next_fp;
        if (vm_in_interpreter(pc)) {
            if (fp < sp || !stack_has(b, fp + 8 * hotspot.interpreter_bcp_slot) || !stack_has(b, fp + 8)) return WALK_FP;
            uintptr_t method = stack_word(fp + 8 * hotspot.interpreter_method_slot);
            uintptr_t bcp = stack_word(fp + 8 * hotspot.interpreter_bcp_slot);
            *p = (struct physical_frame) {sp, pc, method, 0, vm_interpreted_bci(method, bcp), PHYS_INTERPRETED,
                                          (int16_t) s->segments, 0};
            next_pc = stack_word(fp + 8);
            next_fp = stack_word(fp);
            next_sp = stack_word(fp + 8 * hotspot.interpreter_sender_sp_slot);
            if (!stack_has(b, next_sp) || next_sp <= sp) next_sp = fp + 16;
        } else {
            uintptr_t blob = vm_find_blob(pc);
            if (blob == 0) return WALK_NO_BLOB;
            int words = vm_blob_frame_size(blob);
            if (!vm_blob_is_nmethod(blob)) {
                /* A stub (an intrinsic, a runtime or adapter stub): it stays on the stack as a frame. */
                *p = (struct physical_frame) {sp, pc, blob, 0, -1, PHYS_STUB, (int16_t) s->segments, 0};
                s->nphysical++;
                if (words > 0 && !vm_blob_in_prologue(blob, pc)) {
                    next_sp = sp + 8 * (uintptr_t) words;
                    if (!stack_has(b, next_sp - 16)) return WALK_STACK;
                    next_pc = stack_word(next_sp - 8);
                    next_fp = stack_word(next_sp - 16);
                } else if (!top || !blob_caller(b, blob, 0, words, pc, sp, fp, &next_pc, &next_sp, &next_fp)) {
                    return WALK_FRAME_SIZE;
                } else {
                    agct_below(s, next_pc, next_sp, next_fp);
                }
                if (next_sp <= sp) return WALK_ORDER;
                pc = next_pc;
                sp = next_sp;
                fp = next_fp;
                top = 0;
                continue;
            }
            uintptr_t method = vm_nmethod_method(blob);
            *p = (struct physical_frame) {sp, pc, method, 0, -1, PHYS_COMPILED, (int16_t) s->segments,
                                          vm_nmethod_compile_id(blob)};
            if (words <= 0) return WALK_FRAME_SIZE;
            if (top && vm_blob_in_prologue(blob, pc)) {
                /* its frame is not built yet: the caller is found by its return address */
                if (method == 0 || !blob_caller(b, blob, 1, words, pc, sp, fp, &next_pc, &next_sp, &next_fp)) {
                    return WALK_PROLOGUE;
                }
                agct_below(s, next_pc, next_sp, next_fp);
            } else {
                next_sp = sp + 8 * (uintptr_t) words;
                if (!stack_has(b, next_sp - 16)) return WALK_STACK;
                next_pc = stack_word(next_sp - 8);
                next_fp = stack_word(next_sp - 16);
                if (top && !java_return(next_pc, call_stub_return)) {
                    if (method == 0 || !displaced_caller(b, blob, words, pc, sp, &next_pc, &next_sp, &next_fp)) {
                        return WALK_NO_BLOB;
                    }
                    agct_below(s, next_pc, next_sp, next_fp);
                }
            }
        }
        s->nphysical++;
        if (next_sp <= sp) return WALK_ORDER;
        pc = next_pc;
        sp = next_sp;
        fp = next_fp;
        top = 0;
    }
}

/*
 * The native frames below a thread's outermost entry frame (JavaCalls::call_helper down to clone)
 * do not change while the thread lives, but walking them costs a step a
 * frame. So the bottom segment is cached, keyed by where it starts: the call stub's fp, the return
 * address into its caller, and two more words of that caller's frame. Entries are written by
 * handlers and read by handlers, lock-free: a version that is odd while an entry is written.
 */
#define BOTTOM_CACHE_SIZE 256
#define BOTTOM_MAX_FRAMES 24

struct bottom_entry {
    _Atomic uint32_t version;
    uintptr_t key[4];
    int32_t count;
    uintptr_t ips[BOTTOM_MAX_FRAMES];
};

static struct bottom_entry bottom_cache[BOTTOM_CACHE_SIZE];

static int bottom_key(const struct stack_bounds *b, uintptr_t fp, uintptr_t key[4]) {
    if (!stack_has(b, fp) || !stack_has(b, fp + 8)) return 0;
    uintptr_t caller_fp = stack_word(fp);
    key[0] = fp;
    key[1] = stack_word(fp + 8);
    key[2] = caller_fp;
    key[3] = stack_has(b, caller_fp + 8) ? stack_word(caller_fp + 8) : 0;
    return 1;
}

static struct bottom_entry *bottom_slot(const uintptr_t key[4]) {
    uintptr_t h = (key[0] >> 4) ^ (key[1] * 0x9e3779b97f4a7c15ull);
    return &bottom_cache[(h >> 8) % BOTTOM_CACHE_SIZE];
}

static int bottom_lookup(struct mixed_sample *s, const uintptr_t key[4]) {
    struct bottom_entry *e = bottom_slot(key);
    uint32_t v1 = atomic_load_explicit(&e->version, memory_order_acquire);
    if (v1 == 0 || (v1 & 1)) return 0;
    uintptr_t ips[BOTTOM_MAX_FRAMES];
    int32_t count = e->count;
    int same = count > 0 && count <= BOTTOM_MAX_FRAMES && memcmp(e->key, key, sizeof e->key) == 0;
    if (same) memcpy(ips, e->ips, sizeof(uintptr_t) * (size_t) count);
    atomic_thread_fence(memory_order_acquire);
    if (!same || atomic_load_explicit(&e->version, memory_order_relaxed) != v1) return 0;
    for (int i = 0; i < count; i++) add_native(s, ips[i]);
    return 1;
}

static void bottom_store(const struct mixed_sample *s, int first, const uintptr_t key[4]) {
    int count = s->nnative - first;
    if (count <= 0 || count > BOTTOM_MAX_FRAMES) return;
    struct bottom_entry *e = bottom_slot(key);
    uint32_t v = atomic_load_explicit(&e->version, memory_order_relaxed);
    if ((v & 1) || !atomic_compare_exchange_strong(&e->version, &v, v + 1)) return;  /* someone is writing it */
    memcpy(e->key, key, sizeof e->key);
    e->count = count;
    for (int i = 0; i < count; i++) e->ips[i] = s->native[first + i].ip;
    atomic_store_explicit(&e->version, v + 2, memory_order_release);
}

/* The previous segment's last Java frame, as the JVM saved it in a frame anchor. */
static int from_anchor(uintptr_t anchor, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp) {
    int ok1, ok2, ok3;
    *sp = safe_load(anchor + hotspot.anchor_last_java_sp, &ok1);
    *fp = safe_load(anchor + hotspot.anchor_last_java_fp, &ok2);
    *pc = safe_load(anchor + hotspot.anchor_last_java_pc, &ok3);
    if (!ok1 || !ok2 || !ok3 || *sp == 0) return 0;
    if (*pc == 0) *pc = safe_load(*sp - 8, &ok1);  /* not yet recorded: the return address is below sp */
    return *pc != 0;
}

static int64_t clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Room for inlined methods per compiled frame when AsyncGetCallTrace's depth is chosen. */
#define INLINED_PER_COMPILED_FRAME 8

static void walk(struct mixed_sample *s, ucontext_t *uc, int cached_inlining);
static void call_agct(struct mixed_sample *s, ucontext_t *uc, JNIEnv *env, int compiled, int last_compiled);

void mixed_capture(struct mixed_sample *s, ucontext_t *uc, int cached_inlining) {
    int64_t start = clock_ns();
    walk(s, uc, cached_inlining);
    s->walk_ns = (int32_t) (clock_ns() - start);
}

static void walk(struct mixed_sample *s, ucontext_t *uc, int cached_inlining) {
    s->agct_ns = s->unwind_ns = 0;
    s->agct_frames = s->agct_depth = 0;
    s->agct_from[0] = s->agct_from[1] = s->agct_from[2] = 0;
    s->walk_end = WALK_NOT_JAVA;
    s->segments = s->nphysical = s->nnative = 0;
    s->gap_segment = 0;
    s->inlining_cached = 0;
    JNIEnv *env = NULL;
    uintptr_t thread = vm_current_java_thread(&env);
    s->java_thread = thread != 0;
    if (thread == 0) {
        /* Not a Java thread (GC, a thread of a native library): native frames only. */
        uintptr_t java_pc, java_sp, java_fp;
        s->walk_end = top_native_segment(s, uc, &java_pc, &java_sp, &java_fp) ? WALK_NOT_JAVA : WALK_BOTTOM;
        s->segments = 1;
        return;
    }

    int ok;
    struct stack_bounds b = {(uintptr_t) uc->uc_mcontext.gregs[REG_RSP], safe_load(thread + hotspot.java_thread_stack_base, &ok)};
    if (!ok || b.high <= b.low) { s->walk_end = WALK_STACK; return; }
    uintptr_t pc = (uintptr_t) uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t sp = b.low;
    uintptr_t fp = (uintptr_t) uc->uc_mcontext.gregs[REG_RBP];
    int r = 1;
    if (!vm_in_code_cache(pc)) {
        /* In native code or in the VM: its frames, then the Java frames from the thread's anchor. */
        int has_anchor = from_anchor(thread + hotspot.java_thread_anchor, &pc, &sp, &fp);
        uintptr_t java_pc, java_sp, java_fp;
        if (!top_native_segment(s, uc, &java_pc, &java_sp, &java_fp)) {
            if (!has_anchor) { s->walk_end = WALK_BOTTOM; s->segments = 1; return; }
            /* the unwinder cannot get from here to the Java frames: keep the native frames it found,
               mark the gap, and go on with the Java frames from the thread's anchor */
            s->segments = 1;
            s->gap_segment = 1;
        } else if (!has_anchor) {
            /* Native code that Java called without leaving a frame anchor (a critical downcall of
               the foreign function API stays in Java state): the Java part starts where the unwinder
               reached the code cache. */
            pc = java_pc;
            sp = java_sp;
            fp = java_fp;
            has_anchor = 1;
        }
        r = has_anchor ? 1 : WALK_NOT_JAVA;
        if (r == 1 && (sp < b.low || sp >= b.high)) r = WALK_STACK;
    }
    int top = 1;
    while (r == 1) {
        r = java_segment(s, &b, &pc, &sp, &fp, top);
        top = 0;
        if (r != 1) break;
        /* An entry frame: fp is the call stub's rbp; the native code that called into Java is below. */
        if (!stack_has(&b, fp + 8) || !stack_has(&b, fp + 8 * hotspot.entry_frame_call_wrapper_slot)) { r = WALK_FP; break; }
        uintptr_t wrapper = stack_word(fp + 8 * hotspot.entry_frame_call_wrapper_slot);
        s->segments++;
        uintptr_t key[4];
        int keyed = bottom_key(&b, fp, key);
        if (keyed && bottom_lookup(s, key)) { r = WALK_BOTTOM; break; }
        ucontext_t below = *uc;
        below.uc_mcontext.gregs[REG_RIP] = (greg_t) stack_word(fp + 8);
        below.uc_mcontext.gregs[REG_RSP] = (greg_t) (fp + 16);
        below.uc_mcontext.gregs[REG_RBP] = (greg_t) stack_word(fp);
        int first = s->nnative;
        int64_t unwind_start = clock_ns();
        r = native_segment(s, &below, 0, &pc, &sp, &fp);
        s->unwind_ns += (int32_t) (clock_ns() - unwind_start);
        if (keyed && r == WALK_BOTTOM) bottom_store(s, first, key);
        if (r != 1 && r != WALK_BOTTOM && stack_has(&b, wrapper)) {
            /* the unwinder lost its way: the call wrapper remembers where the older Java frames are. */
            r = from_anchor(wrapper + hotspot.call_wrapper_anchor, &pc, &sp, &fp) ? 1 : WALK_CALL_WRAPPER;
        }
    }
    s->walk_end = r;
    s->segments++;
    int java = 0, compiled = 0, last_compiled = -1;
    for (int i = 0; i < s->nphysical; i++) {
        struct physical_frame *p = &s->physical[i];
        if (p->type == PHYS_STUB) continue;
        if (p->method != 0) p->jmid = vm_method_jmethod_id(p->method);
        if (p->type == PHYS_COMPILED) { compiled++; last_compiled = java; }
        java++;
    }
    if (java == 0 && s->walk_end < 0) {
        /* The walk found no Java frame it could trust (e.g. the top frame was still in its
           prologue): AsyncGetCallTrace alone still names the Java frames, placed below the
           native frames above them. */
        call_agct(s, uc, env, 1, MIXED_MAX_VIRTUAL - 1 - INLINED_PER_COMPILED_FRAME);
        return;
    }
    if (compiled == 0 || (cached_inlining && inlining_from_cache(s))) return;
    call_agct(s, uc, env, compiled, last_compiled);
    if (cached_inlining) inlining_remember(s);
}

/*
 * AsyncGetCallTrace is asked only for what the physical walk cannot know: the methods inlined
 * into compiled frames and their bcis. Interpreted frames are exact already (Method* and bcp), so
 * it walks no deeper than the last compiled frame plus room for what was inlined into them; none
 * at all when no frame is compiled. Its cost grows with the depth it walks.
 */
static void call_agct(struct mixed_sample *s, ucontext_t *uc, JNIEnv *env, int compiled, int last_compiled) {
    agct_fn agct = (agct_fn) hotspot.async_get_call_trace;
    s->agct_depth = 0;
    if (agct == NULL || compiled == 0) return;
    int depth = last_compiled + 1 + INLINED_PER_COMPILED_FRAME * compiled;
    if (depth > MIXED_MAX_VIRTUAL) depth = MIXED_MAX_VIRTUAL;
    int64_t start = clock_ns();
    ucontext_t at_caller;
    if (s->agct_from[0] != 0) {
        /* AsyncGetCallTrace gives up on a pc in a stub: start it at the Java frame that called the stub */
        at_caller = *uc;
        at_caller.uc_mcontext.gregs[REG_RIP] = (greg_t) s->agct_from[0];
        at_caller.uc_mcontext.gregs[REG_RSP] = (greg_t) s->agct_from[1];
        at_caller.uc_mcontext.gregs[REG_RBP] = (greg_t) s->agct_from[2];
        uc = &at_caller;
    }
    agct_trace trace = {env, 0, s->virtual_frames};
    agct(&trace, depth, uc);
    if (trace.num_frames == depth && depth < MIXED_MAX_VIRTUAL) {
        /* more inlined than the room given (cut short, AGCT's frames would not reach the outer
           method and could not be placed): once more with all the room there is */
        depth = MIXED_MAX_VIRTUAL;
        trace = (agct_trace) {env, 0, s->virtual_frames};
        agct(&trace, depth, uc);
    }
    s->agct_frames = trace.num_frames;
    s->agct_depth = depth;
    s->agct_ns = (int32_t) (clock_ns() - start);
}
