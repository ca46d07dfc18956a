/*
 * Sampling: a native timer makes each sampled thread take the capture signal; the handler walks
 * the mixed stack and adds it to a fixed-size table in native memory (table.c), keyed by the
 * stack's frames. This file is the sampler: the sampled-thread set, the timers, the control thread.
 * No Java runs per sample and nothing is allocated; Java reads the table when asked.
 *
 *  - cpu mode: one clock per thread on that thread's CPU time, delivered to that thread
 *    (cpu_clock.c: a perf_events task-clock, else a POSIX CPU-time timer, which the scheduler tick
 *    limits): a thread is sampled only while it runs, per interval of its CPU time.
 *  - wall mode: a native thread of ours signals every sampled thread each interval, running or not.
 *
 * A control thread keeps the set of sampled threads current (threads come and go). Every sample
 * that cannot be recorded is counted by reason (no scratch buffer free, table full); a stack the walk
 * could not follow to its end is recorded as far as it went, with a marker frame, and counted too.
 *
 * Bounds that keep the host safe:
 *  - wall mode queues at most one tick per thread: a thread whose previous tick has not been
 *    handled yet (descheduled, or blocking the signal) is skipped, so the per-user queue of
 *    pending signals never grows with time; a thread seen blocking the signal is not ticked.
 *    (cpu mode cannot queue more: a POSIX timer has at most one signal pending, overruns are counted;
 *    a task-clock event is armed for one overflow at a time.)
 *  - the table is unmapped only under table_lock (readers hold it) and only when no handler is
 *    inside it; every wait for handlers has a deadline, after which the table stays mapped.
 *  - the interval is at most ST_PROFILE_MAX_INTERVAL_NS, so clock arithmetic cannot overflow.
 */
#define _GNU_SOURCE
#include "profiler.h"
#include "cpu_clock.h"
#include "labels.h"
#include "mixed.h"
#include "signals.h"
#include "table.h"
#include "stacktrace.h"
#include "vm.h"
#include "unwind.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 4096
#define SCRATCH_BUFFERS 8
#define HANDLER_WAIT_NS 2000000000LL  /* how long stop/start wait for handlers still running */

static _Atomic int sampling;        /* handlers record only while set */
static _Atomic int in_handler;      /* handlers between their check of `sampling` and their last write */
static int max_frames = 128;

struct scratch {
    _Atomic int busy;
    struct mixed_sample sample;
    int64_t merged[ST_PROFILE_MAX_FRAMES * MIXED_WORDS];
    uint64_t frames[ST_PROFILE_MAX_FRAMES * WORDS_PER_FRAME];
};
static struct scratch *scratch;     /* SCRATCH_BUFFERS of them, mapped once */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void profiler_sample(ucontext_t *uc, uint64_t weight) {
    atomic_fetch_add(&in_handler, 1);
    if (!atomic_load(&sampling) || scratch == NULL) goto out;
    int64_t start = now_ns();
    struct scratch *mine = NULL;
    for (int i = 0; i < SCRATCH_BUFFERS; i++) {
        int free_ = 0;
        if (atomic_compare_exchange_strong(&scratch[i].busy, &free_, 1)) { mine = &scratch[i]; break; }
    }
    if (mine == NULL) { table_count(ST_PROFILE_BUSY, weight); goto out; }
    mixed_capture(&mine->sample, uc, 0);
    int n = mixed_merge(&mine->sample, mine->merged, max_frames);
    /* never dropped: a walk that stopped early is recorded as far as it went, with a marker frame */
    int marked = 0;
    for (int i = 0; i < n; i++) {
        marked |= mine->merged[MIXED_WORDS * i] == ST_FRAME_MARKER;
        mine->frames[WORDS_PER_FRAME * i] = (uint64_t) mine->merged[MIXED_WORDS * i];
        /* a native frame is known by its address, a Java frame by method and bci */
        mine->frames[WORDS_PER_FRAME * i + 1] = (uint64_t) mine->merged[MIXED_WORDS * i + 1];
        mine->frames[WORDS_PER_FRAME * i + 2] = (uint64_t) mine->merged[MIXED_WORDS * i + 2];
    }
    if (marked) table_count(ST_PROFILE_INCOMPLETE, weight);
    if (n > 0) table_record(mine->frames, n * WORDS_PER_FRAME, labels_current(), weight);
    atomic_store(&mine->busy, 0);
    table_count(ST_PROFILE_SAMPLES, weight);
    table_count(ST_PROFILE_WALKS, 1);
    int64_t spent = now_ns() - start;
    table_count(ST_PROFILE_NANOS, (uint64_t) spent);
    table_count_max(ST_PROFILE_MAX_NANOS, (uint64_t) spent);
out:
    atomic_fetch_sub(&in_handler, 1);
}

