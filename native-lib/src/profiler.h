/* The sampling profiler's handler side, called from the capture signal's handler. */
#ifndef STACKTRACE_PROFILER_H
#define STACKTRACE_PROFILER_H

#include <stdint.h>
#include <ucontext.h>

/* si_value of a profiling tick has this low byte, which can never be a request slot's index; the
   bits above say which tick_pending entry a wall-mode tick set (0: a timer's tick). */
#define PROFILE_TICK ((uintptr_t) 0xff)
#define IS_PROFILE_TICK(value) (((uintptr_t) (value) & 0xff) == PROFILE_TICK)

/* Records the interrupted thread's stack as `weight` samples. */
void profiler_sample(ucontext_t *uc, uint64_t weight);

/* The handler of thread tid took the tick with this si_value: the ticker may queue the next one to it.
   Returns how many ticks the sample stands for: 1, plus those that came while this one was queued;
   0 for a wall tick already counted (its thread was judged to block the signal) or of an ended session. */
uint64_t profiler_tick_taken(uintptr_t value, int tid);

#endif
