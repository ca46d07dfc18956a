/*
 * The inlining cache (inlining.h).
 *
 * What AsyncGetCallTrace says of a compiled frame depends only on the frame's nmethod and pc: the
 * scope descriptors at that pc. An nmethod is known by its compile id, which HotSpot never gives
 * twice, so (pc, compile id) keys a frame's methods for good even after the nmethod is freed and
 * another is compiled at the same address. The top frame's pc is where the thread was stopped,
 * not a return address, so whether the frame was the top one is part of the key as well.
 *
 * An answer is split among the physical frames as mixed_merge pins it: each Java frame takes the
 * answer's frames up to the first one of its own method. That split is wrong where a method was
 * inlined into itself, and then the next frame's share holds the method of the frame before it;
 * such answers, and answers cut before the next frame's share, are not kept (AsyncGetCallTrace is
 * asked for such stacks every time). A sample built from the cache is split by mixed_merge exactly
 * as it was kept.
 *
 * Entries are written and read by signal handlers: a version that is odd while an entry is
 * written, and a reader that finds it changed takes nothing from it.
 */
#include "inlining.h"
#include "vm.h"

#include <stdatomic.h>
#include <string.h>

#define INLINING_SLOTS 2048
/* Methods kept per compiled frame; a frame with more inlined into it is not kept. */
#define INLINING_MAX 12

struct inlining_entry {
    _Atomic uint32_t version;
    int32_t compile_id;   /* with top in its sign: negative for a top frame */
    uintptr_t pc;
    int32_t count;
    struct agct_frame frames[INLINING_MAX];
};

static struct inlining_entry cache[INLINING_SLOTS];

static int32_t keyed_id(int32_t compile_id, int top) {
    return top ? -compile_id : compile_id;
}

static struct inlining_entry *slot_of(uintptr_t pc, int32_t id) {
    uint64_t h = ((uint64_t) pc ^ ((uint64_t) (uint32_t) id << 32)) * 0x9e3779b97f4a7c15ull;
    return &cache[(h >> 40) % INLINING_SLOTS];
}

/* The methods kept for a frame into out (room for max); their count, or 0 when none are kept. */
static int lookup(uintptr_t pc, int32_t compile_id, int top, struct agct_frame *out, int max) {
    int32_t id = keyed_id(compile_id, top);
    struct inlining_entry *e = slot_of(pc, id);
    uint32_t v1 = atomic_load_explicit(&e->version, memory_order_acquire);
    if (v1 == 0 || (v1 & 1)) return 0;
    int32_t count = e->count;
    int same = e->pc == pc && e->compile_id == id && count > 0 && count <= INLINING_MAX && count <= max;
    if (same) memcpy(out, e->frames, sizeof(struct agct_frame) * (size_t) count);
    atomic_thread_fence(memory_order_acquire);
    if (!same || atomic_load_explicit(&e->version, memory_order_relaxed) != v1) return 0;
    return count;
}

static void store(uintptr_t pc, int32_t compile_id, int top, const struct agct_frame *frames, int count) {
    if (count <= 0 || count > INLINING_MAX) return;
    int32_t id = keyed_id(compile_id, top);
    struct inlining_entry *e = slot_of(pc, id);
    uint32_t v = atomic_load_explicit(&e->version, memory_order_relaxed);
    if ((v & 1) || !atomic_compare_exchange_strong(&e->version, &v, v + 1)) return;  /* someone is writing it */
    e->pc = pc;
    e->compile_id = id;
    e->count = count;
    memcpy(e->frames, frames, sizeof(struct agct_frame) * (size_t) count);
    atomic_store_explicit(&e->version, v + 2, memory_order_release);
}

/* A frame AsyncGetCallTrace names: a Java frame, not a stub. */
static int is_java(const struct physical_frame *p) {
    return p->type != PHYS_STUB;
}

int inlining_from_cache(struct mixed_sample *s) {
    /* a walk that ended early, or one whose top frame AsyncGetCallTrace would not start from, is
       left to it: its answer then holds more than the physical frames do */
    if (s->walk_end < 0 || s->agct_from[0] != 0) return 0;
    int n = 0, compiled = 0, all = 1;
    for (int pi = 0; pi < s->nphysical; pi++) {
        const struct physical_frame *p = &s->physical[pi];
        if (!is_java(p)) continue;
        if (p->jmid == 0) return 0;
        if (p->type == PHYS_INTERPRETED) {
            /* the top frame's saved bcp may lag behind the interpreter's */
            if (pi == 0) return 0;
            int native = vm_method_is_native(p->method);
            if (!native && p->bci < 0) return 0;
            if (n >= MIXED_MAX_VIRTUAL) { all = 0; break; }
            s->virtual_frames[n++] = (struct agct_frame) {native ? -3 : p->bci, p->jmid};
            continue;
        }
        if (p->compile_id <= 0) return 0;
        int count = lookup(p->pc, p->compile_id, pi == 0, &s->virtual_frames[n], MIXED_MAX_VIRTUAL - n);
        if (count == 0) {
            if (n + INLINING_MAX <= MIXED_MAX_VIRTUAL) return 0;
            all = 0;  /* no room left: the frames from here on are the physical ones, as past AGCT's depth */
            break;
        }
        n += count;
        compiled++;
    }
    if (compiled == 0) return 0;
    s->agct_frames = n;
    s->agct_depth = all ? n + 1 : n;  /* a complete answer is shorter than the depth asked */
    s->agct_ns = 0;
    s->inlining_cached = 1;
    return 1;
}

/* The first of the answer's frames [from, to) whose method is jmid, or -1. */
static int find_method(const struct mixed_sample *s, int from, int to, uintptr_t jmid) {
    for (int j = from; j < to; j++) {
        if (s->virtual_frames[j].method_id == jmid) return j;
    }
    return -1;
}

void inlining_remember(const struct mixed_sample *s) {
    if (s->walk_end < 0 || s->agct_from[0] != 0 || s->agct_frames <= 0) return;
    int complete = s->agct_frames < s->agct_depth;
    /* the compiled frame whose share is waiting for the next frame's share to confirm it */
    int pending = -1, pending_from = 0, pending_end = 0;
    int v = 0;
    for (int pi = 0; pi < s->nphysical; pi++) {
        const struct physical_frame *p = &s->physical[pi];
        if (!is_java(p)) continue;
        if (p->jmid == 0) return;
        int end = find_method(s, v, s->agct_frames, p->jmid);  /* where its share ends: its own method */
        if (end < 0) return;  /* past the answer's end */
        if (pending >= 0) {
            const struct physical_frame *q = &s->physical[pending];
            /* the frame before kept its own method in this share: its share was cut short */
            if (find_method(s, v, end, q->jmid) >= 0) return;
            store(q->pc, q->compile_id, pending == 0, &s->virtual_frames[pending_from], pending_end - pending_from + 1);
            pending = -1;
        }
        if (p->type == PHYS_INTERPRETED && end != v) return;  /* an interpreted frame is one method */
        if (p->type == PHYS_COMPILED && p->compile_id > 0) {
            pending = pi;
            pending_from = v;
            pending_end = end;
        }
        v = end + 1;
    }
    /* the last Java frame: confirmed when the answer was complete and ends with it */
    if (pending >= 0 && complete && v == s->agct_frames) {
        const struct physical_frame *q = &s->physical[pending];
        store(q->pc, q->compile_id, pending == 0, &s->virtual_frames[pending_from], pending_end - pending_from + 1);
    }
}
