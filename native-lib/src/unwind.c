/*
 * The safe unwinder, on the frame table (frame_table.h): for each frame, the row of its pc says
 * where the caller's sp (the CFA), return address and rbp are; where no row says (code without
 * unwind info, a JIT's code) the frame pointer chain is followed, and a signal trampoline gives the
 * interrupted context it holds. Nothing here locks, allocates or interprets DWARF.
 *
 * Every read is safe_stack_load (safe_access.h): the interrupted thread's stack between its sp and
 * its base directly, anything else through a read that cannot fault. Registers come from the
 * ucontext we were given.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include "stacktrace.h"
#include "vm.h"
#include "safe_access.h"
#include "frame_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

struct cursor {
    uintptr_t pc, sp, fp;
    int interrupted;  /* pc was interrupted (look it up as is), not a return address (look up pc - 1) */
    struct stack_bounds stack;
};

_Static_assert(sizeof(struct cursor) <= sizeof(struct unwind_cursor), "unwind_cursor too small");
_Static_assert(_Alignof(struct cursor) <= _Alignof(struct unwind_cursor), "unwind_cursor misaligned");

static int table_ready;
/* Steps that found no way to the caller: a hint that the table may be stale (a module unloaded and
   another loaded where it was, which no lookup can tell from the old one). */
static atomic_uint lost_steps;

static int load(const struct cursor *c, uintptr_t addr, uintptr_t *out) {
    return safe_stack_load(&c->stack, addr, out);
}

int unwind_init(struct unwind_cursor *opaque, const ucontext_t *uc, int interrupted) {
    struct cursor *c = (struct cursor *) opaque;
    if (!table_ready) return -EINVAL;
    c->pc = (uintptr_t) uc->uc_mcontext.gregs[REG_RIP];
    c->sp = (uintptr_t) uc->uc_mcontext.gregs[REG_RSP];
    c->fp = (uintptr_t) uc->uc_mcontext.gregs[REG_RBP];
    c->interrupted = interrupted;
    c->stack.low = c->sp;
    c->stack.high = 0;
    int ok;
    uintptr_t thread = vm_current_java_thread(NULL);
    if (thread != 0) {
        uintptr_t base = safe_load(thread + hotspot.java_thread_stack_base, &ok);
        if (ok && base > c->stack.low) c->stack.high = base;
    }
    return 0;
}

int unwind_frame(struct unwind_cursor *opaque, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp) {
    const struct cursor *c = (const struct cursor *) opaque;
    *pc = c->pc;
    *sp = c->sp;
    *fp = c->fp;
    return 0;
}

