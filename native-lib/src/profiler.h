/* The sampling profiler's handler side, called from the capture signal's handler. */
#ifndef STACKTRACE_PROFILER_H
#define STACKTRACE_PROFILER_H

#include <stdint.h>
#include <ucontext.h>

/* si_value of a profiling tick: its low byte can never be a request slot's index. */
#define PROFILE_TICK ((uintptr_t) 0xff)

void profiler_sample(ucontext_t *uc);

#endif
