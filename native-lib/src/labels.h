/* The current thread's label-set id (labels.c). */
#ifndef STACKTRACE_LABELS_H
#define STACKTRACE_LABELS_H

#include <stdint.h>

/* In a handler: the interrupted thread's label-set id, 0 for none. Async-signal-safe. */
uint32_t labels_current(void);

#endif