/* glibc's x86-64 __restore_rt, where a signal handler returns to: mov $15, %rax; syscall. */
static int at_signal_return(uintptr_t pc) {
    static const uint8_t code[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    uint8_t here[sizeof(code)];
    return safe_copy(pc, here, sizeof(here)) && memcmp(here, code, sizeof(code)) == 0;
}

/* A signal frame: the ucontext the kernel saved is at sp; its registers are the interrupted frame's. */
static int step_signal_frame(struct cursor *c) {
    uintptr_t gregs = c->sp + offsetof(ucontext_t, uc_mcontext.gregs), pc, sp, fp;
    if (!load(c, gregs + 8 * REG_RIP, &pc) || !load(c, gregs + 8 * REG_RSP, &sp) || !load(c, gregs + 8 * REG_RBP, &fp))
        return -1;
    if (pc == 0) return 0;
    c->pc = pc;
    c->sp = sp;
    c->fp = fp;
    c->interrupted = 1;
    return 1;
}

/* No unwind info: the frame pointer chain ([fp] = the caller's rbp, [fp + 8] = the return address). */
static int step_frame_pointer(struct cursor *c) {
    if (c->fp == 0) return 0;  /* where the chain ends, as libgcc and libunwind take it */
    uintptr_t ra, fp;
    if (c->fp <= c->sp || (c->fp & 7) != 0 || !load(c, c->fp + 8, &ra) || !load(c, c->fp, &fp)) return -1;
    if (ra == 0) return 0;
    c->sp = c->fp + 16;
    c->pc = ra;
    c->fp = fp;
    c->interrupted = 0;
    return 1;
}

static int step(struct cursor *c);

int unwind_step(struct unwind_cursor *opaque) {
    int rc = step((struct cursor *) opaque);
    if (rc < 0) atomic_fetch_add_explicit(&lost_steps, 1, memory_order_relaxed);
    return rc;
}

static int step(struct cursor *c) {
    struct cfi_row row;
    enum cfa_rule rule = CFA_NONE;
    if (frame_table_find(c->interrupted ? c->pc : c->pc - 1, &row)) rule = cfi_rule(row);
    else if (!vm_in_code_cache(c->pc)) frame_table_missed();
    uintptr_t cfa;
    switch (rule) {
    case CFA_END: return 0;
    case CFA_RSP: cfa = c->sp + cfi_cfa_offset(row); break;
    case CFA_RBP: cfa = c->fp + cfi_cfa_offset(row); break;
    case CFA_PLT: cfa = c->sp + cfi_cfa_offset(row) + ((c->pc & 15) >= (uintptr_t) cfi_fp_slot(row) ? 8 : 0); break;
    case CFA_OTHER:
        /* glibc's trampoline has an expression rule; its code is read only for such rows */
        if (at_signal_return(c->pc)) return step_signal_frame(c);
        return step_frame_pointer(c);
    default:
        return step_frame_pointer(c);
    }
    int slot = rule == CFA_PLT ? CFI_FP_SAME : cfi_fp_slot(row);
    uintptr_t ra, fp = c->fp;
    if (cfa <= c->sp || !load(c, cfa - 8, &ra)) return -1;
    if (slot == CFI_FP_LOST) fp = 0;
    else if (slot != CFI_FP_SAME && !load(c, cfa + (uintptr_t) (intptr_t) (8 * slot), &fp)) return -1;
    if (ra == 0) return 0;
    c->pc = ra;
    c->sp = cfa;
    c->fp = fp;
    c->interrupted = 0;
    return 1;
}

int unwind_refresh(int64_t wait_ns) {
    return frame_table_refresh_within(wait_ns);
}

unsigned unwind_misses(void) {
    return frame_table_misses() + atomic_load_explicit(&lost_steps, memory_order_relaxed);
}

int st_frame_table(int64_t *out) {
    if (out == NULL) return -EINVAL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (unwind_setup() != 0 || frame_table_refresh() != 0) return -ENOMEM;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    frame_table_size(&out[0], &out[1], &out[2]);
    out[3] = (int64_t) (t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
    out[4] = frame_table_misses();
    return 0;
}

static void first_table(void) {
    table_ready = frame_table_refresh() == 0;
}

int unwind_setup(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, first_table);
    return table_ready ? 0 : -1;
}

/* The frames of a context, from its pc outwards (interrupted: the pc was interrupted by a signal;
   otherwise it is a return address). At least the pc itself when max > 0. */
int unwind_context(const ucontext_t *uc, int interrupted, uintptr_t *frames, int max) {
    struct unwind_cursor cursor;
    if (unwind_init(&cursor, uc, interrupted) < 0) {
        frames[0] = (uintptr_t) uc->uc_mcontext.gregs[REG_RIP];
        return max > 0 ? 1 : 0;
    }
    int n = 0;
    while (n < max) {
        uintptr_t ip, sp, fp;
        if (unwind_frame(&cursor, &ip, &sp, &fp) < 0 || ip == 0) break;
        frames[n++] = ip;
        if (unwind_step(&cursor) <= 0) break;
    }
    return n;
}


int st_capture_self(int64_t *out, int max) {
    if (out == NULL || max < 0 || max > ST_MAX_FRAMES) return -EINVAL;
    if (unwind_setup() != 0) return -ENOMEM;
    unwind_refresh(50000000);  /* a library loaded since: its rows, unless the loader is busy */
    uintptr_t frames[ST_MAX_FRAMES + 1];
    ucontext_t here;
    getcontext(&here);
    /* here's pc is the return address of getcontext, in this function; its callers follow. */
    int n = unwind_context(&here, 0, frames, max + 1);
    int kept = n > 1 ? n - 1 : 0;
    for (int i = 0; i < kept; i++) out[i] = (int64_t) frames[i + 1];
    return kept;
}
