/*
 * The published table of frame shapes: one immutable array of modules sorted by address, swapped
 * whole when the loaded modules change. A handler brackets its lookup with a count of readers, so
 * the array and rows it replaced are freed only once no handler can still be reading them.
 */
#define _GNU_SOURCE
#include "frame_table.h"
#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct frame_set {
    size_t n;
    struct cfi_module modules[];
};

static _Atomic(struct frame_set *) current;
static atomic_int readers;
static atomic_uint generation, misses;

/* Everything below is the refresher's, under refresh_lock. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long seen_adds, seen_subs;
static void **garbage;
static size_t ngarbage, garbage_cap;

int frame_table_find(uintptr_t pc, struct cfi_row *row) {
    atomic_fetch_add(&readers, 1);
    const struct frame_set *set = atomic_load(&current);
    int found = 0;
    if (set != NULL && set->n > 0 && pc >= set->modules[0].start) {
        size_t lo = 0, hi = set->n;  /* the last module starting at or below pc */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (set->modules[mid].start <= pc) lo = mid; else hi = mid;
        }
        const struct cfi_module *m = &set->modules[lo];
        if (pc < m->end) {
            found = 1;
            *row = (struct cfi_row) {0, CFA_NONE | ((uint32_t) (uint8_t) (int8_t) CFI_FP_SAME << 3)};
            uint64_t loc = pc - m->base;
            if (m->nrows > 0 && loc <= UINT32_MAX && m->rows[0].loc <= loc) {
                uint32_t a = 0, b = m->nrows;
                while (b - a > 1) {
                    uint32_t mid = a + (b - a) / 2;
                    if (m->rows[mid].loc <= loc) a = mid; else b = mid;
                }
                *row = m->rows[a];
            }
        }
    }
    atomic_fetch_sub(&readers, 1);
    return found;
}

struct loaded_counts {
    unsigned long long adds, subs;
    int known;
};

static int first_module(struct dl_phdr_info *info, size_t size, void *arg) {
    struct loaded_counts *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
        c->known = 1;
    }
    return 1;
}

struct collect {
    const struct frame_set *old;  /* modules to reuse when nothing was unloaded, else NULL */
    struct cfi_module *modules;
    size_t n, cap;
    int out_of_memory;
};

static const struct cfi_module *reusable(const struct frame_set *old, const struct cfi_module *m) {
    for (size_t i = 0; old != NULL && i < old->n; i++) {
        const struct cfi_module *o = &old->modules[i];
        if (o->base == m->base && o->start == m->start && o->end == m->end) return o;
    }
    return NULL;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg) {
    (void) size;
    struct collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct cfi_module *more = realloc(c->modules, sizeof(*more) * cap);
        if (more == NULL) { c->out_of_memory = 1; return 1; }
        c->modules = more;
        c->cap = cap;
    }
    struct cfi_module probe = {.base = info->dlpi_addr};
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (probe.start == 0 || lo < probe.start) probe.start = lo;
        if (hi > probe.end) probe.end = hi;
    }
    if (probe.start == 0) return 0;  /* nothing executable */
    const struct cfi_module *old = reusable(c->old, &probe);
    if (old != NULL) {
        c->modules[c->n++] = *old;
    } else if (cfi_read_module(info, &c->modules[c->n]) == 0) {
        c->n++;
    } else {
        c->out_of_memory = 1;
        return 1;
    }
    return 0;
}

