// The floor of a cpu-mode sample, for the overhead benchmark: each given thread gets a perf_events
// task-clock event armed as cpu mode arms its own (user-mode overflows only, one overflow at a time,
// a real-time signal to that thread alone), and the signal's handler only arms it again. That is the
// kernel's part of every sample of a task-clock profiler (the timer interrupt, the event disabling
// itself, the signal's delivery and return, the re-arming ioctl); what a profiler costs beyond it is
// its own walk and bookkeeping.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {

static const int MAX_EVENTS = 256;
static int event_fds[MAX_EVENTS];
static std::atomic<int> events;
static std::atomic<long> overflows;
static int bare_signo;

static bool ours(int fd) {
    for (int i = 0; i < events; i++) {
        if (event_fds[i] == fd) return true;
    }
    return false;
}

static void on_overflow(int, siginfo_t *info, void *) {
    int saved = errno;
    if (info->si_code > 0 && ours(info->si_fd)) {
        overflows++;
        ioctl(info->si_fd, PERF_EVENT_IOC_REFRESH, 1);
    }
    errno = saved;
}

static void on_sigio(int) {}

// A real-time signal nobody handles (neither the JVM nor stacktrace), from the top down; 0 if none.
static int free_signal() {
    for (int s = SIGRTMAX - 1; s > SIGRTMIN + 2; s--) {
        struct sigaction old;
        if (sigaction(s, nullptr, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) return s;
    }
    return 0;
}

// Starts an event of interval_ns on each of the n threads (a thread that ended meanwhile is passed
// over); returns how many run, or -errno of the last failure when none does. Call
// stt_bare_clock_stop before starting again.
int stt_bare_clock_start(const int *tids, int n, long interval_ns) {
    if (events != 0) return -EBUSY;
    if (bare_signo == 0) {
        int signo = free_signal();
        if (signo == 0) return -EAGAIN;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_overflow;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(signo, &sa, nullptr) != 0) return -errno;
        bare_signo = signo;
        // with the user's signal queue full the kernel sends SIGIO instead, whose default ends the JVM
        struct sigaction io;
        if (sigaction(SIGIO, nullptr, &io) == 0 && io.sa_handler == SIG_DFL) {
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_sigio;
            sigaction(SIGIO, &sa, nullptr);
        }
    }
    int failure = 0;
    for (int i = 0; i < n && events < MAX_EVENTS; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
        attr.sample_period = (unsigned long) interval_ns;
        attr.wakeup_events = 1;
        attr.disabled = 1;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        int fd = (int) syscall(SYS_perf_event_open, &attr, tids[i], -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            failure = errno;
            continue;
        }
        struct f_owner_ex owner = {F_OWNER_TID, tids[i]};
        if (fcntl(fd, F_SETOWN_EX, &owner) != 0 || fcntl(fd, F_SETSIG, bare_signo) != 0
            || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) != 0) {
            failure = errno;
            close(fd);
            continue;
        }
        event_fds[events] = fd;
        events++;
        ioctl(fd, PERF_EVENT_IOC_REFRESH, 1);
    }
    return events > 0 ? (int) events : -failure;
}

// Stops and closes the events; returns the signals they delivered since they started.
long stt_bare_clock_stop() {
    int n = events.exchange(0);  // first: a signal still on its way re-arms nothing
    for (int i = 0; i < n; i++) {
        ioctl(event_fds[i], PERF_EVENT_IOC_DISABLE, 0);
        close(event_fds[i]);
    }
    return overflows.exchange(0);
}

}
