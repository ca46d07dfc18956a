/*
 * libstacktrace: the native core of stacktrace for the JVM.
 *
 * It does one thing: capture raw instruction addresses of a thread of this process, inside that
 * thread, from a signal handler. Everything else (names, formatting, policy) lives in Java.
 *
 * The ABI is plain C: ints, longs and caller-owned buffers. Functions return a count (>= 0) or a
 * negative errno-style code (ST_E*), never abort.
 */
#ifndef STACKTRACE_H
#define STACKTRACE_H

#include <stdint.h>
#include <jni.h>

#include "depth_limits.h"

#define ST_ABI_VERSION 7

/* ST_MAX_FRAMES (capacity of one capture) and ST_PROFILE_MAX_FRAMES are in depth_limits.h. */

/* Concurrent requests in flight across the process. */
#define ST_SLOTS 32

/* Error codes, returned negated. Where an errno fits, it is the errno. */
#define ST_ENOTINIT   1000  /* st_init has not succeeded */
#define ST_EBUSY      1001  /* another handler already owns the signal */
#define ST_ESIGNAL    1002  /* not a realtime signal */
#define ST_EOTHERSIG  1003  /* already initialised with another signal */
#define ST_ENOVM      1004  /* st_vm_init has not succeeded: no Java frames */
#define ST_EJVMTI     1005  /* no JVMTI environment: Java frames without AsyncGetCallTrace */
#define ST_ELATE      1006  /* the thread took the signal but had not finished its answer by the deadline */

int st_abi_version(void);
/* Entry index of the library's table of ABI constants (this header's ST_* numbers, record sizes, the
   VM layout's keys VM_* of vm.h): its name into name (NUL-terminated), its value into *value.
   Returns the name's length, or -1 past the end (or if name does not fit). */
int st_abi_constant(int index, char *name, int namelen, int64_t *value);

/* Installs the capture handler on a free realtime signal. Idempotent for the same signal. */
int st_init(int signo);
/* The installed signal, or 0. */
int st_signal(void);
/* The handler currently installed for signo: 0 = default, 1 = ignored, else its address. */
int64_t st_signal_owner(int signo);
/* 1 when the handler on signo belongs to another copy of this library (its file path written to
   out), else 0. Not for signal handlers (dladdr, dlopen). */
int st_signal_owner_library(int signo, char *out, int outlen);

int st_gettid(void);
/* 1 while thread tid runs our signal handler (the kernel then shows the signal as blocked), else 0. */
int st_in_handler(int tid);
/* One look at whether thread tid blocks the capture signal (blocking.c): ST_LOOK_CLEAR (it does not,
   or it is gone), ST_LOOK_BLOCKS (masked while it sleeps in a wait of its own, outside our handler),
   or ST_LOOK_UNSURE (masked, but running, in the kernel or in our handler: perhaps only a moment). */
enum st_look { ST_LOOK_CLEAR = 0, ST_LOOK_BLOCKS = 1, ST_LOOK_UNSURE = 2 };
int st_looks_blocking(int tid);

/* The calling thread's stack, innermost first, without this function's own frame. */
int st_capture_self(int64_t *out, int max);
/* Another thread's stack, taken inside it by the signal handler. Waits at most timeout_ms. */
int st_capture_thread(int tid, int64_t *out, int max, int timeout_ms);
/* The same round trip with a handler that does nothing: the floor for st_capture_thread. */
int st_ping_thread(int tid, int timeout_ms);
/* A ping measured in parts, ns, into out[0..5): [sending the signal (the syscall), from sent to
   the handler's start (delivery), the handler, from the handler's end to the requester seeing the
   answer (wake-up), 1 if the requester slept on the futex else 0]. For benchmarks. */
int st_ping_parts(int tid, int timeout_ms, int64_t *out);

/* ---- Mixed mode: Java frames among the native ones ---- */

/* Kinds of the frames st_capture_mixed returns. */
enum st_frame_kind {
    ST_FRAME_NATIVE = 0,         /* id = instruction address */
    ST_FRAME_INTERPRETED = 1,    /* id = jmethodID, bci */
    ST_FRAME_COMPILED = 2,       /* id = jmethodID, bci (-1 when unknown) */
    ST_FRAME_INLINED = 3,        /* id = jmethodID, bci: inlined into the compiled frame below */
    ST_FRAME_NATIVE_METHOD = 4,  /* id = jmethodID of a Java native method (its JNI stub's frame) */
    ST_FRAME_STUB = 5,           /* id = pc of JVM-generated code that is no Java method */
    ST_FRAME_MARKER = 6,         /* no frame: the walk lost its way here. id = ST_MARK_*, bci = the walk's end code */
};

