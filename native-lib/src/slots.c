/*
 * Slots: the protocol by which a requester has a thread capture its own stack.
 *
 * A request takes a slot, sends the target thread a queued realtime signal carrying (slot, seq),
 * and waits on the slot's futex word with a deadline. The handler, running in the target thread,
 * claims the slot only if the word still says PENDING for that seq, unwinds into the slot's own
 * preallocated buffer, and publishes DONE. State and seq share one 32-bit word, so every
 * transition is a single compare-and-swap: a handler that arrives late (after its requester gave
 * up) sees a different seq or state and touches nothing, and a handler that is mid-unwind when its
 * requester gives up frees the slot itself when it finishes. No request ever reads a buffer that
 * a handler may still write.
 *
 * In the handler: no malloc, no locks, no stdio, errno preserved. Native frames come from the safe
 * unwinder (unwind.h): the frame table's rows, reading memory only in ways that cannot fault.
 */
#define _GNU_SOURCE
#include "slots.h"
#include "stacktrace.h"
#include "mixed.h"
#include "signals.h"
#include "vm.h"
#include "unwind.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

enum slot_state {
    SLOT_FREE = 0,     /* nobody owns it */
    SLOT_RESERVED,     /* a requester is filling in the parameters */
    SLOT_PENDING,      /* signal sent, handler not started */
    SLOT_CAPTURING,    /* the handler is unwinding into the buffer */
    SLOT_DONE,         /* frames ready for the requester */
    SLOT_ABANDONED,    /* requester timed out while the handler was unwinding */
};
#define STATE_BITS 4
#define STATE_MASK 7u
/* Set by a requester about to sleep on the futex: only then does the handler pay for a wake-up. */
#define WAITER 8u
#define SEQ_MASK ((1u << (32 - STATE_BITS)) - 1)
#define WORD(seq, state) (((uint32_t) (seq) << STATE_BITS) | (uint32_t) (state))
/*
 * How long a requester spins before it sleeps on the futex. A round trip to a running thread costs
 * from 5 us (an idle machine) to 150 us (a busy one, or a virtual machine that delivers signals
 * slowly); sleeping adds a futex wake-up and a reschedule to it. So the spin follows the round
 * trips seen lately: twice their running median (delivery, the same for every request, plus the
 * handler's work, per kind of request: a ping does nothing, a native walk may take milliseconds),
 * up to SPIN_MAX nanoseconds of the requester's
 * CPU. When they are longer than that, spinning would rarely succeed and would take a CPU the
 * target may be waiting for (most of a long round trip is the target waiting to be scheduled), so
 * the requester spins only SPIN_MIN and sleeps. The median keeps learning either way.
 */
#define SPIN_MIN 5000
#define SPIN_MAX 150000

enum request_mode { MODE_PING = 0, MODE_UNWIND = 1, MODE_MIXED = 2 };

/* Running medians, ns: from sending to the handler's start, and the handler's work per mode. */
static _Atomic int64_t typical_delivery = 10000;
static _Atomic int64_t typical_work[3];

struct slot {
    _Atomic uint32_t word;  /* seq << STATE_BITS | state; also the futex word */
    int mode;
    int max;
    int count;
    int64_t handler_start, handler_end;  /* CLOCK_MONOTONIC ns, written by the handler */
    union {
        uintptr_t frames[ST_MAX_FRAMES];
        struct mixed_sample mixed;
    };
};

