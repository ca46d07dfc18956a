/*
 * The frame shapes (cfi.h) of every loaded module, for signal handlers: built, and rebuilt when
 * modules come and go, outside them; looked up inside them with no lock and no allocation.
 */
#ifndef STACKTRACE_FRAME_TABLE_H
#define STACKTRACE_FRAME_TABLE_H

#include "cfi.h"

#include <stdint.h>

/* Outside signal handlers: reads the modules loaded since the last call (cheap when none were: one
   look at the loader's counters) and publishes the new table. Takes the loader's lock, so it may
   wait as long as another thread holds that (a thread stuck in dlopen: forever). Returns 0, or -1
   if memory ran out (the table in use stays). */
int frame_table_refresh(void);

/* The same, done by a thread of ours (started on first use) so that the caller never waits for the
   loader's lock: waits at most wait_ns for it (0: not at all). Returns 1 when a new table was
   published, 0 when nothing had changed, -ETIMEDOUT when the refresh did not finish in time, or
   another < 0. */
int frame_table_refresh_within(int64_t wait_ns);

/* Async-signal-safe. The row that holds at pc: 1 (a CFA_NONE row when its module has no unwind
   info there), or 0 when pc is in no module the table knows. */
int frame_table_find(uintptr_t pc, struct cfi_row *row);

/* Async-signal-safe. Counts a pc found in no module (a library loaded since the last refresh, or
   code outside any library); frame_table_misses reads the count. */
void frame_table_missed(void);
unsigned frame_table_misses(void);

/* Modules, rows, and bytes the rows take, of the table in use (for tests and benchmarks). */
void frame_table_size(int64_t *modules, int64_t *rows, int64_t *bytes);

#endif