/* Why a stack carries a marker frame (its id). Frames after a marker come from AsyncGetCallTrace
   alone (Java frames without the native frames between them); a stack whose walk did not reach
   the thread's start ends with a marker. */
enum st_marker {
    ST_MARK_TRUNCATED = 1,       /* the walk could not go on (the unwinder lost, a broken frame chain, too deep) */
    ST_MARK_UNKNOWN_JAVA = 2,    /* in JVM-generated code without a frame layout to leave it by */
};

/* Hands over the running JVM's layout (VM_KEYS entries in the order of vm.h's keys, which st_abi_constant lists) and sets up JVMTI. Call from a Java thread. */
int st_vm_init(JNIEnv *env, const int64_t *layout, int count);

/* A thread's mixed stack: 5 words a frame (kind, id, bci, pc, sp), innermost first; a stack the walk could
   not follow to the thread's start ends with an ST_FRAME_MARKER frame. info (ST_MIXED_INFO_WORDS words, may
   be NULL): AsyncGetCallTrace's frame count or error, the walk's end code, segments, is-a-Java-thread,
   ns in AsyncGetCallTrace, ns in the whole capture (inside the target thread), ns unwinding native frames below
   entry frames, 1 if the inlined methods came from the inlining cache (AsyncGetCallTrace not asked). */
#define ST_MIXED_INFO_WORDS 8
int st_capture_mixed(int tid, int64_t *out, int max_frames, int timeout_ms, int64_t *info);

/* A jmethodID's "class signature\tmethod name\tsource file\tmodifiers", or -1. Not in a signal handler. */
int st_method_info(int64_t method_id, char *out, int outlen);
/* A jmethodID's line table as (start bci, line) pairs; returns the number of entries (may exceed max_pairs). */
int st_line_table(int64_t method_id, int32_t *out, int max_pairs);
/* Code the JVM generated that is no Java method (stubs: intrinsics, adapters, runtime stubs), as JVMTI's
   DynamicCodeGenerated reports it (those made before st_vm_init too). The list only grows. Not in a signal handler. */
int st_code_stub_count(void);
/* Stub index: range = {address, length}; its name into name (NUL-terminated, cut to namelen-1). Returns the
   name's length written, or -1. */
int st_code_stub(int index, int64_t *range, char *name, int namelen);
/* The name the JVM gave the CodeBlob (not a Java method) holding pc, e.g. "StubRoutines (1)", and
   where its code starts; returns the name's length, or -1. Not in a signal handler. */
int st_code_blob_name(int64_t pc, int64_t *code, char *out, int outlen);
/* The declaring class of a jmethodID (a local reference for the calling Java thread), or NULL. */
jclass st_method_class(JNIEnv *env, int64_t method_id);

/* ---- The async-signal-safe contract: fixed-size records, printed with write(2) only ---- */

#define ST_TEXT_SIZE 256

/* One frame with its names, in caller-owned memory. Text longer than ST_TEXT_SIZE-1 bytes is cut and flagged. */
typedef struct st_frame_info {
    int64_t address;           /* pc */
    int64_t offset;            /* native: bytes from the symbol's start; Java: the bci (-1 unknown) */
    int32_t kind;              /* ST_FRAME_* */
    int32_t line;              /* Java: the source line, -1 when unknown */
    int32_t name_truncated;    /* 1 if name was cut */
    int32_t file_truncated;    /* 1 if file was cut */
    char name[ST_TEXT_SIZE];   /* Java: class.method; native: the symbol, "" when unknown */
    char file[ST_TEXT_SIZE];   /* Java: the source file, "" when unknown; native: the library's file name */
} st_frame_info;

/* A thread's mixed stack into records. Java names come from the VM's own structures: no JVMTI,
   no Java, no malloc, no locks. native_names = 1 also names native frames with dladdr (not
   async-signal-safe: for ordinary threads only); 0 leaves them to the reader. Returns the count. */
int st_collect_frames(int tid, st_frame_info *frames, int max, int timeout_ms, int native_names);

/* Writes records to fd as text using only write(2): async-signal-safe. header: a first line
   "Stack (most recent call first):". Cut names end in "...". Returns 0, or -errno. */
int st_print_frames(int fd, const st_frame_info *frames, int n, int header);

/* ---- The dump that needs no Java thread ---- */

/* Installs a handler on a free realtime signal that wakes a native thread of ours, which writes
   every thread's mixed stack to path (NULL or "" = stderr), appending. Works while the JVM cannot
   reach a safepoint. */
