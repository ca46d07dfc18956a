/*
 * How deep the library goes, in one place: every depth limit of the C side. Java keeps its own
 * copies of the two that are ABI (LibStacktrace.MAX_FRAMES and PROFILE_MAX_FRAMES), checked
 * against ST_MAX_FRAMES and ST_PROFILE_MAX_FRAMES (st_abi_constant) when the library loads.
 */
#ifndef STACKTRACE_DEPTH_LIMITS_H
#define STACKTRACE_DEPTH_LIMITS_H

/* Capacity of one capture (st_capture_thread, st_capture_self, st_capture_mixed). */
#define ST_MAX_FRAMES 1024

/* One mixed sample: AsyncGetCallTrace's frames, the physical walk's Java frames, native frames. */
#define MIXED_MAX_VIRTUAL 256
#define MIXED_MAX_PHYSICAL 256
#define MIXED_MAX_NATIVE 256

/* Frames of one profiled stack. */
#define ST_PROFILE_MAX_FRAMES 256

/* Frames of one st_collect_frames record stack (more asked for are cut to this). */
#define RECORDS_MAX_FRAMES 256

/* Frames per thread in the signal-triggered thread dump. */
#define DUMP_MAX_FRAMES 128

#endif
