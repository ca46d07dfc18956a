/*
 * The merge behind a mixed stack, in the requester once the handler has published its sample
 * (walk.c): AsyncGetCallTrace's frames pinned on the physical Java frames by method, native frames
 * in their places, a marker frame where the walk stopped early.
 */
#include "mixed.h"
#include "stacktrace.h"
#include "vm.h"
#include "safe_access.h"

#include <stdint.h>

struct emitter {
    int64_t *out;
    int max, n;
    int lost;  /* frames that did not fit */
};

static void emit(struct emitter *e, int kind, uintptr_t id, int bci, uintptr_t pc, uintptr_t sp) {
    if (e->n >= e->max) { e->lost++; return; }
    int64_t *w = e->out + MIXED_WORDS * e->n++;
    w[0] = kind;
    w[1] = (int64_t) id;
    w[2] = bci;
    w[3] = (int64_t) pc;
    w[4] = (int64_t) sp;
}

/* A marker frame; it takes the last slot if the stack is full, so a cut stack always ends with one. */
static void emit_marker(struct emitter *e, int reason, int detail) {
    if (e->max <= 0) return;
    if (e->n >= e->max) e->n = e->max - 1;
    emit(e, ST_FRAME_MARKER, (uintptr_t) reason, detail, 0, 0);
}

/* Why a walk that ended with this code stopped, as a marker reason. */
static int marker_reason(int walk_end) {
    return walk_end == WALK_NO_BLOB || walk_end == WALK_PROLOGUE || walk_end == WALK_FRAME_SIZE
         ? ST_MARK_UNKNOWN_JAVA : ST_MARK_TRUNCATED;
}

static int physical_kind(const struct physical_frame *p);

/* Pins AGCT's virtual frames on the physical ones. Returns how many of AGCT's frames were placed,
   or -1 if they do not fit. Where AGCT was asked for fewer frames than the stack has, the frames
   past its answer are the physical ones. */
static int merge_with_agct(const struct mixed_sample *s, struct emitter *e) {
    int v = 0, pi = 0, ni = 0, nv = s->agct_frames;
    int truncated = nv >= s->agct_depth;
    for (int seg = 0; seg < s->segments; seg++) {
        if (seg > 0 && seg == s->gap_segment) emit_marker(e, ST_MARK_TRUNCATED, WALK_UNWIND);
        for (; ni < s->nnative && s->native[ni].segment == seg; ni++) emit(e, ST_FRAME_NATIVE, s->native[ni].ip, -1, s->native[ni].ip, 0);
        for (; pi < s->nphysical && s->physical[pi].segment == seg; pi++) {
            const struct physical_frame *p = &s->physical[pi];
            if (p->type == PHYS_STUB) { emit(e, ST_FRAME_STUB, p->pc, -1, p->pc, p->sp); continue; }
            if (pi == 0 && s->agct_from[0] != 0) {  /* a method in its prologue: AGCT started below it */
                if (p->jmid == 0) return -1;
                emit(e, physical_kind(p), p->jmid, -1, p->pc, p->sp);
                continue;
            }
            int j = v;
            while (j < nv && s->virtual_frames[j].method_id != p->jmid) j++;
            if (p->jmid == 0) return -1;
            if (j == nv) {
                if (!truncated) return -1;
                emit(e, physical_kind(p), p->jmid, p->bci, p->pc, p->sp);  /* past AGCT's depth */
                v = nv;
                continue;
            }
            for (; v < j; v++) emit(e, ST_FRAME_INLINED, s->virtual_frames[v].method_id, s->virtual_frames[v].lineno, p->pc, p->sp);
            int lineno = s->virtual_frames[v].lineno;
            int kind = lineno == -3 ? ST_FRAME_NATIVE_METHOD
                     : p->type == PHYS_INTERPRETED ? ST_FRAME_INTERPRETED : ST_FRAME_COMPILED;
            emit(e, kind, p->jmid, lineno < 0 ? -1 : lineno, p->pc, p->sp);
            v++;
        }
    }
    for (; ni < s->nnative; ni++) emit(e, ST_FRAME_NATIVE, s->native[ni].ip, -1, s->native[ni].ip, 0);
    return v;
}

