/*
 * The Java methods each compiled frame stands for (the methods inlined into it, then its own), kept
 * from AsyncGetCallTrace's answers so that a frame met again is named without asking it: its cost
 * is most of a walk's. In the handler: no lock, no allocation.
 */
#ifndef STACKTRACE_INLINING_H
#define STACKTRACE_INLINING_H

#include "mixed.h"

/* After the physical walk, instead of AsyncGetCallTrace: fills the sample's virtual frames from the
   cache when every compiled frame is in it. Returns 1 when it did (the sample then reads as if
   AsyncGetCallTrace had answered), 0 when AsyncGetCallTrace must be asked. */
int inlining_from_cache(struct mixed_sample *s);

/* After AsyncGetCallTrace answered: keeps, for each compiled frame, the methods its answer gives it
   where the answer can be split among the physical frames without doubt. */
void inlining_remember(const struct mixed_sample *s);

#endif
