/*
 * The safe unwinder, for use inside signal handlers: steps by the frame table's rows (DWARF call
 * frame information read outside handlers), the frame pointer where there are none; every memory
 * read cannot fault (see unwind.c).
 */
#ifndef STACKTRACE_UNWIND_H
#define STACKTRACE_UNWIND_H

#include <stdint.h>
#include <ucontext.h>

/* Room for the registers of the current frame and the stack's bounds. */
struct unwind_cursor {
    _Alignas(16) uint64_t opaque[8];
};

/* One-time set-up, outside any signal handler: the frame table of the modules loaded now.
   Returns 0, or -1 if memory ran out. */
int unwind_setup(void);

/* Outside signal handlers: has the frame table brought up to date with the modules loaded now, by
   a thread of ours, waiting for that at most wait_ns (never for the loader's lock itself). Called
   periodically while profiling, and by a requester whose walk met a pc in no known module, so that
   a library loaded later is unwound by its own unwind info. Returns 1 when the table changed, 0
   when not (or not yet, with wait_ns 0), < 0 on timeout or error. */
int unwind_refresh(int64_t wait_ns);

/* How many times a walk met a pc in no module the table knows, or a step found no way to the caller
   (either can mean the table is stale; see unwind_refresh). */
unsigned unwind_misses(void);

/* Starts at the frame of a context. interrupted: its pc was interrupted (a signal), so the pc
   itself is looked up; otherwise it is a return address, looked up at pc - 1 like any caller's.
   Returns 0, or < 0 before unwind_setup. */
int unwind_init(struct unwind_cursor *c, const ucontext_t *uc, int interrupted);

/* The current frame's pc, sp and rbp. Returns 0, or < 0. */
int unwind_frame(struct unwind_cursor *c, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp);

/* Moves to the caller: > 0 when there is one, 0 at the end of the stack, < 0 on error. */
int unwind_step(struct unwind_cursor *c);

/* The frames of a context, from its pc outwards (interrupted: the pc was interrupted by a signal;
   otherwise it is a return address). At least the pc itself when max > 0. Signal-safe. */
int unwind_context(const ucontext_t *uc, int interrupted, uintptr_t *frames, int max);

#endif
