/*
 * The safe unwinder.
 *
 * libunwind's local unwinder (UNW_LOCAL_ONLY) reads every address its DWARF rules or its
 * frame-pointer fallback compute by dereferencing it. Inside a signal handler that interrupted a
 * library without unwind info, or a frame with a garbage rbp, such a read faults, and a SIGSEGV
 * in a signal handler takes the whole JVM down. So the handlers unwind with the generic library
 * (libunwind-x86_64) through an address space of our own: libunwind's local address space for
 * finding unwind info, but our access_mem and access_reg.
 *
 * access_mem is safe_stack_load (safe_access.h): the interrupted thread's stack between its sp and
 * its base (mapped for as long as the thread lives) directly, everything else with process_vm_readv
 * on our own pid, which returns EFAULT instead of faulting. Not SafeFetchN: libunwind calls
 * access_mem while it holds its cache lock with every signal blocked, and a fault with SIGSEGV
 * blocked kills the process whatever handler the JVM has. Registers come from the ucontext we
 * were given.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include "stacktrace.h"
#include "vm.h"
#include "safe_access.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <libunwind.h>

/* What an address space callback gets as its argument: the registers of the frame to start from,
   the stack that may be read directly, and one word that reads as something else (see unwind_init). */
struct frame_source {
    uintptr_t regs[UNW_X86_64_RIP + 1];
    struct stack_bounds stack;
    uintptr_t virtual_addr, virtual_value;
};

struct cursor {
    unw_cursor_t cursor;
    struct frame_source source;
};

_Static_assert(sizeof(struct cursor) <= sizeof(struct unwind_cursor), "unwind_cursor too small");
_Static_assert(_Alignof(struct cursor) <= _Alignof(struct unwind_cursor), "unwind_cursor misaligned");

static unw_addr_space_t safe_space;

/* libunwind's register numbers -> the ucontext's. */
static const int greg_of[UNW_X86_64_RIP + 1] = {
    [UNW_X86_64_RAX] = REG_RAX, [UNW_X86_64_RDX] = REG_RDX, [UNW_X86_64_RCX] = REG_RCX,
    [UNW_X86_64_RBX] = REG_RBX, [UNW_X86_64_RSI] = REG_RSI, [UNW_X86_64_RDI] = REG_RDI,
    [UNW_X86_64_RBP] = REG_RBP, [UNW_X86_64_RSP] = REG_RSP, [UNW_X86_64_R8] = REG_R8,
    [UNW_X86_64_R9] = REG_R9, [UNW_X86_64_R10] = REG_R10, [UNW_X86_64_R11] = REG_R11,
    [UNW_X86_64_R12] = REG_R12, [UNW_X86_64_R13] = REG_R13, [UNW_X86_64_R14] = REG_R14,
    [UNW_X86_64_R15] = REG_R15, [UNW_X86_64_RIP] = REG_RIP,
};

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
    (void) as;
    const struct frame_source *src = arg;
    if (write) return -UNW_EREADONLYREG;
    if (addr == src->virtual_addr && addr != 0) { *val = src->virtual_value; return 0; }
    uintptr_t word;
    if (!safe_stack_load(&src->stack, addr, &word)) return -UNW_EINVAL;
    *val = word;
    return 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
    (void) as;
    const struct frame_source *src = arg;
    if (write) return -UNW_EREADONLYREG;
    if (reg < 0 || reg > UNW_X86_64_RIP) return -UNW_EBADREG;
    *val = src->regs[reg];
    return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg) {
    (void) as; (void) reg; (void) val; (void) write; (void) arg;
    return -UNW_EBADREG;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
    (void) as; (void) c; (void) arg;
    return -UNW_EINVAL;
}

/*
 * A function whose entry is the first frame of a walk that starts at a return address: its
 * unwind info at entry says "the return address is at [sp], the caller's sp is sp + 8, every
 * other register is unchanged", so stepping once from it lands on the return address as a caller
 * frame, looked up at pc - 1 (unw_init_remote would look the first frame up at its pc itself).
 */
