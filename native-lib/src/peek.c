/*
 * Reading memory that may have gone away (a JavaThread that just exited, say) without faulting.
 * process_vm_readv on our own pid reports EFAULT instead of raising SIGSEGV; where a sandbox
 * forbids it, write(2) into a pipe gives the same guarantee.
 */
#define _GNU_SOURCE
#include "stacktrace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

static pthread_mutex_t pipe_lock = PTHREAD_MUTEX_INITIALIZER;
static int probe_pipe[2] = {-1, -1};

static int peek_through_pipe(int64_t addr, int64_t *out, int nwords) {
    size_t len = (size_t) nwords * sizeof(int64_t);
    int result = -EFAULT;
    pthread_mutex_lock(&pipe_lock);
    if (probe_pipe[0] < 0 && pipe2(probe_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        result = -errno;
    } else if (write(probe_pipe[1], (const void *) (uintptr_t) addr, len) == (ssize_t) len
               && read(probe_pipe[0], out, len) == (ssize_t) len) {
        result = nwords;
    }
    pthread_mutex_unlock(&pipe_lock);
    return result;
}

int st_peek(int64_t addr, int64_t *out, int nwords) {
    if (out == NULL || nwords <= 0 || nwords > 64) return -EINVAL;
    size_t len = (size_t) nwords * sizeof(int64_t);
    struct iovec local = {out, len};
    struct iovec remote = {(void *) (uintptr_t) addr, len};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got == (ssize_t) len) return nwords;
    if (got < 0 && (errno == ENOSYS || errno == EPERM)) return peek_through_pipe(addr, out, nwords);
    return -EFAULT;
}
