/*
 * The capture signal and the thread ids it goes to: which thread we are, sending a queued signal to
 * a thread of this process (never another process), and owning a signal's handler.
 */
#ifndef STACKTRACE_SIGNALS_H
#define STACKTRACE_SIGNALS_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

/* Queues signo with si_value = value (SI_QUEUE, our pid) to thread tid of this process.
   Returns 0, or -errno (ESRCH: the thread is gone; EAGAIN: the queue is full). Async-signal-safe. */
int signals_send(int tid, int signo, uintptr_t value);

/* Puts handler on signo with SA_SIGINFO | SA_RESTART, only if nobody else has a handler there.
   Returns 0, -ST_EBUSY (taken), or -errno. */
int install_handler(int signo, void (*handler)(int, siginfo_t *, void *));

/* Makes a stray SIGIO harmless: a handler that does nothing where SIGIO has its default action
   (ending the process); any other disposition is left as it is. A perf_events signal that the
   user's full pending-signal queue cannot take comes as SIGIO instead. Returns 0 or -errno. */
int signals_keep_sigio_harmless(void);

/* The capture signal's set-up, once per process (st_init): signo must be a free realtime signal;
   prepare runs after the ownership check and before the handler is installed (0: go on). */
int signals_init(int signo, void (*handler)(int, siginfo_t *, void *), int (*prepare)(void));

/* Starts a thread of ours with every signal blocked from its first instruction (signals are for the
   JVM's threads; ours never take one), named for top and /proc. out NULL: detached. Returns 0 or -errno. */
int signals_start_quiet_thread(pthread_t *out, void *(*body)(void *), const char *name);

/* Whether tid is one of those threads, while it runs (the profiler's own, the unwind table's
   refresher, the dump thread): they block the signal by design, so a profile leaves them out. */
int signals_is_quiet_thread(int tid);

#endif