__attribute__((noinline, used)) static int entry_frame(void) {
    return 0;
}

static void source_from(struct frame_source *src, const ucontext_t *uc) {
    for (int r = 0; r <= UNW_X86_64_RIP; r++) src->regs[r] = (uintptr_t) uc->uc_mcontext.gregs[greg_of[r]];
    src->stack.low = src->regs[UNW_X86_64_RSP];
    src->stack.high = 0;
    int ok;
    uintptr_t thread = vm_current_java_thread(NULL);
    if (thread != 0) {
        uintptr_t base = safe_load(thread + hotspot.java_thread_stack_base, &ok);
        if (ok && base > src->stack.low) src->stack.high = base;
    }
    src->virtual_addr = src->virtual_value = 0;
}

int unwind_init(struct unwind_cursor *opaque, const ucontext_t *uc, int interrupted) {
    struct cursor *c = (struct cursor *) opaque;
    if (safe_space == NULL) return -UNW_EINVAL;
    source_from(&c->source, uc);
    if (!interrupted) {
        uintptr_t sp = c->source.regs[UNW_X86_64_RSP];
        c->source.virtual_addr = sp - 8;
        c->source.virtual_value = c->source.regs[UNW_X86_64_RIP];
        c->source.regs[UNW_X86_64_RSP] = sp - 8;
        c->source.regs[UNW_X86_64_RIP] = (uintptr_t) &entry_frame;
    }
    int rc = unw_init_remote(&c->cursor, safe_space, &c->source);
    if (rc < 0 || interrupted) return rc;
    rc = unw_step(&c->cursor);
    c->source.virtual_addr = 0;
    return rc > 0 ? 0 : -UNW_EINVAL;
}

int unwind_frame(struct unwind_cursor *opaque, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp) {
    struct cursor *c = (struct cursor *) opaque;
    unw_word_t ip, rsp, rbp;
    if (unw_get_reg(&c->cursor, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c->cursor, UNW_REG_SP, &rsp) < 0
        || unw_get_reg(&c->cursor, UNW_X86_64_RBP, &rbp) < 0) return -1;
    *pc = ip;
    *sp = rsp;
    *fp = rbp;
    return 0;
}

int unwind_step(struct unwind_cursor *opaque) {
    return unw_step(&((struct cursor *) opaque)->cursor);
}

static void create_space(void) {
    unw_accessors_t accessors = *unw_get_accessors(unw_local_addr_space);
    accessors.access_mem = access_mem;
    accessors.access_reg = access_reg;
    accessors.access_fpreg = access_fpreg;
    accessors.resume = resume;
    unw_addr_space_t space = unw_create_addr_space(&accessors, 0);
    if (space == NULL) return;
    /* One cache for all threads: no thread-local memory, which a handler could not allocate. Its
       lock is taken with signals blocked; under it libunwind reads only through access_mem above. */
    unw_set_caching_policy(space, UNW_CACHE_GLOBAL);
    safe_space = space;
    /* libunwind's one-time initialisation, and a warm cache, outside any signal handler. */
    ucontext_t here;
    getcontext(&here);
    struct unwind_cursor c;
    if (unwind_init(&c, &here, 0) == 0) {
        for (int i = 0; i < 64 && unwind_step(&c) > 0; i++) {}
    }
}

int unwind_setup(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, create_space);
    return safe_space != NULL ? 0 : -1;
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
    uintptr_t frames[ST_MAX_FRAMES + 1];
    ucontext_t here;
    getcontext(&here);
    /* here's pc is the return address of getcontext, in this function; its callers follow. */
    int n = unwind_context(&here, 0, frames, max + 1);
    int kept = n > 1 ? n - 1 : 0;
    for (int i = 0; i < kept; i++) out[i] = (int64_t) frames[i + 1];
    return kept;
}
