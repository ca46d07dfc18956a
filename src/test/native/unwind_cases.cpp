// Native code for the unwinder's own cases: frames that only their unwind info can step over, and
// a thread holding the dynamic loader's lock.
#include <atomic>
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

}
