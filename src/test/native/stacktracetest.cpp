// Native code for the tests: real functions with known names and known depths that block or spin,
// called from Java threads through JNA. Built by native-lib/Makefile into the test classes.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

namespace stt {

static std::atomic<int> spin_flag{0};

struct Recurser {
    // Each level is a real frame: no inlining, no tail calls (the result is used after the call).
    __attribute__((noinline)) static int descend_read(int depth, int fd) {
        if (depth <= 1) return leaf_read(fd);
        int r = descend_read(depth - 1, fd);
        asm volatile("" ::: "memory");
        return r;
    }
    __attribute__((noinline)) static long descend_spin(int depth, int millis) {
        if (depth <= 1) return leaf_spin(millis);
        long r = descend_spin(depth - 1, millis);
        asm volatile("" ::: "memory");
        return r + 1;
    }
    __attribute__((noinline)) static int descend_sleep(int depth, int millis) {
        if (depth <= 1) return leaf_sleep(millis);
        int r = descend_sleep(depth - 1, millis);
        asm volatile("" ::: "memory");
        return r;
    }

    __attribute__((noinline)) static int leaf_read(int fd) {
        char c = 0;
        ssize_t n = read(fd, &c, 1);  // blocks until the test writes a byte
        return n == 1 ? (unsigned char) c : (n == 0 ? -1 : -errno);
    }
    __attribute__((noinline)) static long leaf_spin(int millis) {
        timespec start{}, now{};
        clock_gettime(CLOCK_MONOTONIC, &start);
        long spins = 0;
        while (spin_flag.load(std::memory_order_relaxed) != 0) {
            for (int i = 0; i < 1000; i++) asm volatile("" ::: "memory");
            spins++;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (elapsed >= millis) break;  // bounded even if the test forgets to stop it
        }
        return spins;
    }
    __attribute__((noinline)) static int leaf_sleep(int millis) {
        timespec ts{millis / 1000, (millis % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        return 0;
    }
};

}  // namespace stt

extern "C" {

// Recurses `depth` frames, then blocks in read(fd, 1 byte). Returns the byte, -1 at EOF, -errno.
int stt_recurse_then_read(int depth, int fd) { return stt::Recurser::descend_read(depth, fd); }

// Recurses `depth` frames, then spins until stt_stop_spinning() or `millis` have passed.
long stt_recurse_then_spin(int depth, int millis) { return stt::Recurser::descend_spin(depth, millis); }
void stt_start_spinning(void) { stt::spin_flag.store(1); }
void stt_stop_spinning(void) { stt::spin_flag.store(0); }

int stt_recurse_then_sleep(int depth, int millis) { return stt::Recurser::descend_sleep(depth, millis); }

// Blocks `signo` in this thread, then blocks in read(fd). Returns the byte read or -errno.
int stt_read_with_signal_blocked(int signo, int fd) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    char c = 0;
    ssize_t n = read(fd, &c, 1);
    int result = n == 1 ? (unsigned char) c : -errno;
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return result;
}

// read(2) into a caller buffer, reporting -errno: lets a test see that a sampled read was not
// interrupted (SA_RESTART) and that errno survives.
long stt_read_fully(int fd, char *buf, long len) {
    long done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, (size_t) (len - done));
        if (n < 0) return -errno;
        if (n == 0) break;
        done += n;
    }
    return done;
}

// Sets errno, spins while the test samples this thread, then returns errno as it finds it.
int stt_errno_survives(int value, int millis) {
    errno = value;
    stt_start_spinning();
    stt::Recurser::leaf_spin(millis);
    return errno;
}

}

extern "C" {

static void dummy_handler(int) {}

// Puts a handler of "another library" on signo, so a test can see that stacktrace refuses it.
int stt_install_dummy_handler(int signo) {
    struct sigaction sa {};
    sa.sa_handler = dummy_handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, nullptr) == 0 ? 0 : -errno;
}

int stt_pipe(int *fds) { return pipe(fds) == 0 ? 0 : -errno; }
long stt_write(int fd, const char *buf, long len) { return (long) write(fd, buf, (size_t) len); }
int stt_close(int fd) { return close(fd); }

}

#include <fcntl.h>

extern "C" {
// A file opened for writing, for native code that writes to a file descriptor.
int stt_open_write(const char *path) { return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); }
}
