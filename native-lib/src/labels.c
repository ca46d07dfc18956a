/*
 * The current thread's label set, as a small id that Java interns (0: no labels). The word is
 * thread-local with the initial-exec model, so a signal handler reads it without __tls_get_addr
 * (which may allocate), and a thread that ends takes its word with it: nothing to clean up, and a
 * new thread starts at 0. Java writes the word directly, through the address st_label_word gives
 * once per thread: a label change is a plain store, no call into this library.
 */
#include "labels.h"
#include "stacktrace.h"

#include <stdint.h>

static __thread volatile uint32_t current_label __attribute__((tls_model("initial-exec")));

int64_t st_label_word(void) {
    return (int64_t) (intptr_t) &current_label;
}

uint32_t labels_current(void) {
    return current_label;
}