int st_dump_on_signal(int signo, const char *path);
/* The same dump, now, from the calling thread, to fd. */
int st_dump_all(int fd);

/* ---- Sampling ---- */

/* The longest sampling interval: 60 s. */
#define ST_PROFILE_MAX_INTERVAL_NS 60000000000LL
enum st_profile_mode { ST_PROFILE_CPU = 1, ST_PROFILE_WALL = 2 };
/* Counters of st_profile_counters, in this order. */
enum st_profile_counter {
    ST_PROFILE_SAMPLES,       /* samples taken (recorded or not) */
    ST_PROFILE_INCOMPLETE,    /* recorded, but the walk lost its way: the stack has a marker frame */
    ST_PROFILE_TABLE_FULL,    /* not recorded: no room in the table */
    ST_PROFILE_BUSY,          /* not recorded: no scratch buffer free, or a signal could not be queued */
    ST_PROFILE_THREAD_GONE,   /* a thread ended before it could be sampled */
    ST_PROFILE_NANOS,         /* time spent in the sampling handler, in total */
    ST_PROFILE_MAX_NANOS,     /* ... and at most in one sample */
    ST_PROFILE_SIGNAL_BLOCKED,/* wall ticks not sent: the thread blocks the signal (each tick counted) */
    ST_PROFILE_WALKS,         /* stacks walked by the handler (SAMPLES counts a wall sample once per tick it stands for) */
    ST_PROFILE_UNSAMPLED_THREADS, /* not a count but a level: threads to sample that have no clock or
                                 no slot at the last look (the signal budget, or over 4096 threads) */
    ST_PROFILE_COUNTERS
};

/* Starts sampling: mode cpu or wall, every interval ns, the given threads (ntids = 0: every thread
   of the process, including threads started later), up to frames frames a stack, into a table of
   table_entries distinct stacks (a power of two). -EINVAL for an interval under 0.1 ms or over
   ST_PROFILE_MAX_INTERVAL_NS; -EBUSY if already running, or if a handler of the previous run is
   still inside the table (the table is then left as it is). */
int st_profile_start(int mode, int64_t interval_ns, const int32_t *tids, int ntids, int frames, int table_entries);
/* Stops sampling; returns 0 when no handler can write to the table any more, or -ETIMEDOUT when a
   handler did not leave it within 2 s (the table then stays mapped). The table stays readable. */
int st_profile_stop(void);
int st_profile_running(void);
/* The counters into out[0..n); returns how many there are. */
int st_profile_counters(int64_t *out, int n);
/* Threads currently sampled. */
int st_profile_threads(void);
/* How cpu mode's threads are clocked, into out[0..n): [threads on a perf_events task-clock, threads
   on a POSIX CPU timer, the scheduler tick ns, the effective interval ns (the interval, or the tick
   when some thread has a timer and the tick is longer; 0 when not running)]. Returns the count. */
int st_profile_clock(int64_t *out, int n);
/* Whether cpu mode tries perf_events for the next start (1, the default) or only POSIX timers (0).
   Returns the previous setting. */
int st_profile_use_perf(int allowed);
/* The table: per distinct stack and label set [count, frames | label << 32, (kind, id, bci) x frames]. Returns the words written,
   or minus the words needed if capacity_words is too small. Safe while sampling. */
int64_t st_profile_read(int64_t *out, int64_t capacity_words);
/* The address of the calling thread's label word (a uint32_t, the id of its current label set, 0 for
   none), valid while the thread lives; the profiler stores it with each sample. Java writes it. */
int64_t st_label_word(void);

/* Requests currently in flight (slots not free). For tests and diagnostics. */
int st_slots_in_use(void);

/* The unwinder's frame table as it is now, brought up to date first: out[0] modules, out[1] rows,
   out[2] bytes of rows, out[3] ns the update took, out[4] pcs walks met in no module so far.
   Returns 0, or < 0. For tests and benchmarks. */
int st_frame_table(int64_t *out);

/* Reads nwords machine words at addr without faulting: returns nwords, or -EFAULT. */
int st_peek(int64_t addr, int64_t *out, int nwords);

/* java.lang.Thread's eetop (the VM's JavaThread*), 0 when the thread is not alive. */
jlong st_thread_eetop(JNIEnv *env, jobject thread);

/* C++ demangling through the C++ runtime's __cxa_demangle, when one can be found.
   Returns the length written (NUL-terminated, truncated to outlen-1), or -1. */
int st_demangle(const char *mangled, char *out, int outlen);

#endif
