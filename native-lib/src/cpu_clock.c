/*
 * Per-thread CPU-time sampling clocks for cpu mode.
 *
 * POSIX CPU-time timers are checked on the scheduler tick, so an interval shorter than the tick
 * (4 ms at CONFIG_HZ=250) is delivered at the tick's rate. A perf_events task-clock event of the
 * thread counts its CPU time with a high-resolution timer instead, and the kernel opens one for a
 * thread of the caller's own process at perf_event_paranoid <= 2. Its overflow is delivered as
 * our capture signal (F_SETSIG, a real-time signal, never SIGIO's default) to that thread alone
 * (F_SETOWN_EX, F_OWNER_TID).
 *
 * Each event is armed for one overflow at a time (PERF_EVENT_IOC_REFRESH 1): it disables itself
 * when it fires and the handler re-arms it, so a thread has at most one of these signals queued
 * whatever it does (the per-user queue of pending signals is finite), and a thread that blocks the
 * signal stops being sampled instead of piling signals up. The handler knows an event by si_fd and
 * re-arms only an fd the owner table says is that thread's event.
 *
 * Events count user-mode overflows only (exclude_kernel), whatever the process may do. An overflow
 * taken while the thread runs in the kernel would raise the signal there, and a system call about to
 * block (poll, nanosleep, epoll_wait...) would return EINTR, which cpu mode must never cause. Raised
 * from user mode, the signal is handled before the thread can make another system call. The
 * event's count is still all the thread's CPU time, so time inside system calls is not lost: each
 * sample stands for every interval of it since the last one (cpu_clock_taken), and lands on the
 * stack the thread has when it next overflows in user code.
 *
 * Where perf_event_open is refused (seccomp, paranoid 3, no kernel support), the first refusal
 * turns it off for the process and every thread gets a POSIX timer; cpu_clock_tick_ns says what
 * rate those deliver. Linux 6.16 and 6.17 can hang the whole machine when an hrtimer-driven event
 * disables itself on overflow (async-profiler issue 1578), which is how these events are armed, so
 * there perf_events are never used.
 */
#define _GNU_SOURCE
#include "cpu_clock.h"
#include "proc_status.h"
#include "profiler.h"
#include "signals.h"
#include "table.h"
#include "stacktrace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* perf_owner[fd] = the tid whose task-clock event that fd is (0: not ours). fds beyond it use timers. */
#define PERF_FDS 65536
static _Atomic int perf_owner[PERF_FDS];
/* perf_weighed[fd] = the part of that event's count (its thread's CPU time, ns) that samples stand
   for already; only the owner's handler moves it once the event runs. */
static _Atomic int64_t perf_weighed[PERF_FDS];
static _Atomic int64_t perf_period;         /* the interval of the events running, ns */

static _Atomic int perf_allowed = 1;        /* cleared by the kernel's first refusal, or by st_profile_use_perf */

static int perf_open(int tid, int64_t interval_ns) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.sample_period = (uint64_t) interval_ns;
    attr.wakeup_events = 1;
    attr.disabled = 1;
    attr.exclude_kernel = 1;   /* see the top of this file: no signal raised inside a system call */
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED;
    return (int) syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Linux 6.16.x and 6.17.x: an hrtimer event that disables itself on overflow can hang the machine.
   Asked once (-1: not yet). */
static _Atomic int hangs_on_refresh = -1;

static int kernel_hangs_on_refresh(void) {
    int known = atomic_load(&hangs_on_refresh);
    if (known >= 0) return known;
    struct utsname u;
    int hangs = uname(&u) == 0 && (strncmp(u.release, "6.16.", 5) == 0 || strncmp(u.release, "6.17.", 5) == 0);
    atomic_store(&hangs_on_refresh, hangs);
    return hangs;
}

/* A refusal by policy or by a missing feature, not by this thread's circumstances. */
static int refused(int err) {
    return err == EACCES || err == EPERM || err == ENOSYS || err == ENOENT || err == EOPNOTSUPP || err == EINVAL;
}