static int physical_kind(const struct physical_frame *p) {
    return vm_method_is_native(p->method) ? ST_FRAME_NATIVE_METHOD
         : p->type == PHYS_INTERPRETED ? ST_FRAME_INTERPRETED : ST_FRAME_COMPILED;
}

/* The physical frames alone: each Java frame's outer method (no inlined frames, no compiled bci).
   by_method: ids are Method* (for readers of the VM's own structures) instead of jmethodIDs. */
static void merge_physical(const struct mixed_sample *s, struct emitter *e, int by_method) {
    int pi = 0, ni = 0;
    for (int seg = 0; seg < s->segments; seg++) {
        if (seg > 0 && seg == s->gap_segment) emit_marker(e, ST_MARK_TRUNCATED, WALK_UNWIND);
        for (; ni < s->nnative && s->native[ni].segment == seg; ni++) emit(e, ST_FRAME_NATIVE, s->native[ni].ip, -1, s->native[ni].ip, 0);
        for (; pi < s->nphysical && s->physical[pi].segment == seg; pi++) {
            const struct physical_frame *p = &s->physical[pi];
            uintptr_t id = by_method ? p->method : p->jmid;
            if (p->type == PHYS_STUB || id == 0) { emit(e, ST_FRAME_STUB, p->pc, -1, p->pc, p->sp); continue; }
            emit(e, physical_kind(p), id, p->bci, p->pc, p->sp);
        }
    }
    for (; ni < s->nnative; ni++) emit(e, ST_FRAME_NATIVE, s->native[ni].ip, -1, s->native[ni].ip, 0);
}

/* How many of AGCT's frames the physical frames already cover: up to the last Java frame found. */
static int agct_covered(const struct mixed_sample *s) {
    for (int pi = s->nphysical - 1; pi >= 0; pi--) {
        uintptr_t jmid = s->physical[pi].jmid;
        if (s->physical[pi].type == PHYS_STUB || jmid == 0) continue;
        for (int v = s->agct_frames - 1; v >= 0; v--) {
            if (s->virtual_frames[v].method_id == jmid) return v + 1;
        }
        return s->agct_frames;  /* not in AGCT's answer: nothing of it can be placed after */
    }
    return 0;
}

/* A walk that stopped early: what it found, then AGCT's Java frames below that (without the native
   frames between them) after a marker, then a marker for the missing bottom. */
static void merge_incomplete(const struct mixed_sample *s, struct emitter *e) {
    int v = s->agct_frames > 0 ? merge_with_agct(s, e) : -1;
    if (v < 0) {
        e->n = e->lost = 0;
        merge_physical(s, e, 0);
        v = s->agct_frames > 0 ? agct_covered(s) : 0;
    }
    int reason = marker_reason(s->walk_end);
    if (v >= s->agct_frames) { emit_marker(e, reason, s->walk_end); return; }
    if (e->n > 0) emit_marker(e, reason, s->walk_end);
    for (; v < s->agct_frames; v++) {
        int lineno = s->virtual_frames[v].lineno;
        emit(e, lineno == -3 ? ST_FRAME_NATIVE_METHOD : ST_FRAME_COMPILED, s->virtual_frames[v].method_id,
             lineno < 0 ? -1 : lineno, 0, 0);
    }
    emit_marker(e, ST_MARK_TRUNCATED, s->walk_end);
}

int mixed_merge(const struct mixed_sample *s, int64_t *out, int max) {
    struct emitter e = {out, max, 0, 0};
    if (s->walk_end < 0) {
        merge_incomplete(s, &e);
        return e.n;
    }
    if (s->agct_frames <= 0 || merge_with_agct(s, &e) != s->agct_frames) {
        e.n = e.lost = 0;
        merge_physical(s, &e, 0);
    }
    if (e.lost > 0 || e.n == 0) emit_marker(&e, ST_MARK_TRUNCATED, s->walk_end);
    return e.n;
}

int mixed_merge_methods(const struct mixed_sample *s, int64_t *out, int max) {
    struct emitter e = {out, max, 0, 0};
    merge_physical(s, &e, 1);
    if (s->walk_end < 0 || e.lost > 0 || e.n == 0) emit_marker(&e, marker_reason(s->walk_end), s->walk_end);
    return e.n;
}