static struct slot slots[ST_SLOTS];
static _Atomic uint32_t next_seq = 1;

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *timeout) {
    return syscall(SYS_futex, (uint32_t *) addr, op | FUTEX_PRIVATE_FLAG, val, timeout, NULL, 0);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Handler side: PENDING(seq) -> CAPTURING(seq), keeping the requester's WAITER bit. */
static int claim(struct slot *s, uint32_t seq) {
    for (;;) {
        uint32_t w = atomic_load(&s->word);
        if ((w & ~WAITER) != WORD(seq, SLOT_PENDING)) return 0;  /* stale, or given up */
        if (atomic_compare_exchange_weak(&s->word, &w, WORD(seq, SLOT_CAPTURING) | (w & WAITER))) return 1;
    }
}

/* Handler side: CAPTURING(seq) -> DONE(seq), waking the requester if it sleeps; or, if it gave up
   meanwhile (ABANDONED), free the slot: nobody else will. */
static void publish(struct slot *s, uint32_t seq) {
    for (;;) {
        uint32_t w = atomic_load(&s->word);
        if ((w & ~WAITER) != WORD(seq, SLOT_CAPTURING)) {
            atomic_store(&s->word, WORD(seq, SLOT_FREE));
            return;
        }
        if (atomic_compare_exchange_weak(&s->word, &w, WORD(seq, SLOT_DONE))) {
            if (w & WAITER) futex(&s->word, FUTEX_WAKE, 1, NULL);
            return;
        }
    }
}

/* Handler side: a request of ours (slot index in the low byte, seq above). */
void slots_answer(uintptr_t value, ucontext_t *uc) {
    unsigned index = (unsigned) (value & 0xff);
    uint32_t seq = (uint32_t) (value >> 8) & SEQ_MASK;
    if (index >= ST_SLOTS) return;
    struct slot *s = &slots[index];
    if (claim(s, seq)) {
        s->handler_start = now_ns();
        if (s->mode == MODE_UNWIND) s->count = unwind_context(uc, 1, s->frames, s->max);
        else if (s->mode == MODE_MIXED) mixed_capture(&s->mixed, uc, 1);
        s->handler_end = now_ns();
        publish(s, seq);
    }
}

static struct slot *claim_slot(int tid, uint32_t *seq_out, int64_t deadline) {
    for (;;) {
        uint32_t seq = atomic_fetch_add(&next_seq, 1) & SEQ_MASK;
        unsigned start = (unsigned) tid * 2654435761u;
        for (unsigned k = 0; k < ST_SLOTS; k++) {
            struct slot *s = &slots[(start + k) % ST_SLOTS];
            uint32_t w = atomic_load(&s->word);
            if ((w & STATE_MASK) == SLOT_FREE
                && atomic_compare_exchange_strong(&s->word, &w, WORD(seq, SLOT_RESERVED))) {
                *seq_out = seq;
                return s;
            }
        }
        if (now_ns() >= deadline) return NULL;
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
}

/* Requester side: spin briefly, then sleep on the futex until DONE(seq) or the deadline. At the
   deadline, PENDING -> FREE (the handler never ran: -ETIMEDOUT) or CAPTURING -> ABANDONED (it frees
   the slot: -ST_ELATE, the thread took the signal, so it does not block it). */
static int await_done(struct slot *s, uint32_t seq, int64_t sent, int64_t deadline, int *slept) {
    int64_t spin = 2 * (atomic_load_explicit(&typical_delivery, memory_order_relaxed)
                        + atomic_load_explicit(&typical_work[s->mode], memory_order_relaxed));
    spin = spin < SPIN_MIN || spin > SPIN_MAX ? SPIN_MIN : spin;
    int64_t spin_until = sent + spin;
    *slept = 0;
    for (int i = 0;; i++) {
        if (atomic_load_explicit(&s->word, memory_order_acquire) == WORD(seq, SLOT_DONE)) return 0;
        __builtin_ia32_pause();
        if ((i & 15) == 15 && now_ns() >= spin_until) break;
    }
    *slept = 1;
    for (;;) {
        uint32_t w = atomic_load_explicit(&s->word, memory_order_acquire);
        if (w == WORD(seq, SLOT_DONE)) return 0;
        uint32_t state = w & ~WAITER;
        int64_t left = deadline - now_ns();
        if (left <= 0) {
            uint32_t next = state == WORD(seq, SLOT_PENDING) ? WORD(seq, SLOT_FREE) : WORD(seq, SLOT_ABANDONED);
            if (atomic_compare_exchange_strong(&s->word, &w, next)) return state == WORD(seq, SLOT_PENDING) ? -ETIMEDOUT : -ST_ELATE;
            continue;  /* the handler moved on meanwhile: look again */
        }
        if (!(w & WAITER)) {
            if (!atomic_compare_exchange_strong(&s->word, &w, w | WAITER)) continue;
            w |= WAITER;
        }
        struct timespec ts = {left / 1000000000, left % 1000000000};
        futex(&s->word, FUTEX_WAIT, w, &ts);
    }
}

/* A request's time in parts, CLOCK_MONOTONIC ns: before the signal is sent, after, when the handler
   started and ended, when the requester saw the answer; and whether it slept on the futex. */
struct timing {
    int64_t before_send, after_send, handler_start, handler_end, seen;
    int slept;
};

/* Moves a running median estimate towards a sample by a small step (1/32 of itself, at least
   100 ns): the median, not the mean, because a few descheduled targets (milliseconds) would make
   the mean useless for setting a spin of microseconds. */
static void learn(_Atomic int64_t *median, int64_t sample) {
    if (sample < 0) return;
    int64_t old = atomic_load_explicit(median, memory_order_relaxed);
    int64_t step = old / 32 > 100 ? old / 32 : 100;
    int64_t next = sample > old ? old + step : sample < old ? old - step : old;
    atomic_store_explicit(median, next < 0 ? 0 : next, memory_order_relaxed);
}

/* Sends a request and waits for its answer. On success the slot is returned still owned (DONE):
   the caller copies the answer out and calls release_slot. */
static int request_timed(int tid, int mode, int max, int timeout_ms, struct slot **slot_out, uint32_t *seq_out,
                         struct timing *t) {
    int signo = st_signal();
    if (signo == 0) return -ST_ENOTINIT;
    if (tid <= 0 || max < 0 || max > ST_MAX_FRAMES || timeout_ms < 0) return -EINVAL;

    int64_t deadline = now_ns() + (int64_t) timeout_ms * 1000000;
    uint32_t seq;
    struct slot *s = claim_slot(tid, &seq, deadline);
    if (s == NULL) return -EAGAIN;
    s->mode = mode;
    s->max = max;
    s->count = 0;
    s->handler_start = s->handler_end = 0;
    atomic_store_explicit(&s->word, WORD(seq, SLOT_PENDING), memory_order_release);

    t->before_send = now_ns();
    int err = signals_send(tid, signo, ((uintptr_t) seq << 8) | (uintptr_t) (s - slots));
    if (err != 0) {
        atomic_store(&s->word, WORD(seq, SLOT_FREE));
        return err;
    }
    t->after_send = now_ns();
    int rc = await_done(s, seq, t->before_send, deadline, &t->slept);
    if (rc != 0) return rc;
    t->seen = now_ns();
    t->handler_start = s->handler_start;
    t->handler_end = s->handler_end;
    learn(&typical_delivery, t->handler_start - t->before_send);
    learn(&typical_work[mode], t->handler_end - t->handler_start);
    *slot_out = s;
    *seq_out = seq;
    return 0;
}

static void release_slot(struct slot *s, uint32_t seq) {
    atomic_store(&s->word, WORD(seq, SLOT_FREE));
}

/* A walk that met a pc in no module the frame table knows (a library loaded since the table was
   built), or lost its way or ended short (another library may sit where an unloaded one was, read
   with the old one's rows until the table is refreshed), is asked once more
   when the table, brought up to date within three quarters of the time left, changed; the first
   answer stands if the second does not come in time. */
static int request(int tid, int mode, int max, int timeout_ms, struct slot **slot_out, uint32_t *seq_out) {
    struct timing t;
    int64_t deadline = now_ns() + (int64_t) timeout_ms * 1000000;
    unsigned misses = unwind_misses();
    int rc = request_timed(tid, mode, max, timeout_ms, slot_out, seq_out, &t);
    if (rc != 0) return rc;
    /* a mixed walk that did not reach the thread's start may have followed stale rows to a wrong end */
    int lost = (*slot_out)->mode == MODE_MIXED && ((*slot_out)->mixed.gap_segment > 0 || (*slot_out)->mixed.walk_end < 0);
    if (!lost && unwind_misses() == misses) return 0;
    int64_t left = deadline - now_ns();
    if (left < 2000000) {
        unwind_refresh(0);  /* no time to wait for it: the next request finds the table up to date */
        return 0;
    }
    if (unwind_refresh(left / 4 * 3) != 1) return 0;
    int retry_ms = (int) ((deadline - now_ns()) / 1000000);
    if (retry_ms < 1) return 0;
    struct slot *first = *slot_out;
    uint32_t first_seq = *seq_out;
    if (request_timed(tid, mode, max, retry_ms, slot_out, seq_out, &t) != 0) {
        *slot_out = first;
        *seq_out = first_seq;
        return 0;
    }
    release_slot(first, first_seq);
    return 0;
}

int st_capture_thread(int tid, int64_t *out, int max, int timeout_ms) {
    if (out == NULL) return -EINVAL;
    struct slot *s;
    uint32_t seq;
    int rc = request(tid, MODE_UNWIND, max, timeout_ms, &s, &seq);
    if (rc != 0) return rc;
    int n = s->count;
    for (int i = 0; i < n; i++) out[i] = (int64_t) s->frames[i];
    release_slot(s, seq);
    return n;
}

int st_ping_thread(int tid, int timeout_ms) {
    struct slot *s;
    uint32_t seq;
    int rc = request(tid, MODE_PING, 0, timeout_ms, &s, &seq);
    if (rc != 0) return rc;
    release_slot(s, seq);
    return 0;
}

int st_ping_parts(int tid, int timeout_ms, int64_t *out) {
    if (out == NULL) return -EINVAL;
    struct slot *s;
    uint32_t seq;
    struct timing t;
    int rc = request_timed(tid, MODE_PING, 0, timeout_ms, &s, &seq, &t);
    if (rc != 0) return rc;
    release_slot(s, seq);
    out[0] = t.after_send - t.before_send;
    out[1] = t.handler_start - t.after_send;
    out[2] = t.handler_end - t.handler_start;
    out[3] = t.seen - t.handler_end;
    out[4] = t.slept;
    return 0;
}

int capture_mixed(int tid, int64_t *out, int max_frames, int timeout_ms, int64_t *info, int by_method) {
    if (out == NULL || max_frames < 0 || max_frames > ST_MAX_FRAMES) return -EINVAL;
    if (!vm_ready) return -ST_ENOVM;
    struct slot *s;
    uint32_t seq;
    int rc = request(tid, MODE_MIXED, max_frames, timeout_ms, &s, &seq);
    if (rc != 0) return rc;
    int n = by_method ? mixed_merge_methods(&s->mixed, out, max_frames) : mixed_merge(&s->mixed, out, max_frames);
    if (info != NULL) {
        info[0] = s->mixed.agct_frames;
        info[1] = s->mixed.walk_end;
        info[2] = s->mixed.segments;
        info[3] = s->mixed.java_thread;
        info[4] = s->mixed.agct_ns;
        info[5] = s->mixed.walk_ns;
        info[6] = s->mixed.unwind_ns;
        info[7] = s->mixed.inlining_cached;
    }
    release_slot(s, seq);
    return n;
}

int st_capture_mixed(int tid, int64_t *out, int max_frames, int timeout_ms, int64_t *info) {
    return capture_mixed(tid, out, max_frames, timeout_ms, info, 0);
}

int st_slots_in_use(void) {
    int used = 0;
    for (int i = 0; i < ST_SLOTS; i++) {
        if ((atomic_load(&slots[i].word) & STATE_MASK) != SLOT_FREE) used++;
    }
    return used;
}
