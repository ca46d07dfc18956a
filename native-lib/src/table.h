/* The profile's aggregate table and counters (table.c), filled by the sampler's handler side. */
#ifndef STACKTRACE_TABLE_H
#define STACKTRACE_TABLE_H

#include <stdint.h>

#define WORDS_PER_FRAME 3   /* a recorded frame: kind, id, bci */

/* In a handler: adds `weight` samples of this stack (words = frames * WORDS_PER_FRAME) under this
   label set's id. Lock-free. */
void table_record(const uint64_t *frames, int words, uint32_t label, uint64_t weight);
/* Adds n to an ST_PROFILE_* counter; raises one to value if it is less; sets a level. Lock-free. */
void table_count(int counter, uint64_t n);
void table_count_max(int counter, uint64_t value);
void table_set(int counter, uint64_t value);
void table_reset_counters(void);

/* Outside any handler, with no handler inside the table: an empty table of capacity entries (a
   power of two) and arena_words words of frames, reusing the mapping when the sizes are the same.
   Returns 0, or -ENOMEM with the old table kept. */
int table_allocate(uint32_t capacity, uint64_t arena_words);

#endif