/* ---- which threads, and the timers ---- */

struct sampled_thread {
    int tid;
    struct cpu_clock clock;  /* cpu mode */
    int slot;       /* its index in tick_pending (wall mode) */
    int blocks;     /* wall mode: judged to block the signal: not ticked, its ticks counted as such */
    int looks;      /* wall mode: consecutive looks that found it blocking */
};

/* Wall mode: tick_pending[slot] holds the tid of a thread whose tick is queued and not yet handled
   (0: none). Set by the ticker, cleared by the handler in that thread: lock-free both ways. */
static _Atomic int tick_pending[MAX_THREADS];
/* Wall mode: ticks that came while the thread's last one was still queued. The thread ran no code of
   its own meanwhile (a queued signal is handled before it does), so its stack was the one the queued
   tick will see: that sample stands for them too, and counts 1 + missed. */
static _Atomic uint32_t ticks_missed[MAX_THREADS];
static unsigned char slot_used[MAX_THREADS];   /* control thread only */

static int take_slot(void) {
    for (int i = 0; i < MAX_THREADS; i++) {
        if (!slot_used[i]) { slot_used[i] = 1; return i; }
    }
    return -1;
}

uint64_t profiler_tick_taken(uintptr_t value, int tid) {
    uintptr_t slot = value >> 8;
    if (slot == 0 || slot > MAX_THREADS) return 1;  /* a timer's tick: nothing pending to clear */
    /* not ours (any more): its ticks were counted when the thread was judged to block the signal,
       or it is left from a session that ended */
    if (!atomic_compare_exchange_strong(&tick_pending[slot - 1], &tid, 0)) return 0;
    return 1 + atomic_exchange(&ticks_missed[slot - 1], 0);
}

/* Wall mode, at each refresh: a new thread is judged on one look (nothing of ours is queued to it
   yet, and a tick sent to a thread that blocks for good would hold a queue entry for good); a known
   one only when its last tick is still unhandled, and on two looks in a row. A thread judged to block
   is looked at again each refresh and ticked again as soon as it does not. */
static void judge_blocking(struct sampled_thread *t, int is_new) {
    if (!is_new && !t->blocks && atomic_load(&tick_pending[t->slot]) == 0) {
        t->looks = 0;
        return;
    }
    t->looks = st_looks_blocking(t->tid) == ST_LOOK_BLOCKS ? t->looks + 1 : 0;
    int was = t->blocks;
    t->blocks = t->looks >= (is_new || was ? 1 : 2);
    if (t->blocks && !was && !is_new) {
        /* the tick still queued and the ticks it stood for are counted now as not sent, and its
           sample, if the thread ever takes it, counts nothing (its slot no longer names it) */
        int tid = t->tid;
        if (atomic_compare_exchange_strong(&tick_pending[t->slot], &tid, 0)) {
            table_count(ST_PROFILE_SIGNAL_BLOCKED, 1 + atomic_exchange(&ticks_missed[t->slot], 0));
        }
    }
}

