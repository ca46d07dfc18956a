/*
 * A thread dump that needs no Java thread's help, for when the JVM cannot reach a safepoint and
 * jstack, Thread.getStackTrace and JMX all hang. A realtime signal's handler writes one byte to a
 * pipe (async-signal-safe); a native thread of ours, which the JVM does not know and so never
 * stops, wakes up and walks every thread with the capture signal, naming Java frames from the
 * VM's structures (no JVMTI) and writing with write(2).
 */
#define _GNU_SOURCE
#include "stacktrace.h"
#include "text.h"
#include "signals.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DUMP_MAX_THREADS 4096
#define DUMP_TIMEOUT_MS 200

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static st_frame_info dump_frames[DUMP_MAX_FRAMES];
static int dump_tids[DUMP_MAX_THREADS];
static int wake_pipe[2] = {-1, -1};
static int dump_signo;
static char dump_path[1024];

static void put(int fd, const char *s) {
    text_write(fd, s);
}

static void put_int(int fd, long v) {
    char digits[24];
    text_write(fd, text_decimal(digits, v));
}

static void thread_name(int tid, char *out, size_t size) {
    char path[64] = "/proc/self/task/";
    char digits[24];
    strcat(path, text_decimal(digits, tid));
    strcat(path, "/comm");
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n < 0) n = 0;
    out[n] = '\0';
    char *nl = strchr(out, '\n');
    if (nl != NULL) *nl = '\0';
}

int st_dump_all(int fd) {
    int self = st_gettid();
    pthread_mutex_lock(&dump_lock);
    int count = 0;
    DIR *dir = opendir("/proc/self/task");
    if (dir != NULL) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL && count < DUMP_MAX_THREADS) {
            int tid = atoi(entry->d_name);
            if (tid > 0) dump_tids[count++] = tid;
        }
        closedir(dir);
    }
    put(fd, "Thread dump by stacktrace (native and Java frames, no safepoint needed), pid ");
    put_int(fd, getpid());
    put(fd, ", ");
    put_int(fd, count);
    put(fd, " threads\n\n");
    for (int i = 0; i < count; i++) {
        int tid = dump_tids[i];
        char name[64];
        thread_name(tid, name, sizeof name);
        put(fd, "\"");
        put(fd, name);
        put(fd, "\" tid=");
        put_int(fd, tid);
        put(fd, "\n");
        if (tid == self) {
            put(fd, "  (this thread is writing the dump)\n\n");
            continue;
        }
        int n = st_collect_frames(tid, dump_frames, DUMP_MAX_FRAMES, DUMP_TIMEOUT_MS, 1);
        if (n < 0) {
            put(fd, "  (no stack: error ");
            put_int(fd, -n);
            put(fd, ")\n\n");
            continue;
        }
        st_print_frames(fd, dump_frames, n, 0);
        put(fd, "\n");
    }
    put(fd, "End of thread dump.\n");
    pthread_mutex_unlock(&dump_lock);
    return count;
}

static void on_dump_signal(int signo, siginfo_t *info, void *context) {
    (void) signo; (void) info; (void) context;
    int saved = errno;
    char wake = 1;
    if (write(wake_pipe[1], &wake, 1) < 0) { /* full pipe: a dump is already due */ }
    errno = saved;
}

static void *dump_loop(void *arg) {
    (void) arg;
    for (;;) {
        char wake;
        ssize_t r = read(wake_pipe[0], &wake, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return NULL;
        int fd = 2;
        if (dump_path[0] != '\0') fd = open(dump_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) fd = 2;
        st_dump_all(fd);
        if (fd != 2) close(fd);
    }
}

int st_dump_on_signal(int signo, const char *path) {
    if (signo < SIGRTMIN || signo > SIGRTMAX) return -ST_ESIGNAL;
    if (signo == st_signal()) return -ST_EBUSY;
    if (path != NULL && strlen(path) >= sizeof dump_path) return -ENAMETOOLONG;
    pthread_mutex_lock(&dump_lock);
    int result = 0;
    if (dump_signo != 0) { result = dump_signo == signo ? 0 : -ST_EOTHERSIG; goto out; }
    if (st_signal_owner(signo) != 0) { result = -ST_EBUSY; goto out; }
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) { result = -errno; goto out; }
    /* the reader blocks; only the writer (the handler) must never block */
    fcntl(wake_pipe[0], F_SETFL, fcntl(wake_pipe[0], F_GETFL) & ~O_NONBLOCK);
    strcpy(dump_path, path != NULL ? path : "");
    int rc = signals_start_quiet_thread(NULL, dump_loop, "stacktrace-dump");
    if (rc != 0) { result = rc; goto out; }
    result = install_handler(signo, on_dump_signal);
    if (result != 0) goto out;
    dump_signo = signo;
out:
    pthread_mutex_unlock(&dump_lock);
    return result;
}
