/*
 * Mixed-mode capture: the Java frames of a thread, in their true places among its native frames.
 * mixed_capture (walk.c) runs in the signal handler; mixed_merge (merge.c) runs in the requester
 * afterwards; the sample below is what passes between them.
 */
#ifndef STACKTRACE_MIXED_H
#define STACKTRACE_MIXED_H

#include <stdint.h>
#include <ucontext.h>

#include "depth_limits.h"

/* One frame of AsyncGetCallTrace's answer (its ABI). */
struct agct_frame {
    int32_t lineno;      /* the bci; -3 for a native method */
    uintptr_t method_id; /* jmethodID */
};

enum physical_type { PHYS_INTERPRETED = 1, PHYS_COMPILED = 2, PHYS_STUB = 3 };

struct physical_frame {
    uintptr_t sp, pc;
    uintptr_t method;   /* Method*, or the CodeBlob* of a stub */
    uintptr_t jmid;     /* the method's jmethodID, 0 when unknown */
    int32_t bci;        /* interpreted frames: from the bcp; else -1 */
    int16_t type, segment;
    int32_t compile_id; /* compiled frames: their nmethod's compile id (never reused), 0 when unknown */
};

struct native_frame {
    uintptr_t ip;
    int32_t segment;
};

/* Everything one capture records, in the slot of its request. Fixed size, written only by the handler. */
struct mixed_sample {
    int32_t agct_frames;   /* > 0: frames; <= 0: AsyncGetCallTrace's error code (0 also: not asked) */
    int32_t agct_depth;    /* how many frames it was asked for */
    int32_t walk_end;      /* why the physical walk stopped (WALK_*) */
    int32_t segments, nphysical, nnative, java_thread;
    int32_t agct_ns, walk_ns;   /* time spent in AsyncGetCallTrace, and in the whole capture */
    int32_t unwind_ns;          /* time spent unwinding native frames below entry frames */
    int32_t gap_segment;        /* > 0: the unwinder lost its way above this segment, which starts at the anchor */
    int32_t inlining_cached;    /* 1: the virtual frames came from the inlining cache, AGCT was not asked */
    /* pc, sp, fp of the Java frame below a top frame AGCT cannot start from (a stub, a compiled method
       in its prologue), 0 when none: AGCT starts there, and that top frame is not in its answer */
    uintptr_t agct_from[3];
    struct agct_frame virtual_frames[MIXED_MAX_VIRTUAL];
    struct physical_frame physical[MIXED_MAX_PHYSICAL];
    struct native_frame native[MIXED_MAX_NATIVE];
};

enum walk_end {
    WALK_BOTTOM = 0, WALK_NOT_JAVA = 1, WALK_STACK = -1, WALK_FP = -2, WALK_NO_BLOB = -3, WALK_PROLOGUE = -4,
    WALK_FRAME_SIZE = -5, WALK_ORDER = -6, WALK_UNWIND = -7, WALK_FULL = -8, WALK_CALL_WRAPPER = -9,
};

/* In the handler. cached_inlining: the methods of compiled frames may come from the inlining cache
   (inlining.h) instead of AsyncGetCallTrace; the profiler asks AsyncGetCallTrace every time, so
   that a profile's attribution rests on nothing but its answers. */
void mixed_capture(struct mixed_sample *s, ucontext_t *uc, int cached_inlining);

/* Frames of the merged stack, 5 words each: kind, id, bci, pc, sp (ST_FRAME_* kinds in stacktrace.h).
   A walk that did not reach the thread's start ends with an ST_FRAME_MARKER frame (max >= 1: never 0 frames). */
#define MIXED_WORDS 5
int mixed_merge(const struct mixed_sample *s, int64_t *out, int max);
/* The same from the physical walk only, with Method* ids: no JVMTI needed to name them. */
int mixed_merge_methods(const struct mixed_sample *s, int64_t *out, int max);

#endif