static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t control_wake = PTHREAD_COND_INITIALIZER;
static pthread_t control_thread;
static int control_running;
static int stop_requested;
static int mode;
static int64_t interval_ns;
static int all_threads;
static int wanted[MAX_THREADS];
static int nwanted;
static struct sampled_thread threads[MAX_THREADS];
static int nthreads;

/* The process's threads but our own quiet ones, up to max of them into out; *more says how many did
   not fit. */
static int list_tasks(int *out, int max, int *more) {
    int n = 0;
    *more = 0;
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) return 0;
    struct dirent *d;
    int self = st_gettid();
    while ((d = readdir(dir)) != NULL) {
        int tid = atoi(d->d_name);
        if (tid <= 0 || tid == self || signals_is_quiet_thread(tid)) continue;
        if (n < max) out[n++] = tid;
        else (*more)++;
    }
    closedir(dir);
    return n;
}

static int task_alive(int tid) {
    return syscall(SYS_tgkill, getpid(), tid, 0) == 0;  /* signal 0: existence check only */
}

/* Brings the sampled set up to date: new threads in, dead ones out (with their timers). */
static void refresh_threads(void) {
    static int tasks[MAX_THREADS];
    int beyond = 0;
    int ntasks = all_threads ? list_tasks(tasks, MAX_THREADS, &beyond) : 0;
    if (!all_threads) {
        for (int i = 0; i < nwanted; i++) {
            if (!signals_is_quiet_thread(wanted[i])) tasks[ntasks++] = wanted[i];
        }
    }
    /* drop the dead */
    int kept = 0;
    for (int i = 0; i < nthreads; i++) {
        struct sampled_thread *t = &threads[i];
        if (task_alive(t->tid)) {
            int pending = atomic_load(&tick_pending[t->slot]);
            if (pending != 0 && pending != t->tid) {  /* not its own */
                atomic_store(&tick_pending[t->slot], 0);
                atomic_store(&ticks_missed[t->slot], 0);
            }
            if (mode == ST_PROFILE_WALL) judge_blocking(t, 0);
            if (mode == ST_PROFILE_CPU) cpu_clock_check(&t->clock, t->tid, interval_ns);
            threads[kept++] = *t;
        } else {
            cpu_clock_stop(&t->clock);
            atomic_store(&tick_pending[t->slot], 0);
            atomic_store(&ticks_missed[t->slot], 0);
            slot_used[t->slot] = 0;
        }
    }
    nthreads = kept;
    /* add the new; those that get no slot or no clock are tried again at the next refresh */
    if (mode == ST_PROFILE_CPU) cpu_clock_budget();
    uint64_t unsampled = (uint64_t) beyond;
    for (int i = 0; i < ntasks; i++) {
        int known = 0;
        for (int k = 0; k < nthreads && !known; k++) known = threads[k].tid == tasks[i];
        if (known || !task_alive(tasks[i])) continue;
        struct sampled_thread t = {tasks[i], {-1, 0, 0, 0, 0, 0}, nthreads < MAX_THREADS ? take_slot() : -1, 0, 0};
        if (t.slot < 0) {
            unsampled++;
            continue;
        }
        int err = mode == ST_PROFILE_CPU ? cpu_clock_start(&t.clock, t.tid, interval_ns) : 0;
        if (err != 0) {
            slot_used[t.slot] = 0;
            if (err == -EAGAIN) unsampled++;
            else table_count(ST_PROFILE_THREAD_GONE, 1);
            continue;
        }
        if (mode == ST_PROFILE_WALL) judge_blocking(&t, 1);
        threads[nthreads++] = t;
    }
    table_set(ST_PROFILE_UNSAMPLED_THREADS, unsampled);
}

