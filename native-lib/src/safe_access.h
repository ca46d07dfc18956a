/*
 * Reads of memory that cannot fault, for every caller (signal handlers included): the one way the
 * library reads memory it does not own (the VM's structures, a thread's stack, what the unwinder
 * for, an address Java hands in).
 *
 *  - stack_word: a direct load, for an address the caller checked with stack_has (between the
 *    interrupted sp and the thread's stack base, mapped while the thread lives): the fast path.
 *  - safe_copy: process_vm_readv on our own pid, which returns EFAULT instead of faulting, whatever
 *    the signal mask.
 *  - safe_load: one word of VM memory through HotSpot's SafeFetchN once the VM gave it (a fault there
 *    is caught by the JVM's SIGSEGV handler; so never with SIGSEGV blocked), else safe_copy.
 *  - safe_stack_load: stack_word inside the stack, safe_copy outside it (what the unwinder uses:
 *    it never depends on the JVM's SIGSEGV handler, so it also serves threads the JVM does not know).
 */
#ifndef STACKTRACE_SAFE_ACCESS_H
#define STACKTRACE_SAFE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

/* The part of the current thread's stack that may be read directly: [low, high). high = 0: none. */
struct stack_bounds {
    uintptr_t low, high;
};

static inline int stack_has(const struct stack_bounds *b, uintptr_t addr) {
    return addr >= b->low && addr < b->high && b->high - addr >= 8 && (addr & 7) == 0;
}

/* Only for an address stack_has accepted. */
static inline uintptr_t stack_word(uintptr_t addr) {
    return *(const uintptr_t *) addr;
}

/* len bytes at addr into out: 1, or 0 if any of them cannot be read (out is then undefined). */
int safe_copy(uintptr_t addr, void *out, size_t len);

/* One machine word at addr, or 0 with *ok = 0 if it cannot be read. */
uintptr_t safe_load(uintptr_t addr, int *ok);
/* Narrow loads of VM memory (the aligned word that holds them is read). 1, or 0. */
int safe_load_u8(uintptr_t addr, uint8_t *out);
int safe_load_u16(uintptr_t addr, uint16_t *out);
int safe_load_i32(uintptr_t addr, int32_t *out);

/* One word: directly inside b, by safe_copy outside. 1, or 0 with *out = 0. Never uses SafeFetchN. */
int safe_stack_load(const struct stack_bounds *b, uintptr_t addr, uintptr_t *out);

/* Once, at set-up: HotSpot's SafeFetchN (0: none; safe_load then uses safe_copy). */
void safe_access_use_safefetch(uintptr_t safefetch_n);

#endif
