// A native frame that no unwinder can step through safely: a hand-written function whose unwind
// info says its caller's frame is found from rbp (CFA = rbp + 16, the usual frame-pointer rule)
// while it spins with a garbage rbp, placed so that the return address slot [rbp + 8] starts in a
// readable page and ends in an unreadable one. An unwinder that checks only the page an 8-byte read
// starts in (libunwind's local one does) faults following that rule, unless every read it makes is
// a read that cannot fault.
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

extern "C" void stt_spin_with_rbp(long iterations, uintptr_t rbp);

// rdi: iterations of the spin loop, rsi: the value rbp holds meanwhile.
asm(R"(
    .text
    .globl stt_spin_with_rbp
    .type stt_spin_with_rbp, @function
stt_spin_with_rbp:
    .cfi_startproc
    push %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    mov %rsp, %rbp
    .cfi_def_cfa_register %rbp
    mov %rsi, %rbp
1:  pause
    dec %rdi
    jnz 1b
    mov %rsp, %rbp
    pop %rbp
    .cfi_def_cfa %rsp, 8
    ret
    .cfi_endproc
    .size stt_spin_with_rbp, .-stt_spin_with_rbp
)");

// rbp such that [rbp] lies in a readable page and [rbp + 8] straddles it and the unreadable page after it.
static uintptr_t garbage_rbp() {
    static uintptr_t rbp = 0;
    if (rbp == 0) {
        char *p = (char *) mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_NONE) != 0) return 0x100000000ull;
        rbp = (uintptr_t) p + 4096 - 12;
    }
    return rbp;
}

static long now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

extern "C" {

// Spins for about millis ms, nearly all of it inside stt_spin_with_rbp with a garbage rbp.
// Returns how many spin rounds ran.
long stt_spin_in_corrupt_frame(int millis) {
    uintptr_t bad = garbage_rbp();
    long end = now_ms() + millis, rounds = 0;
    while (now_ms() < end) {
        stt_spin_with_rbp(20000, bad);
        rounds++;
    }
    return rounds;
}

}
