/*
 * The safe unwinder: libunwind's DWARF unwinder over an address space of our own, whose every
 * memory read cannot fault, for use inside signal handlers (see unwind.c).
 */
#ifndef STACKTRACE_UNWIND_H
#define STACKTRACE_UNWIND_H

#include <stdint.h>
#include <ucontext.h>

/* Room for libunwind's cursor and the registers it starts from; must not be moved once started. */
struct unwind_cursor {
    _Alignas(16) uint64_t opaque[176];
};

/* One-time set-up, outside any signal handler: the address space, its global cache, libunwind's
   own initialisation. Returns 0, or -1 if libunwind refused. */
int unwind_setup(void);

/* Starts at the frame of a context. interrupted: its pc was interrupted (a signal), so the pc
   itself is looked up; otherwise it is a return address, looked up at pc - 1 like any caller's.
   Returns 0, or < 0 when libunwind cannot start there. */
int unwind_init(struct unwind_cursor *c, const ucontext_t *uc, int interrupted);

/* The current frame's pc, sp and rbp. Returns 0, or < 0. */
int unwind_frame(struct unwind_cursor *c, uintptr_t *pc, uintptr_t *sp, uintptr_t *fp);

/* Moves to the caller: > 0 when there is one, 0 at the end of the stack, < 0 on error. */
int unwind_step(struct unwind_cursor *c);

/* The frames of a context, from its pc outwards (interrupted: the pc was interrupted by a signal;
   otherwise it is a return address). At least the pc itself when max > 0. Signal-safe. */
int unwind_context(const ucontext_t *uc, int interrupted, uintptr_t *frames, int max);

#endif
