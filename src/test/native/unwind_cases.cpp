// Native code for the unwinder's own cases: frames that only their unwind info can step over, and
// a thread holding the dynamic loader's lock.
#include <atomic>
#include <csignal>
#include <pthread.h>
#include <ctime>
#include <link.h>
#include <unistd.h>

// Hidden: a second copy of this library must run its own copies, not the first one's.
namespace stt_unwind __attribute__((visibility("hidden"))) {

static long now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

// No frame pointer anywhere here, and rbp holds garbage while the leaf spins: a frame-pointer walk
// is lost at once; only the call frame information (rsp-based) finds the callers.
struct WithoutFramePointer {
    __attribute__((noinline, optimize("omit-frame-pointer"))) static long leaf(int millis) {
        long end = now_ms() + millis, n = 0;
        asm volatile("movq $0x1234567, %%rbp" ::: "rbp", "memory");
        while (now_ms() < end) n++;
        return n;
    }
    __attribute__((noinline, optimize("omit-frame-pointer"))) static long level(int depth, int millis) {
        volatile char pad[200];  // a frame of its own size, so the CFA offsets differ per function
        pad[depth] = 1;
        long r = depth <= 1 ? leaf(millis) : level(depth - 1, millis);
        asm volatile("" ::: "memory");
        return r + pad[depth];
    }
};

static int hold(struct dl_phdr_info *, size_t, void *arg) {
    long end = now_ms() + *static_cast<int *>(arg);
    while (now_ms() < end) usleep(10000);  // a sleep our signal interrupts (EINTR) is just slept again
    return 1;
}

static std::atomic<int> handler_millis{0};

// A handler that spins: the thread's stack then holds a signal frame (glibc's __restore_rt) between
// the handler's frames and the code it interrupted.
__attribute__((noinline)) static void spin_in_handler(int) {
    long end = now_ms() + handler_millis.load();
    while (now_ms() < end) {}
}

}  // namespace stt_unwind

extern "C" {

// Three frames without frame pointers above a spin of about millis ms.
__attribute__((optimize("omit-frame-pointer"))) long stt_spin_without_frame_pointer(int millis) {
    long r = stt_unwind::WithoutFramePointer::level(3, millis);
    asm volatile("" ::: "memory");
    return r + 1;
}

// Holds the loader's lock (dl_iterate_phdr's) for about millis ms, as a thread in dlopen or in a
// C++ throw's search for unwind info does.
int stt_hold_loader_lock(int millis) {
    return dl_iterate_phdr(stt_unwind::hold, &millis);
}

// Raises signo (a realtime signal no one else uses) at this thread, whose handler spins about millis ms.
__attribute__((noinline)) int stt_spin_in_signal_handler(int signo, int millis) {
    struct sigaction sa = {};
    sa.sa_handler = stt_unwind::spin_in_handler;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, nullptr) != 0) return -1;
    stt_unwind::handler_millis.store(millis);
    int rc = pthread_kill(pthread_self(), signo);
    asm volatile("" ::: "memory");
    return rc;
}

}
