// Counts how often blocking calls return EINTR while the calling thread is being sampled, to
// measure (not guess) which calls a sampled thread notices.
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

long now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

constexpr int WAIT_MS = 20;

}  // namespace

extern "C" {

// Calls one blocking call (each with a timeout of wait_ms) for millis ms; returns how many returned
// EINTR, and the number of calls in *calls. call: 0 poll, 1 epoll_wait, 2 nanosleep, 3 recv on a
// socket with SO_RCVTIMEO, 4 futex wait, 5 select, 6 pthread_cond_timedwait. -1 if set-up failed.
long stt_eintr_probe_waiting(int call, int millis, int wait_ms, long *calls) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -1;
    struct timeval tv = {0, wait_ms * 1000};
    setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
    int futex_word = 0;
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    long eintr = 0, n = 0;
    long end = now_ms() + millis;
    while (now_ms() < end) {
        int rc = 0;
        switch (call) {
            case 0: {
                struct pollfd p = {fds[0], POLLIN, 0};
                rc = poll(&p, 1, wait_ms);
                break;
            }
            case 1: rc = epoll_wait(ep, &ev, 1, wait_ms); break;
            case 2: {
                struct timespec ts = {0, wait_ms * 1000000L};
                rc = nanosleep(&ts, nullptr);
                break;
            }
            case 3: {
                char c;
                rc = (int) recv(fds[0], &c, 1, 0);
                break;
            }
            case 4: {
                struct timespec ts = {0, wait_ms * 1000000L};
                rc = (int) syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, nullptr, 0);
                break;
            }
            case 5: {
                fd_set set;
                FD_ZERO(&set);
                FD_SET(fds[0], &set);
                struct timeval t = {0, wait_ms * 1000};
                rc = select(fds[0] + 1, &set, nullptr, nullptr, &t);
                break;
            }
            case 6: {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += wait_ms * 1000000L;
                if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
                pthread_mutex_lock(&mutex);
                int err = pthread_cond_timedwait(&cond, &mutex, &ts);
                pthread_mutex_unlock(&mutex);
                if (err == EINTR) { rc = -1; errno = EINTR; }
                break;
            }
            default: rc = 0; end = 0; break;
        }
        n++;
        if (rc < 0 && errno == EINTR) eintr++;
    }
    close(ep);
    close(fds[0]);
    close(fds[1]);
    if (calls != nullptr) *calls = n;
    return eintr;
}

long stt_eintr_probe(int call, int millis, long *calls) { return stt_eintr_probe_waiting(call, millis, WAIT_MS, calls); }

}
