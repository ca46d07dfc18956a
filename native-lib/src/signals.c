/*
 * Signals: who we are (gettid), sending a queued signal to one thread of this process, and
 * owning a signal's handler (installing it only where nobody else has one, and telling who has).
 */
#define _GNU_SOURCE
#include "signals.h"
#include "stacktrace.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int installed_signo;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int st_gettid(void) { return (int) syscall(SYS_gettid); }

int signals_send(int tid, int signo, uintptr_t value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = signo;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_ptr = (void *) value;
    /* Always this process: tgid is getpid(), so no other process can ever be signalled. */
    return syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, signo, &info) == 0 ? 0 : -errno;
}

int st_signal(void) { return atomic_load(&installed_signo); }

int64_t st_signal_owner(int signo) {
    struct sigaction old;
    if (signo <= 0 || signo >= NSIG || sigaction(signo, NULL, &old) != 0) return -EINVAL;
    if (old.sa_flags & SA_SIGINFO) return (int64_t) (uintptr_t) old.sa_sigaction;
    if (old.sa_handler == SIG_DFL) return 0;
    if (old.sa_handler == SIG_IGN) return 1;
    return (int64_t) (uintptr_t) old.sa_handler;
}

int st_signal_owner_library(int signo, char *out, int outlen) {
    if (out == NULL || outlen <= 0) return -EINVAL;
    out[0] = '\0';
    int64_t owner = st_signal_owner(signo);
    if (owner <= 1) return 0;
    Dl_info where;
    if (dladdr((void *) (uintptr_t) owner, &where) == 0 || where.dli_fname == NULL) return 0;
    /* a copy of this library answers to our own entry points; another library would not */
    void *lib = dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (lib == NULL) return 0;
    int ours = dlsym(lib, "st_signal_owner_library") != NULL && dlsym(lib, "st_abi_version") != NULL;
    dlclose(lib);
    if (!ours) return 0;
    snprintf(out, (size_t) outlen, "%s", where.dli_fname);
    return 1;
}

int install_handler(int signo, void (*handler)(int, siginfo_t *, void *)) {
    if (st_signal_owner(signo) != 0) return -ST_EBUSY;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL) == 0 ? 0 : -errno;
}

static void on_stray_sigio(int signo) {
    (void) signo;
}

int signals_keep_sigio_harmless(void) {
    struct sigaction old;
    if (sigaction(SIGIO, NULL, &old) != 0) return -errno;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stray_sigio;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGIO, &sa, NULL) == 0 ? 0 : -errno;
}

int signals_init(int signo, void (*handler)(int, siginfo_t *, void *), int (*prepare)(void)) {
    if (signo < SIGRTMIN || signo > SIGRTMAX) return -ST_ESIGNAL;
    pthread_mutex_lock(&init_lock);
    int result = 0;
    int current = atomic_load(&installed_signo);
    if (current == signo) goto out;
    if (current != 0) { result = -ST_EOTHERSIG; goto out; }
    if (st_signal_owner(signo) != 0) { result = -ST_EBUSY; goto out; }  /* before prepare's set-up */

    if (prepare() != 0) { result = -ENOMEM; goto out; }

    result = install_handler(signo, handler);
    if (result != 0) goto out;
    atomic_store(&installed_signo, signo);
out:
    pthread_mutex_unlock(&init_lock);
    return result;
}

/* The threads of ours that are running, by tid (0: a free entry); a profile leaves them out. */
#define QUIET_THREADS 8
static _Atomic int quiet_tids[QUIET_THREADS];

struct quiet_start {
    void *(*body)(void *);
};

static void *quiet_thread(void *arg) {
    struct quiet_start start = *(struct quiet_start *) arg;
    free(arg);
    int tid = st_gettid(), at = -1;
    for (int i = 0; i < QUIET_THREADS && at < 0; i++) {
        int none = 0;
        if (atomic_compare_exchange_strong(&quiet_tids[i], &none, tid)) at = i;
    }
    void *result = start.body(NULL);
    if (at >= 0) atomic_store(&quiet_tids[at], 0);
    return result;
}

int signals_is_quiet_thread(int tid) {
    for (int i = 0; i < QUIET_THREADS; i++) {
        if (atomic_load(&quiet_tids[i]) == tid) return 1;
    }
    return 0;
}

int signals_start_quiet_thread(pthread_t *out, void *(*body)(void *), const char *name) {
    struct quiet_start *start = malloc(sizeof *start);
    if (start == NULL) return -ENOMEM;
    start->body = body;
    sigset_t all, before;
    sigfillset(&all);
    /* a fault is never blocked, in the new thread or (for this moment) in the caller */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &before);  /* the new thread inherits this mask */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (out == NULL) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, quiet_thread, start);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (rc != 0) {
        free(start);
        return -rc;
    }
    pthread_setname_np(thread, name);
    if (out != NULL) *out = thread;
    return 0;
}