static void tick_all(void) {
    int signo = st_signal();
    for (int i = 0; i < nthreads; i++) {
        struct sampled_thread *t = &threads[i];
        if (t->blocks) {
            /* not sent (it would wait in the per-user queue for good), but not silent either */
            table_count(ST_PROFILE_SIGNAL_BLOCKED, 1);
            continue;
        }
        int none = 0;
        /* its last tick is still queued: one is enough (the per-user signal queue is finite); the
           sample it gives counts this tick too */
        if (!atomic_compare_exchange_strong(&tick_pending[t->slot], &none, t->tid)) {
            atomic_fetch_add(&ticks_missed[t->slot], 1);
            continue;
        }
        int err = signals_send(t->tid, signo, PROFILE_TICK | ((uintptr_t) (t->slot + 1) << 8));
        if (err != 0) {
            atomic_store(&tick_pending[t->slot], 0);
            table_count(err == -ESRCH ? ST_PROFILE_THREAD_GONE : ST_PROFILE_BUSY, 1);
        }
    }
}

static void *control_loop(void *arg) {
    (void) arg;
    int64_t next_refresh = 0, next_tick = now_ns();
    pthread_mutex_lock(&control_lock);
    while (!stop_requested) {
        int64_t now = now_ns();
        if (now >= next_refresh) {
            refresh_threads();
            unwind_refresh(0);  /* libraries come and go too (done by the unwinder's own thread) */
            next_refresh = now + 100000000;  /* threads come and go: look again every 100 ms */
        }
        if (mode == ST_PROFILE_WALL && now >= next_tick) {
            tick_all();
            next_tick += interval_ns;
            if (next_tick < now) next_tick = now + interval_ns;  /* fell behind: skip, don't burst */
        }
        int64_t until = mode == ST_PROFILE_WALL && next_tick < next_refresh ? next_tick : next_refresh;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t wait = until - now_ns();
        if (wait > 0) {
            int64_t deadline = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec + wait;
            ts.tv_sec = deadline / 1000000000;
            ts.tv_nsec = deadline % 1000000000;
            pthread_cond_timedwait(&control_wake, &control_lock, &ts);
        }
    }
    for (int i = 0; i < nthreads; i++) {
        cpu_clock_stop(&threads[i].clock);
        /* a tick still queued belongs to this session: its thread may end before taking it, and the
           slot must not look busy to the thread that gets it next */
        atomic_store(&tick_pending[threads[i].slot], 0);
        atomic_store(&ticks_missed[threads[i].slot], 0);
        slot_used[threads[i].slot] = 0;
    }
    nthreads = 0;
    pthread_mutex_unlock(&control_lock);
    return NULL;
}

/* ---- the st_profile_ API (the table's own part is in table.c) ---- */

