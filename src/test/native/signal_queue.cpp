// Fills and drains this user's queue of pending signals (RLIMIT_SIGPENDING): signals queued to the
// calling thread while it blocks them stay pending, each taking one entry, until it takes them back.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {

static long now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

// Blocks signo in the calling thread and queues it to that thread until max are queued or the queue
// has refused every try for 200 ms (an entry another thread's signal frees for a moment is taken
// too). Returns how many were queued, or -errno for a failure other than EAGAIN.
long stt_fill_signal_queue(int signo, long max) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return -EINVAL;
    long queued = 0;
    long give_up = now_ms() + 200;
    while (queued < max && now_ms() < give_up) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        info.si_signo = signo;
        info.si_code = SI_QUEUE;
        info.si_pid = getpid();
        info.si_uid = getuid();
        if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t) syscall(SYS_gettid), signo, &info) == 0) {
            queued++;
            give_up = now_ms() + 200;
        } else if (errno != EAGAIN) {
            return -errno;
        }
    }
    return queued;
}

// Takes back every pending signo of the calling thread (which still blocks it). Returns how many.
long stt_drain_signal_queue(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    struct timespec none = {0, 0};
    long taken = 0;
    while (sigtimedwait(&set, nullptr, &none) == signo) taken++;
    return taken;
}

}
