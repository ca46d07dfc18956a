/*
 * Frame shapes from DWARF call frame information: a loaded module's .eh_frame, read once outside
 * any signal handler, becomes a sorted array of rows, each saying for the pcs from its loc to the
 * next row's how to find a frame's caller. The handler then unwinds with two binary searches and a
 * few stack loads (unwind.c), without interpreting DWARF, locking or allocating.
 *
 * x86-64 only: the return address is always at CFA - 8 and the caller's sp is the CFA.
 */
#ifndef STACKTRACE_CFI_H
#define STACKTRACE_CFI_H

#include <link.h>
#include <stdint.h>

/* How the canonical frame address (CFA) of the frames at a row's pcs is found. */
enum cfa_rule {
    CFA_NONE = 0,     /* no unwind info here: the caller of the frame is found by its frame pointer */
    CFA_RSP = 1,      /* rsp + offset */
    CFA_RBP = 2,      /* rbp + offset */
    CFA_PLT = 3,      /* a PLT entry: rsp + offset, plus 8 once (pc & 15) >= the row's threshold */
    CFA_END = 4,      /* the return address is undefined: the outermost frame of its thread */
    CFA_OTHER = 5,    /* a rule the table does not keep (an expression: a signal trampoline, say) */
};

/* Where the caller's rbp is, for the fp field of a row. */
#define CFI_FP_SAME 127     /* unchanged: the frame has not saved it (or restored it already) */
#define CFI_FP_LOST (-128)  /* somewhere the table does not keep: the caller's rbp is unknown */
#define CFI_MAX_CFA_OFFSET ((1u << 21) - 1)

/* One row: 8 bytes, since a big library has hundreds of thousands of them. */
struct cfi_row {
    uint32_t loc;    /* pc - the module's load base, from which this row holds */
    uint32_t shape;  /* rule (3 bits) | fp (8 bits: rbp's slot at CFA + 8 * fp, or a CFI_FP_ value) | CFA offset (21 bits) */
};

static inline enum cfa_rule cfi_rule(struct cfi_row r) { return (enum cfa_rule) (r.shape & 7); }
static inline int cfi_fp_slot(struct cfi_row r) { return (int8_t) (uint8_t) (r.shape >> 3); }
static inline uint32_t cfi_cfa_offset(struct cfi_row r) { return r.shape >> 11; }

/* The rows of one module, sorted by loc, and the range of its executable segments. */
struct cfi_module {
    uintptr_t base, start, end;
    struct cfi_row *rows;
    uint32_t nrows;
};

/* Reads a module's unwind info (through its PT_GNU_EH_FRAME header) into m; rows are malloc'ed
   (none for a module without unwind info). Every read is checked against the module's readable
   segments, so a malformed .eh_frame gives fewer rows, never a fault. Not for signal handlers.
   Returns 0, or -1 if memory ran out. */
int cfi_read_module(const struct dl_phdr_info *info, struct cfi_module *m);

#endif