/* The scratch buffers once, then the table (cleared, or mapped anew at another size). */
static int allocate(uint32_t capacity, uint64_t arena_words) {
    if (scratch == NULL) {
        void *p = mmap(NULL, sizeof(struct scratch) * SCRATCH_BUFFERS, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return -ENOMEM;
        scratch = p;
    }
    return table_allocate(capacity, arena_words);
}

/* Waits, with a deadline, until no handler is between its check of `sampling` and its last write. */
static int handlers_quiet(void) {
    int64_t deadline = now_ns() + HANDLER_WAIT_NS;
    while (atomic_load(&in_handler) != 0) {
        if (now_ns() >= deadline) return 0;
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    return 1;
}

int st_profile_start(int profile_mode, int64_t interval, const int32_t *tids, int ntids, int frames,
                     int table_entries) {
    if (st_signal() == 0) return -ST_ENOTINIT;
    if (!vm_ready) return -ST_ENOVM;
    if ((profile_mode != ST_PROFILE_CPU && profile_mode != ST_PROFILE_WALL) || interval < 100000
        || interval > ST_PROFILE_MAX_INTERVAL_NS
        || ntids < 0 || ntids > MAX_THREADS || (ntids > 0 && tids == NULL)
        || frames < 1 || frames > ST_PROFILE_MAX_FRAMES || table_entries < 16 || table_entries > (1 << 22)
        || (table_entries & (table_entries - 1)) != 0) {
        return -EINVAL;
    }
    pthread_mutex_lock(&control_lock);
    if (control_running) { pthread_mutex_unlock(&control_lock); return -EBUSY; }
    /* no handler may still be writing the table we are about to clear: if one is stuck (stopped
       by a debugger, starved), the table stays as it is and we say so */
    if (!handlers_quiet()) { pthread_mutex_unlock(&control_lock); return -EBUSY; }
    /* the arena holds 48 frames a stack on average: the mappings commit memory only as it is used */
    int rc = allocate((uint32_t) table_entries, (uint64_t) table_entries * 48 * WORDS_PER_FRAME);
    if (rc != 0) { pthread_mutex_unlock(&control_lock); return rc; }
    table_reset_counters();
    mode = profile_mode;
    interval_ns = interval;
    max_frames = frames;
    all_threads = ntids == 0;
    nwanted = ntids;
    for (int i = 0; i < ntids; i++) wanted[i] = tids[i];
    nthreads = 0;
    for (int i = 0; i < MAX_THREADS; i++) {  /* no session's leftovers */
        atomic_store(&tick_pending[i], 0);
        atomic_store(&ticks_missed[i], 0);
    }
    stop_requested = 0;
    /* whether the threads will get task-clocks, known before the control thread gives them any */
    if (mode == ST_PROFILE_CPU) cpu_clock_probe(interval_ns);
    atomic_store(&sampling, 1);
    rc = signals_start_quiet_thread(&control_thread, control_loop, "stacktrace-prof");
    if (rc != 0) {
        atomic_store(&sampling, 0);
        pthread_mutex_unlock(&control_lock);
        return rc;
    }
    control_running = 1;
    pthread_mutex_unlock(&control_lock);
    return 0;
}

int st_profile_stop(void) {
    pthread_mutex_lock(&control_lock);
    if (!control_running) { pthread_mutex_unlock(&control_lock); return 0; }
    stop_requested = 1;
    pthread_cond_signal(&control_wake);
    pthread_mutex_unlock(&control_lock);
    pthread_join(control_thread, NULL);  /* it deletes the timers */
    atomic_store(&sampling, 0);
    /* signals already queued find sampling off; wait (bounded) for handlers already past the
       check. One that does not finish keeps the table mapped: start refuses to touch it. */
    int quiet = handlers_quiet();
    pthread_mutex_lock(&control_lock);
    control_running = 0;
    pthread_mutex_unlock(&control_lock);
    return quiet ? 0 : -ETIMEDOUT;
}

int st_profile_running(void) {
    return atomic_load(&sampling);
}

int st_profile_threads(void) {
    pthread_mutex_lock(&control_lock);
    int n = nthreads;
    pthread_mutex_unlock(&control_lock);
    return n;
}

int st_profile_clock(int64_t *out, int n) {
    if (out == NULL || n < 0) return -EINVAL;
    int64_t v[4] = {0, 0, cpu_clock_tick_ns(), 0};
    pthread_mutex_lock(&control_lock);
    for (int i = 0; i < nthreads; i++) {
        if (threads[i].clock.perf_fd >= 0) v[0]++;
        else if (threads[i].clock.has_timer) v[1]++;
    }
    /* a POSIX CPU timer fires on the tick at the earliest; before the control thread has clocked
       any thread, the probe at start says which kind they will get */
    int timers = v[1] > 0 || (v[0] == 0 && !cpu_clock_perf_allowed_now());
    v[3] = !control_running ? 0 : mode == ST_PROFILE_CPU && timers && v[2] > interval_ns ? v[2] : interval_ns;
    pthread_mutex_unlock(&control_lock);
    int k = n < 4 ? n : 4;
    for (int i = 0; i < k; i++) out[i] = v[i];
    return k;
}

int st_profile_use_perf(int allowed) {
    return cpu_clock_perf_allowed(allowed);
}
