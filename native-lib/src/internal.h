/* What the native library's files share with each other, beyond the public st_ API. */
#ifndef STACKTRACE_INTERNAL_H
#define STACKTRACE_INTERNAL_H

#include <signal.h>
#include <stdint.h>

/* A mixed capture whose Java frames are Method* (by_method = 1) or jmethodIDs; see st_capture_mixed. */
int capture_mixed(int tid, int64_t *out, int max_frames, int timeout_ms, int64_t *info, int by_method);

/* Puts handler on signo with SA_SIGINFO | SA_RESTART, only if nobody else has a handler there.
   Returns 0, -ST_EBUSY (taken), or -errno. */
int install_handler(int signo, void (*handler)(int, siginfo_t *, void *));

#endif
