/* Per-thread CPU-time sampling clocks for cpu mode (cpu_clock.c): a perf_events task-clock where
   the kernel allows it, else a POSIX CPU-time timer. Control thread only, except cpu_clock_taken. */
#ifndef STACKTRACE_CPU_CLOCK_H
#define STACKTRACE_CPU_CLOCK_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

struct cpu_clock {
    int perf_fd;    /* >= 0: a task-clock event of the thread */
    int has_timer;  /* else a POSIX timer on the thread's CPU-time clock */
    timer_t timer;
    int64_t last_cpu, last_enabled;  /* at the last cpu_clock_check */
    int64_t rearmed;                 /* times cpu_clock_check found it stuck */
};

/* Starts a clock that sends the thread the capture signal per interval of its CPU time. Tries
   perf_events first unless an earlier attempt showed the kernel refuses it. Returns 0, or -errno:
   -EAGAIN when the user's pending-signal queue has no room for its timer (see cpu_clock_budget). */
int cpu_clock_start(struct cpu_clock *c, int tid, int64_t interval_ns);

/* Before starting clocks: the next POSIX timer made works out again how many the user's
   pending-signal queue can spare now (a quarter of RLIMIT_SIGPENDING for the profile's timers, none
   once the queue is half full). A round that makes no timer reads nothing. */
void cpu_clock_budget(void);

/* From the control thread, now and then: re-arms a task-clock event that stayed disabled while
   its thread ran (a signal lost). */
void cpu_clock_check(struct cpu_clock *c, int tid, int64_t interval_ns);

/* Stops and closes it (idempotent). */
void cpu_clock_stop(struct cpu_clock *c);

/* Whether cpu_clock_start tries perf_events (it stops trying after the kernel's first refusal, and
   never does on a kernel they could hang). Returns the previous setting. */
int cpu_clock_perf_allowed(int allowed);

/* Opens and closes one task-clock event on the calling thread, so that a refusal is known before
   any thread is clocked (cpu_clock_perf_allowed_now then says 0). */
void cpu_clock_probe(int64_t interval_ns);
int cpu_clock_perf_allowed_now(void);

/* The scheduler tick in ns: POSIX CPU timers fire no more often than this. */
int64_t cpu_clock_tick_ns(void);

/* In the signal handler of thread tid: -1 unless this signal is an overflow of one of our task-clock
   events for that thread; if it is, the event is re-armed for the next interval and the result is the
   number of intervals of the thread's CPU time the sample stands for (0 or more). Async-signal-safe. */
int64_t cpu_clock_taken(const siginfo_t *info, int tid);

#endif