/* A disabled event; a refusal by policy turns perf_events off for the process. Returns the fd, or -errno. */
static int open_event(int tid, int64_t interval_ns) {
    if (kernel_hangs_on_refresh()) {
        atomic_store(&perf_allowed, 0);
        return -EOPNOTSUPP;
    }
    int fd = perf_open(tid, interval_ns);
    if (fd < 0) {
        int err = errno;
        if (refused(err)) atomic_store(&perf_allowed, 0);
        return -err;
    }
    return fd;
}

/* Events take file descriptors from the application's table: only those numbered below a quarter of
   RLIMIT_NOFILE (descriptors are given lowest first, so that leaves it three quarters); a thread
   beyond gets a timer. */
static int perf_fd_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur / 4 >= PERF_FDS) return PERF_FDS;
    return (int) (limit.rlim_cur / 4);
}

static int perf_start(struct cpu_clock *c, int tid, int64_t interval_ns) {
    /* An overflow's signal that the user's full queue cannot take comes as SIGIO, whose default
       action would end the JVM: no event until SIGIO is harmless. */
    static int sigio_harmless;
    if (!sigio_harmless) {
        if (signals_keep_sigio_harmless() != 0) return -EAGAIN;
        sigio_harmless = 1;
    }
    int fd = open_event(tid, interval_ns);
    if (fd < 0) return fd;
    if (fd >= perf_fd_limit()) { close(fd); return -EMFILE; }
    struct f_owner_ex owner = {F_OWNER_TID, tid};
    /* owner and signal first: O_ASYNC with neither would mean SIGIO to the process */
    if (fcntl(fd, F_SETOWN_EX, &owner) != 0 || fcntl(fd, F_SETSIG, st_signal()) != 0
        || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    atomic_store(&perf_weighed[fd], 0);
    atomic_store(&perf_period, interval_ns);
    atomic_store(&perf_owner[fd], tid);
    if (ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) != 0) {
        int err = errno;
        atomic_store(&perf_owner[fd], 0);
        close(fd);
        return -err;
    }
    c->perf_fd = fd;
    return 0;
}

/*
 * A POSIX timer keeps one entry of the user's pending-signal queue reserved for as long as it exists
 * (RLIMIT_SIGPENDING counts every process of the user). So the profile takes at most a quarter of
 * that limit for its timers, and makes none while the user's queue is half full: a thread beyond
 * that is left unsampled and said to be, never allowed to starve another process's sigqueue or
 * timer_create. Control thread only.
 */
static long timers_live;
static long timer_room;   /* timers that may still be made this round */
static int room_known;    /* whether timer_room was worked out this round */

/* The first number of /proc/self/status "SigQ:", signals queued for this user; 0 if unreadable. */
static long user_signals_queued(void) {
    char buf[2048];
    if (proc_status_read("/proc/self/status", buf, sizeof buf) != 0) return 0;
    const char *queued = proc_status_field(buf, "SigQ");
    return queued == NULL ? 0 : strtol(queued, NULL, 10);
}

static long timers_allowed(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_SIGPENDING, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (1L << 40)) {
        return 1L << 40;
    }
    long max = (long) limit.rlim_cur;
    long ours = max / 4 - timers_live;
    long shared = max / 2 - user_signals_queued();
    return ours < shared ? ours : shared;
}

void cpu_clock_budget(void) {
    room_known = 0;
}

static int timer_start(struct cpu_clock *c, int tid, int64_t interval_ns) {
    if (!room_known) {
        timer_room = timers_allowed();
        room_known = 1;
    }
    if (timer_room <= 0) return -EAGAIN;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = st_signal();
    ev.sigev_value.sival_ptr = (void *) PROFILE_TICK;
    ev._sigev_un._tid = tid;
    /* the thread's own CPU-time clock: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) */
    clockid_t clock = (clockid_t) ((~(unsigned) tid << 3) | 6);
    if (timer_create(clock, &ev, &c->timer) != 0) return -errno;
    struct itimerspec spec;
    spec.it_interval.tv_sec = interval_ns / 1000000000;
    spec.it_interval.tv_nsec = interval_ns % 1000000000;
    spec.it_value = spec.it_interval;
    if (timer_settime(c->timer, 0, &spec, NULL) != 0) {
        int err = errno;
        timer_delete(c->timer);
        return -err;
    }
    c->has_timer = 1;
    timers_live++;
    timer_room--;
    return 0;
}

