/*
 * The capture signal's one handler: a profiling tick goes to the sampler, a request of ours to its
 * slot, anything else sent to the signal is ignored. Async-signal-safe; errno preserved.
 */
#define _GNU_SOURCE
#include "stacktrace.h"
#include "profiler.h"
#include "cpu_clock.h"
#include "signals.h"
#include "slots.h"
#include "unwind.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

/*
 * The threads running on_signal now, so that a requester that timed out can tell "this thread blocks
 * the signal" from "the kernel masks the signal because our handler is running there (slowly)":
 * /proc's SigBlk shows both the same. Lock-free; a thread not recorded (table full) is just unknown.
 */
#define HANDLER_TIDS 256
static _Atomic int handler_tids[HANDLER_TIDS];

/* Returns the entry taken, or -1. (No thread-local variable: in a dlopen'ed library its first use
   in a thread may allocate.) */
static int handler_enter(int tid) {
    for (int i = 0; i < HANDLER_TIDS; i++) {
        int at = (int) (((unsigned) tid + (unsigned) i) % HANDLER_TIDS), none = 0;
        if (atomic_compare_exchange_strong(&handler_tids[at], &none, tid)) return at;
    }
    return -1;
}

static void handler_leave(int at) {
    if (at >= 0) atomic_store(&handler_tids[at], 0);
}

int st_in_handler(int tid) {
    for (int i = 0; i < HANDLER_TIDS; i++) {
        if (atomic_load(&handler_tids[i]) == tid) return 1;
    }
    return 0;
}

static void on_signal(int signo, siginfo_t *info, void *context) {
    (void) signo;
    int saved_errno = errno;
    int tid = st_gettid();  /* once: a system call costs about a microsecond */
    int entry = handler_enter(tid);
    /* Profiling ticks: from our timers (SI_TIMER), our wall-clock thread (SI_QUEUE), or one of our
       task-clock events (a POLL_ code, si_fd an event of this thread's). */
    int64_t intervals = info != NULL && info->si_code > 0 ? cpu_clock_taken(info, tid) : -1;
    if (intervals >= 0) {
        if (intervals > 0) profiler_sample(context, (uint64_t) intervals);
    } else if (info != NULL && IS_PROFILE_TICK(info->si_value.sival_ptr)
        && (info->si_code == SI_TIMER || (info->si_code == SI_QUEUE && info->si_pid == getpid()))) {
        uint64_t weight = profiler_tick_taken((uintptr_t) info->si_value.sival_ptr, tid);
        if (weight > 0) profiler_sample(context, weight);
    } else if (info != NULL && info->si_code == SI_QUEUE && info->si_pid == getpid()) {
        /* Only our own queued requests: anything else sent to this signal is ignored. */
        slots_answer((uintptr_t) info->si_value.sival_ptr, context);
    }
    handler_leave(entry);
    errno = saved_errno;
}

/* The handler goes in only once the unwinder is set up (outside any handler). */
int st_init(int signo) {
    return signals_init(signo, on_signal, unwind_setup);
}
