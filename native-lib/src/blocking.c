/*
 * Whether a thread blocks the capture signal, as far as one look at /proc can tell. Used by wall
 * mode's ticker and by a requester whose capture timed out; never in a handler.
 *
 * /proc's SigBlk also shows the signal while our handler runs on the thread (the kernel masks it
 * there), and the kernel's own steps just before the handler starts and after it returns are not
 * covered by st_in_handler. A thread in those moments is runnable (R) or briefly in the kernel (D),
 * never in a wait it chose. So a look is conclusive only when SigBlk has the signal, the thread
 * sleeps interruptibly (State S), and our handler runs on it neither just before nor just after
 * the read. Callers still ask for two conclusive looks a moment apart.
 */
#define _GNU_SOURCE
#include "proc_status.h"
#include "stacktrace.h"

#include <stdio.h>
#include <stdlib.h>

int st_looks_blocking(int tid) {
    char path[64], buf[2048];
    int signo = st_signal();
    if (signo <= 0) return ST_LOOK_CLEAR;
    int in_handler = st_in_handler(tid);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    if (proc_status_read(path, buf, sizeof buf) != 0) return ST_LOOK_CLEAR;
    in_handler |= st_in_handler(tid);
    const char *state = proc_status_field(buf, "State");
    const char *blocked = proc_status_field(buf, "SigBlk");
    if (state == NULL || blocked == NULL) return ST_LOOK_CLEAR;
    if (!((strtoull(blocked, NULL, 16) >> (signo - 1)) & 1)) return ST_LOOK_CLEAR;
    return *state == 'S' && !in_handler ? ST_LOOK_BLOCKS : ST_LOOK_UNSURE;
}
