/*
 * Which threads may use libunwind's fast path (unw_backtrace) inside a signal handler.
 *
 * That fast path keeps its cache in a thread-local variable of libunwind, a library loaded at run
 * time: glibc gives such a thread-local its memory on the thread's first access, with malloc. In a
 * signal handler that interrupted malloc, that first access deadlocks. So a thread takes the fast
 * path only after its first access happened outside any handler: in the JVMTI ThreadStart event
 * (which runs in the new thread), in st_init, or in st_capture_self. Every other thread is walked
 * step by step with libunwind's global cache, which needs no thread-local memory.
 */
#ifndef STACKTRACE_FASTPATH_H
#define STACKTRACE_FASTPATH_H

/* Touches libunwind's thread-local cache from the calling thread, outside any signal handler, and
   records that the thread may use the fast path. */
void fastpath_prepare_current_thread(void);
/* Forgets a thread (it ended: its id may be reused by a thread that has not been prepared). */
void fastpath_forget(int tid);
/* True when the thread may use the fast path. Async-signal-safe. */
int fastpath_ready(int tid);

#endif