static int by_start(const void *a, const void *b) {
    const struct cfi_module *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void discard(void *p) {
    if (p == NULL) return;
    if (ngarbage == garbage_cap) {
        size_t cap = garbage_cap ? garbage_cap * 2 : 64;
        void **more = realloc(garbage, sizeof(*more) * cap);
        if (more == NULL) return;  /* kept for good: a leak, never a use after free */
        garbage = more;
        garbage_cap = cap;
    }
    garbage[ngarbage++] = p;
}

/* Frees what the last swaps replaced once no handler is between its two counts (waits at most ~20 ms;
   else tries again at the next refresh). */
static void free_garbage(void) {
    for (int i = 0; i < 200 && atomic_load(&readers) != 0; i++) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    if (atomic_load(&readers) != 0) return;
    for (size_t i = 0; i < ngarbage; i++) free(garbage[i]);
    ngarbage = 0;
}

static int in_set(const struct frame_set *set, const struct cfi_row *rows) {
    for (size_t i = 0; i < set->n; i++) {
        if (set->modules[i].rows == rows) return 1;
    }
    return 0;
}

int frame_table_refresh(void) {
    struct loaded_counts counts = {0, 0, 0};
    dl_iterate_phdr(first_module, &counts);
    pthread_mutex_lock(&refresh_lock);
    struct frame_set *old = atomic_load(&current);
    if (old != NULL && counts.known && counts.adds == seen_adds && counts.subs == seen_subs) {
        pthread_mutex_unlock(&refresh_lock);
        return 0;
    }
    /* After an unload a new module may sit where an old one was: read them all again. */
    struct collect c = {.old = old != NULL && counts.known && counts.subs == seen_subs ? old : NULL};
    dl_iterate_phdr(add_module, &c);
    struct frame_set *set = c.out_of_memory ? NULL : malloc(sizeof(*set) + sizeof(struct cfi_module) * c.n);
    if (set == NULL) {
        for (size_t i = 0; i < c.n; i++) {
            if (old == NULL || !in_set(old, c.modules[i].rows)) free(c.modules[i].rows);
        }
        free(c.modules);
        pthread_mutex_unlock(&refresh_lock);
        return -1;
    }
    qsort(c.modules, c.n, sizeof(*c.modules), by_start);
    set->n = c.n;
    memcpy(set->modules, c.modules, sizeof(*c.modules) * c.n);
    free(c.modules);
    atomic_store(&current, set);
    atomic_fetch_add(&generation, 1);
    seen_adds = counts.adds;
    seen_subs = counts.subs;
    if (old != NULL) {
        for (size_t i = 0; i < old->n; i++) {
            if (!in_set(set, old->modules[i].rows)) discard(old->modules[i].rows);
        }
        discard(old);
    }
    free_garbage();
    pthread_mutex_unlock(&refresh_lock);
    return 0;
}

void frame_table_missed(void) {
    atomic_fetch_add_explicit(&misses, 1, memory_order_relaxed);
}

unsigned frame_table_misses(void) {
    return atomic_load_explicit(&misses, memory_order_relaxed);
}

/* ---- the refresher thread: the one place, after set-up, that waits for the loader's lock ---- */

static pthread_mutex_t ask_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t asked_cond = PTHREAD_COND_INITIALIZER, done_cond = PTHREAD_COND_INITIALIZER;
static uint64_t asked, finished;
static int refresher_started;

static void *refresher(void *arg) {
    (void) arg;
    pthread_mutex_lock(&ask_lock);
    for (;;) {
        while (finished == asked) pthread_cond_wait(&asked_cond, &ask_lock);
        uint64_t upto = asked;
        pthread_mutex_unlock(&ask_lock);
        frame_table_refresh();
        pthread_mutex_lock(&ask_lock);
        finished = upto;
        pthread_cond_broadcast(&done_cond);
    }
    return NULL;
}

int frame_table_refresh_within(int64_t wait_ns) {
    unsigned before = atomic_load(&generation);
    pthread_mutex_lock(&ask_lock);
    if (!refresher_started) {
        int rc = signals_start_quiet_thread(NULL, refresher, "stacktrace-cfi");
        if (rc != 0) {
            pthread_mutex_unlock(&ask_lock);
            return rc;
        }
        refresher_started = 1;
    }
    uint64_t ticket = ++asked;
    pthread_cond_signal(&asked_cond);
    if (wait_ns > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + wait_ns;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (finished < ticket && pthread_cond_timedwait(&done_cond, &ask_lock, &until) == 0) {}
    }
    int done = finished >= ticket;
    pthread_mutex_unlock(&ask_lock);
    if (!done) return wait_ns > 0 ? -ETIMEDOUT : 0;
    return atomic_load(&generation) != before;
}

void frame_table_size(int64_t *modules, int64_t *rows, int64_t *bytes) {
    *modules = *rows = *bytes = 0;
    atomic_fetch_add(&readers, 1);
    const struct frame_set *set = atomic_load(&current);
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        (*modules)++;
        *rows += set->modules[i].nrows;
    }
    atomic_fetch_sub(&readers, 1);
    *bytes = *rows * (int64_t) sizeof(struct cfi_row);
}
