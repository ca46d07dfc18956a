/*
 * The profile's aggregate table: one entry per distinct stack with its count, in native memory
 * mapped outside any handler; handlers add to it lock-free (table_record), Java reads it
 * (st_profile_read). Also the profile's counters, which handlers and the sampler both add to.
 */
#include "table.h"
#include "stacktrace.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

struct entry {
    _Atomic uint64_t hash;     /* 0: empty */
    _Atomic uint32_t state;    /* 0: being filled, 1: ready, 2: no room for its frames */
    uint32_t frames;
    uint32_t label;            /* the label set's id: equal stacks with other labels are other entries */
    uint64_t offset;           /* into the arena, in words */
    _Atomic uint64_t count;
};

struct table {
    uint32_t capacity;         /* entries, a power of two */
    uint64_t arena_words;
    _Atomic uint64_t arena_top;
    struct entry *entries;
    uint64_t *arena;
};

static struct table table;
/* Held by readers of the table and by whoever maps, clears or unmaps it; never by a handler. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t counters[ST_PROFILE_COUNTERS];

static uint64_t hash_words(const uint64_t *w, int n, uint32_t label) {
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t) label * 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < n; i++) {
        h ^= w[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h | 1;  /* never 0, the empty mark */
}

void table_count(int counter, uint64_t n) {
    atomic_fetch_add_explicit(&counters[counter], n, memory_order_relaxed);
}

/* Adds weight samples of this stack. Lock-free; an entry's frames are written once, before it is ready. */
void table_record(const uint64_t *frames, int words, uint32_t label, uint64_t weight) {
    uint64_t h = hash_words(frames, words, label);
    uint32_t mask = table.capacity - 1;
    for (uint32_t probe = 0; probe < table.capacity; probe++) {
        struct entry *e = &table.entries[(h + probe) & mask];
        uint64_t seen = atomic_load_explicit(&e->hash, memory_order_acquire);
        if (seen == 0) {
            uint64_t empty = 0;
            if (!atomic_compare_exchange_strong(&e->hash, &empty, h)) {
                seen = empty;  /* someone else took it: look at what they put there */
            } else {
                uint64_t at = atomic_fetch_add(&table.arena_top, (uint64_t) words);
                if (at + (uint64_t) words > table.arena_words) {
                    atomic_store_explicit(&e->state, 2, memory_order_release);
                    table_count(ST_PROFILE_TABLE_FULL, weight);
                    return;
                }
                memcpy(&table.arena[at], frames, sizeof(uint64_t) * (size_t) words);
                e->offset = at;
                e->label = label;
                e->frames = (uint32_t) (words / WORDS_PER_FRAME);
                atomic_store_explicit(&e->count, weight, memory_order_relaxed);
                atomic_store_explicit(&e->state, 1, memory_order_release);
                return;
            }
        }
        if (seen != h) continue;
        uint32_t state;
        for (int spins = 0; (state = atomic_load_explicit(&e->state, memory_order_acquire)) == 0; spins++) {
            if (spins > 10000) { table_count(ST_PROFILE_BUSY, weight); return; }  /* its writer is stuck: give up */
        }
        if (state == 2) { table_count(ST_PROFILE_TABLE_FULL, weight); return; }
        if (e->frames * WORDS_PER_FRAME == (uint32_t) words && e->label == label
            && memcmp(&table.arena[e->offset], frames, sizeof(uint64_t) * (size_t) words) == 0) {
            atomic_fetch_add_explicit(&e->count, weight, memory_order_relaxed);
            return;
        }
    }
    table_count(ST_PROFILE_TABLE_FULL, weight);
}

void table_set(int counter, uint64_t value) {
    atomic_store_explicit(&counters[counter], value, memory_order_relaxed);
}

void table_count_max(int counter, uint64_t value) {
    uint64_t max = atomic_load_explicit(&counters[counter], memory_order_relaxed);
    while (value > max && !atomic_compare_exchange_weak(&counters[counter], &max, value)) {
    }
}

void table_reset_counters(void) {
    for (int i = 0; i < ST_PROFILE_COUNTERS; i++) atomic_store(&counters[i], 0);
}

int table_allocate(uint32_t capacity, uint64_t arena_words) {
    pthread_mutex_lock(&table_lock);
    int rc = 0;
    if (table.entries != NULL && table.capacity == capacity && table.arena_words == arena_words) {
        memset(table.entries, 0, sizeof(struct entry) * capacity);
        atomic_store(&table.arena_top, 0);
        goto out;
    }
    void *entries = mmap(NULL, sizeof(struct entry) * capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *arena = mmap(NULL, sizeof(uint64_t) * arena_words, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (entries == MAP_FAILED || arena == MAP_FAILED) {
        if (entries != MAP_FAILED) munmap(entries, sizeof(struct entry) * capacity);
        if (arena != MAP_FAILED) munmap(arena, sizeof(uint64_t) * arena_words);
        rc = -ENOMEM;  /* the old table stays as it was */
        goto out;
    }
    if (table.entries != NULL) {
        munmap(table.entries, sizeof(struct entry) * table.capacity);
        munmap(table.arena, sizeof(uint64_t) * table.arena_words);
    }
    table.entries = entries;
    table.arena = arena;
    table.capacity = capacity;
    table.arena_words = arena_words;
    atomic_store(&table.arena_top, 0);
out:
    pthread_mutex_unlock(&table_lock);
    return rc;
}

int st_profile_counters(int64_t *out, int n) {
    if (out == NULL || n < 0) return -EINVAL;
    if (n > ST_PROFILE_COUNTERS) n = ST_PROFILE_COUNTERS;
    for (int i = 0; i < n; i++) out[i] = (int64_t) atomic_load(&counters[i]);
    return ST_PROFILE_COUNTERS;
}

int64_t st_profile_read(int64_t *out, int64_t capacity_words) {
    /* [count, frames | label << 32, (kind, id, bci) x frames] per stack and label set; returns the words written, or the
       negated words needed when out is too small. Safe while sampling: only ready entries are read;
       table_lock keeps start from unmapping or clearing the table meanwhile. */
    pthread_mutex_lock(&table_lock);
    int64_t used = 0;
    if (table.entries == NULL) goto out;
    for (uint32_t i = 0; i < table.capacity; i++) {
        struct entry *e = &table.entries[i];
        if (atomic_load_explicit(&e->hash, memory_order_acquire) == 0) continue;
        if (atomic_load_explicit(&e->state, memory_order_acquire) != 1) continue;
        int64_t need = 2 + (int64_t) e->frames * WORDS_PER_FRAME;
        if (out != NULL && used + need <= capacity_words) {
            out[used] = (int64_t) atomic_load_explicit(&e->count, memory_order_relaxed);
            out[used + 1] = (int64_t) e->frames | ((int64_t) e->label << 32);
            memcpy(&out[used + 2], &table.arena[e->offset], sizeof(uint64_t) * e->frames * WORDS_PER_FRAME);
        }
        used += need;
    }
out:
    pthread_mutex_unlock(&table_lock);
    return out == NULL || used <= capacity_words ? used : -used;
}
