/* The request protocol's handler side (slots.c): answers one request of a requester. */
#ifndef STACKTRACE_SLOTS_H
#define STACKTRACE_SLOTS_H

#include <stdint.h>
#include <ucontext.h>

/* In the capture signal's handler, for a queued signal of ours with this si_value (slot, seq):
   fills that slot's buffer if its request is still waiting, else touches nothing. */
void slots_answer(uintptr_t value, ucontext_t *uc);

/* A mixed capture whose Java frames are Method* (by_method = 1) or jmethodIDs; see st_capture_mixed. */
int capture_mixed(int tid, int64_t *out, int max_frames, int timeout_ms, int64_t *info, int by_method);

#endif