int cpu_clock_start(struct cpu_clock *c, int tid, int64_t interval_ns) {
    c->perf_fd = -1;
    c->has_timer = 0;
    c->last_cpu = c->last_enabled = 0;
    c->rearmed = 0;
    if (atomic_load(&perf_allowed) && perf_start(c, tid, interval_ns) == 0) return 0;
    return timer_start(c, tid, interval_ns);
}

void cpu_clock_stop(struct cpu_clock *c) {
    if (c->perf_fd >= 0) {
        atomic_store(&perf_owner[c->perf_fd], 0);
        ioctl(c->perf_fd, PERF_EVENT_IOC_DISABLE, 0);
        close(c->perf_fd);
        c->perf_fd = -1;
    }
    if (c->has_timer) {
        timer_delete(c->timer);
        c->has_timer = 0;
        timers_live--;
    }
}

int cpu_clock_perf_allowed(int allowed) {
    int was = atomic_exchange(&perf_allowed, allowed && !kernel_hangs_on_refresh() ? 1 : 0);
    return was;
}

void cpu_clock_probe(int64_t interval_ns) {
    if (!atomic_load(&perf_allowed)) return;
    int fd = open_event(st_gettid(), interval_ns);
    if (fd >= 0) close(fd);  /* never enabled */
}

int cpu_clock_perf_allowed_now(void) {
    return atomic_load(&perf_allowed);
}

int64_t cpu_clock_tick_ns(void) {
    /* the coarse clocks advance once a tick: their resolution is the tick */
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return 0;
    return (int64_t) res.tv_sec * 1000000000 + res.tv_nsec;
}

int64_t cpu_clock_taken(const siginfo_t *info, int tid) {
    if (info->si_code != POLL_IN && info->si_code != POLL_HUP) return -1;
    int fd = info->si_fd;
    if (fd < 0 || fd >= PERF_FDS || atomic_load(&perf_owner[fd]) != tid) return -1;
    /* The count is all the thread's CPU time while the event was enabled, system calls included,
       though it overflows only in user mode: the sample stands for every whole interval of it since
       the last one (the rest is carried to the next), so time in the kernel is not lost. */
    int64_t weight = 1;
    uint64_t v[2];
    int64_t period = atomic_load(&perf_period);
    if (period > 0 && read(fd, v, sizeof v) == (ssize_t) sizeof v) {
        int64_t weighed = atomic_load(&perf_weighed[fd]);
        weight = ((int64_t) v[0] - weighed) / period;
        if (weight < 0) weight = 0;
        atomic_store(&perf_weighed[fd], weighed + weight * period);
    }
    /* one more overflow allowed per signal taken, whatever code the kernel gave it */
    ioctl(fd, PERF_EVENT_IOC_REFRESH, 1);
    return weight;
}

/* The thread's CPU time and the event's enabled time, ns (-1 when unreadable). */
static void times_of(const struct cpu_clock *c, int tid, int64_t *cpu, int64_t *enabled) {
    struct timespec ts;
    clockid_t clock = (clockid_t) ((~(unsigned) tid << 3) | 6);
    *cpu = clock_gettime(clock, &ts) == 0 ? (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec : -1;
    uint64_t v[2];
    *enabled = read(c->perf_fd, v, sizeof v) == (ssize_t) sizeof v ? (int64_t) v[1] : -1;
}

void cpu_clock_check(struct cpu_clock *c, int tid, int64_t interval_ns) {
    if (c->perf_fd < 0) return;
    int64_t cpu, enabled;
    times_of(c, tid, &cpu, &enabled);
    if (cpu < 0 || enabled < 0) return;
    /* ran for several intervals while its event stayed disabled: its last overflow's signal was
       lost (or came with nothing to re-arm), so arm it again; at most one more signal comes of it */
    if (c->last_cpu > 0 && enabled == c->last_enabled && cpu - c->last_cpu > 4 * interval_ns + 10000000) {
        ioctl(c->perf_fd, PERF_EVENT_IOC_REFRESH, 1);
        c->rearmed++;
        /* the count stood still meanwhile, so no sample will stand for that CPU time: counted lost */
        table_count(ST_PROFILE_BUSY, (uint64_t) ((cpu - c->last_cpu) / interval_ns));
    }
    c->last_cpu = cpu;
    c->last_enabled = enabled;
}
