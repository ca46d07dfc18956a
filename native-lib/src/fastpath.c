#define _GNU_SOURCE
#include "fastpath.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* A lock-free set of thread ids: open addressing, 0 = never used, -1 = removed. */
#define READY_SLOTS 8192

static _Atomic int32_t ready[READY_SLOTS];

static unsigned slot_of(int tid) {
    return ((unsigned) tid * 2654435761u) % READY_SLOTS;
}

int fastpath_ready(int tid) {
    unsigned s = slot_of(tid);
    for (int probe = 0; probe < READY_SLOTS; probe++) {
        int32_t v = atomic_load_explicit(&ready[(s + probe) % READY_SLOTS], memory_order_acquire);
        if (v == tid) return 1;
        if (v == 0) return 0;
    }
    return 0;
}

static void add(int tid) {
    if (fastpath_ready(tid)) return;
    unsigned s = slot_of(tid);
    for (int probe = 0; probe < READY_SLOTS; probe++) {
        _Atomic int32_t *slot = &ready[(s + probe) % READY_SLOTS];
        int32_t v = atomic_load(slot);
        if ((v == 0 || v == -1) && atomic_compare_exchange_strong(slot, &v, tid)) return;
    }
    /* full: the thread keeps the step-by-step walk, which is always safe */
}

void fastpath_forget(int tid) {
    unsigned s = slot_of(tid);
    for (int probe = 0; probe < READY_SLOTS; probe++) {
        _Atomic int32_t *slot = &ready[(s + probe) % READY_SLOTS];
        int32_t v = atomic_load(slot);
        if (v == tid) {
            atomic_compare_exchange_strong(slot, &v, -1);
            return;
        }
        if (v == 0) return;
    }
}

void fastpath_prepare_current_thread(void) {
    void *frames[4];
    unw_backtrace(frames, 4);  /* the thread's first access to libunwind's thread-local cache */
    add((int) syscall(SYS_gettid));
}
