/*
 * DWARF call frame information (.eh_frame, found through .eh_frame_hdr) into frame-shape rows.
 *
 * Only what x86-64 compilers emit is kept: a CFA of rsp or rbp plus an offset, rbp saved at a slot
 * below the CFA or unchanged, the return address at CFA - 8 or undefined (a thread's outermost
 * frame), and the PLT's one standard expression. Anything else becomes a CFA_OTHER row, for which
 * the unwinder falls back to the frame pointer (or finds a signal frame), as libgcc and libunwind
 * would for code without unwind info. Runs outside signal handlers, while dl_iterate_phdr holds the
 * module in place.
 */
#define _GNU_SOURCE
#include "cfi.h"

#include <stdlib.h>
#include <string.h>

/* DWARF registers of x86-64 that matter here. */
#define DW_RBP 6
#define DW_RSP 7
#define DW_RA 16

/* ---- reading memory of the module, bounded ---- */

#define MAX_SEGMENTS 16

struct segments {
    uintptr_t lo[MAX_SEGMENTS], hi[MAX_SEGMENTS];
    int n;
};

/* The end of the readable segment that holds addr, or 0. */
static uintptr_t readable_end(const struct segments *s, uintptr_t addr) {
    for (int i = 0; i < s->n; i++) {
        if (addr >= s->lo[i] && addr < s->hi[i]) return s->hi[i];
    }
    return 0;
}

struct reader {
    uintptr_t p, end;
    int bad;
};

static int take(struct reader *r, size_t n) {
    if (r->bad || r->end - r->p < n || r->p > r->end) { r->bad = 1; return 0; }
    return 1;
}

static uint8_t u8(struct reader *r) {
    if (!take(r, 1)) return 0;
    return *(const uint8_t *) r->p++;
}

#define FIXED_READER(name, type) \
    static type name(struct reader *r) { \
        type v = 0; \
        if (!take(r, sizeof(type))) return 0; \
        memcpy(&v, (const void *) r->p, sizeof(type)); \
        r->p += sizeof(type); \
        return v; \
    }
FIXED_READER(u16, uint16_t)
FIXED_READER(u32, uint32_t)
FIXED_READER(u64, uint64_t)

static uint64_t uleb(struct reader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = u8(r);
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(struct reader *r) {
    uint64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
        if (shift >= 64) { r->bad = 1; return 0; }
        b = u8(r);
        v |= (uint64_t) (b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= ~(uint64_t) 0 << shift;
    return (int64_t) v;
}

/* A pointer in one of the DW_EH_PE encodings (indirection is not followed: only a personality
   routine uses it, and that is skipped). */
static uintptr_t encoded(struct reader *r, uint8_t enc, uintptr_t data_base) {
    if (enc == 0xff) return 0;  /* omit */
    uintptr_t at = r->p, v;
    switch (enc & 0x0f) {
    case 0x00: case 0x04: v = (uintptr_t) u64(r); break;
    case 0x01: v = (uintptr_t) uleb(r); break;
    case 0x02: v = u16(r); break;
    case 0x03: v = u32(r); break;
    case 0x09: v = (uintptr_t) sleb(r); break;
    case 0x0a: v = (uintptr_t) (intptr_t) (int16_t) u16(r); break;
    case 0x0b: v = (uintptr_t) (intptr_t) (int32_t) u32(r); break;
    case 0x0c: v = (uintptr_t) (int64_t) u64(r); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: return v;
    case 0x10: return v + at;         /* pcrel */
    case 0x30: return v + data_base;  /* datarel */
    default: r->bad = 1; return 0;
    }
}

/* ---- the rule state while interpreting one FDE ---- */

enum ra_rule { RA_AT_CFA_MINUS_8, RA_UNDEFINED, RA_ELSEWHERE };

struct state {
    enum cfa_rule cfa;  /* CFA_RSP, CFA_RBP, CFA_PLT or CFA_OTHER */
    int64_t cfa_offset;
    int fp;             /* rbp's slot (a multiple of 8 bytes from the CFA) or CFI_FP_SAME / CFI_FP_LOST */
    enum ra_rule ra;
    int plt_threshold;
};

static uint32_t shape_of(const struct state *s) {
    enum cfa_rule rule = s->cfa;
    int fp = s->fp;
    if (s->ra == RA_UNDEFINED) rule = CFA_END;
    else if (s->ra != RA_AT_CFA_MINUS_8) rule = CFA_OTHER;
    else if (rule == CFA_PLT) fp = s->plt_threshold;
    if ((rule == CFA_RSP || rule == CFA_RBP || rule == CFA_PLT)
        && (s->cfa_offset < 8 || s->cfa_offset > (int64_t) CFI_MAX_CFA_OFFSET)) rule = CFA_OTHER;
    uint32_t offset = rule == CFA_RSP || rule == CFA_RBP || rule == CFA_PLT ? (uint32_t) s->cfa_offset : 0;
    if (rule != CFA_RSP && rule != CFA_RBP && rule != CFA_PLT) fp = CFI_FP_SAME;
    return (uint32_t) rule | ((uint32_t) (uint8_t) (int8_t) fp << 3) | (offset << 11);
}

/* Where a register is saved, as a CFA-relative offset in bytes. */
static void saved_at(struct state *s, uint64_t reg, int64_t offset) {
    if (reg == DW_RBP) s->fp = offset % 8 == 0 && offset / 8 > CFI_FP_LOST && offset / 8 < CFI_FP_SAME
                               ? (int) (offset / 8) : CFI_FP_LOST;
    else if (reg == DW_RA) s->ra = offset == -8 ? RA_AT_CFA_MINUS_8 : RA_ELSEWHERE;
}

/* A register whose rule the table does not keep (in a register, an expression, undefined). */
static void saved_elsewhere(struct state *s, uint64_t reg) {
    if (reg == DW_RBP) s->fp = CFI_FP_LOST;
    else if (reg == DW_RA) s->ra = RA_ELSEWHERE;
}

static void cfa_register(struct state *s, uint64_t reg) {
    s->cfa = reg == DW_RSP ? CFA_RSP : reg == DW_RBP ? CFA_RBP : CFA_OTHER;
}

/* The PLT's CFA, as GNU ld writes it: rsp + 8 + ((rip & 15) >= N ? 8 : 0). */
static void cfa_expression(struct state *s, struct reader *r) {
    uint64_t len = uleb(r);
    if (!take(r, len)) return;
    const uint8_t *e = (const uint8_t *) r->p;
    static const uint8_t plt[] = {0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0, 0x2a, 0x33, 0x24, 0x22};
    s->cfa = CFA_OTHER;
    if (len == sizeof(plt) && memcmp(e, plt, 6) == 0 && memcmp(e + 7, plt + 7, 4) == 0
        && e[6] >= 0x30 && e[6] <= 0x3f) {
        s->cfa = CFA_PLT;
        s->cfa_offset = 8;
        s->plt_threshold = e[6] - 0x30;
    }
    r->p += len;
}

/* ---- rows ---- */

struct builder {
    uintptr_t base;
    struct cfi_row *rows;
    uint32_t n, cap;
    int out_of_memory;
};

/* The row that holds from pc on; a later row at the same or an earlier pc replaces what it covers. */
static void emit(struct builder *b, uintptr_t pc, uint32_t shape) {
    if (pc < b->base || pc - b->base > UINT32_MAX || b->out_of_memory) return;
    uint32_t loc = (uint32_t) (pc - b->base);
    while (b->n > 0 && b->rows[b->n - 1].loc >= loc) b->n--;
    if (b->n > 0 && b->rows[b->n - 1].shape == shape) return;
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 1024;
        struct cfi_row *rows = realloc(b->rows, sizeof(*rows) * cap);
        if (rows == NULL) { b->out_of_memory = 1; return; }
        b->rows = rows;
        b->cap = cap;
    }
    b->rows[b->n++] = (struct cfi_row) {loc, shape};
}

/* ---- CIEs and FDEs ---- */

struct cie {
    uintptr_t at;
    uint8_t fde_encoding;
    int augmented;  /* 'z': FDEs carry augmentation data to skip */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_register;
    uintptr_t insns, end;
};

#define STATE_STACK 16

/* Interprets the instructions in [r->p, r->end) from pc; emits rows when pc moves (b may be NULL
   for a CIE's initial instructions). */
static void interpret(struct reader *r, const struct cie *c, struct state *s, const struct state *initial,
                      uintptr_t pc, uintptr_t data_base, struct builder *b) {
    struct state stack[STATE_STACK];
    int depth = 0;
    while (r->p < r->end && !r->bad) {
        uint8_t op = u8(r);
        uint64_t reg;
        uintptr_t to = pc;
        switch (op >> 6) {
        case 1: to = pc + (op & 0x3f) * c->code_align; goto advance;
        case 2: saved_at(s, op & 0x3f, (int64_t) uleb(r) * c->data_align); continue;
        case 3:
            reg = op & 0x3f;
            if (reg == DW_RBP) s->fp = initial->fp;
            if (reg == c->ra_register) s->ra = initial->ra;
            continue;
        default: break;
        }
        switch (op) {
        case 0x00: continue;                                                   /* nop */
        case 0x01: to = encoded(r, c->fde_encoding, data_base); goto advance;  /* set_loc */
        case 0x02: to = pc + u8(r) * c->code_align; goto advance;
        case 0x03: to = pc + u16(r) * c->code_align; goto advance;
        case 0x04: to = pc + u32(r) * c->code_align; goto advance;
        case 0x05: reg = uleb(r); saved_at(s, reg == c->ra_register ? DW_RA : reg, (int64_t) uleb(r) * c->data_align); continue;
        case 0x06:                                                             /* restore_extended */
            reg = uleb(r);
            if (reg == DW_RBP) s->fp = initial->fp;
            if (reg == c->ra_register) s->ra = initial->ra;
            continue;
        case 0x07:                                                             /* undefined */
            reg = uleb(r);
            if (reg == c->ra_register) s->ra = RA_UNDEFINED;
            else saved_elsewhere(s, reg);
            continue;
        case 0x08:                                                             /* same_value */
            reg = uleb(r);
            if (reg == DW_RBP) s->fp = CFI_FP_SAME;
            else if (reg == c->ra_register) s->ra = RA_ELSEWHERE;
            continue;
        case 0x09:                                                             /* register */
            reg = uleb(r);
            if (uleb(r) != reg) saved_elsewhere(s, reg == c->ra_register ? DW_RA : reg);
            continue;
        case 0x0a:                                                             /* remember_state */
            if (depth == STATE_STACK) { r->bad = 1; break; }
            stack[depth++] = *s;
            continue;
        case 0x0b:                                                             /* restore_state */
            if (depth == 0) { r->bad = 1; break; }
            *s = stack[--depth];
            continue;
        case 0x0c: cfa_register(s, uleb(r)); s->cfa_offset = (int64_t) uleb(r); continue;         /* def_cfa */
        case 0x0d: cfa_register(s, uleb(r)); continue;                                           /* def_cfa_register */
        case 0x0e: s->cfa_offset = (int64_t) uleb(r); continue;                                  /* def_cfa_offset */
        case 0x0f: cfa_expression(s, r); continue;                                               /* def_cfa_expression */
        case 0x10: case 0x16:                                                  /* expression, val_expression */
            reg = uleb(r);
            saved_elsewhere(s, reg == c->ra_register ? DW_RA : reg);
            { uint64_t len = uleb(r); if (take(r, len)) r->p += len; }
            continue;
        case 0x11: reg = uleb(r); saved_at(s, reg == c->ra_register ? DW_RA : reg, sleb(r) * c->data_align); continue;
        case 0x12: cfa_register(s, uleb(r)); s->cfa_offset = sleb(r) * c->data_align; continue;  /* def_cfa_sf */
        case 0x13: s->cfa_offset = sleb(r) * c->data_align; continue;                            /* def_cfa_offset_sf */
        case 0x14: reg = uleb(r); uleb(r); saved_elsewhere(s, reg == c->ra_register ? DW_RA : reg); continue;
        case 0x15: reg = uleb(r); sleb(r); saved_elsewhere(s, reg == c->ra_register ? DW_RA : reg); continue;
        case 0x2e: uleb(r); continue;                                                            /* GNU_args_size */
        case 0x2f:                                                             /* GNU_negative_offset_extended */
            reg = uleb(r);
            saved_at(s, reg == c->ra_register ? DW_RA : reg, -(int64_t) uleb(r) * c->data_align);
            continue;
        default: r->bad = 1; break;
        }
        break;
    advance:
        if (b != NULL && to > pc) emit(b, pc, shape_of(s));
        if (to > pc) pc = to;
    }
    if (b != NULL && r->bad) {
        /* what follows an instruction we cannot read is unknown */
        s->cfa = CFA_OTHER;
    }
    if (b != NULL) emit(b, pc, shape_of(s));
}

static int read_cie(uintptr_t at, const struct segments *segs, struct cie *c) {
    uintptr_t seg_end = readable_end(segs, at);
    struct reader r = {at, seg_end, seg_end == 0};
    uint32_t length = u32(&r);
    if (length == 0 || length >= 0xfffffff0u || !take(&r, length)) return 0;
    r.end = r.p + length;
    if (u32(&r) != 0) return 0;  /* not a CIE */
    uint8_t version = u8(&r);
    if (version != 1 && version != 3 && version != 4) return 0;
    char aug[16];
    size_t k = 0;
    for (;;) {
        uint8_t ch = u8(&r);
        if (r.bad || k == sizeof(aug) - 1) return 0;
        aug[k++] = (char) ch;
        if (ch == 0) break;
    }
    if (strstr(aug, "eh") != NULL) return 0;
    if (version == 4) { u8(&r); u8(&r); }
    c->at = at;
    c->code_align = uleb(&r);
    c->data_align = sleb(&r);
    c->ra_register = version == 1 ? u8(&r) : uleb(&r);
    c->fde_encoding = 0;
    c->augmented = aug[0] == 'z';
    if (c->augmented) {
        uint64_t len = uleb(&r);
        if (!take(&r, len)) return 0;
        uintptr_t data_end = r.p + len;
        for (const char *a = aug + 1; *a != 0 && !r.bad; a++) {
            if (*a == 'R') c->fde_encoding = u8(&r);
            else if (*a == 'P') { uint8_t enc = u8(&r); encoded(&r, enc, 0); }
            else if (*a == 'L') u8(&r);
            else if (*a != 'S' && *a != 'B' && *a != 'G') break;
        }
        r.p = data_end;
    }
    c->insns = r.p;
    c->end = r.end;
    return !r.bad && c->code_align != 0;
}

/* One FDE's rows. The CIE is cached in *cie across calls (FDEs share a few CIEs). */
static void read_fde(uintptr_t at, uintptr_t data_base, const struct segments *segs, struct cie *cie,
                     struct state *initial, struct builder *b) {
    uintptr_t seg_end = readable_end(segs, at);
    struct reader r = {at, seg_end, seg_end == 0};
    uint32_t length = u32(&r);
    if (length == 0 || length >= 0xfffffff0u || !take(&r, length)) return;
    r.end = r.p + length;
    uintptr_t cie_field = r.p;
    uint32_t cie_offset = u32(&r);
    if (r.bad || cie_offset == 0 || cie_offset > cie_field) return;
    uintptr_t cie_at = cie_field - cie_offset;
    if (cie->at != cie_at) {
        cie->at = 0;
        if (!read_cie(cie_at, segs, cie)) return;
        /* the CIE's initial instructions, once */
        *initial = (struct state) {CFA_OTHER, 0, CFI_FP_SAME, RA_ELSEWHERE, 0};
        struct reader init = {cie->insns, cie->end, 0};
        interpret(&init, cie, initial, initial, 0, data_base, NULL);
        if (init.bad) { cie->at = 0; return; }
    }
    uintptr_t pc = encoded(&r, cie->fde_encoding, data_base);
    uintptr_t range = encoded(&r, cie->fde_encoding & 0x0f, 0);
    if (cie->augmented) {
        uint64_t len = uleb(&r);
        if (!take(&r, len)) return;
        r.p += len;
    }
    if (r.bad || range == 0 || pc + range < pc) return;
    struct state s = *initial;
    interpret(&r, cie, &s, initial, pc, data_base, b);
    emit(b, pc + range, CFA_NONE | ((uint32_t) (uint8_t) (int8_t) CFI_FP_SAME << 3));
}

int cfi_read_module(const struct dl_phdr_info *info, struct cfi_module *m) {
    memset(m, 0, sizeof(*m));
    m->base = info->dlpi_addr;
    struct segments segs = {.n = 0};
    uintptr_t hdr = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD) {
            if ((ph->p_flags & PF_R) && segs.n < MAX_SEGMENTS) {
                segs.lo[segs.n] = lo;
                segs.hi[segs.n++] = hi;
            }
            if (ph->p_flags & PF_X) {
                if (m->start == 0 || lo < m->start) m->start = lo;
                if (hi > m->end) m->end = hi;
            }
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            hdr = lo;
        }
    }
    if (hdr == 0 || m->start == 0) return 0;

    uintptr_t seg_end = readable_end(&segs, hdr);
    struct reader r = {hdr, seg_end, seg_end == 0};
    uint8_t version = u8(&r), frame_enc = u8(&r), count_enc = u8(&r), table_enc = u8(&r);
    encoded(&r, frame_enc, hdr);
    uintptr_t count = encoded(&r, count_enc, hdr);
    /* the binary search table: (initial location, FDE) as 4-byte offsets from the header */
    if (r.bad || version != 1 || table_enc != 0x3b || count == 0 || r.p > r.end || count > (r.end - r.p) / 8) return 0;

    struct builder b = {.base = m->base};
    struct cie cie = {.at = 0};
    struct state initial;
    const int32_t *table = (const int32_t *) r.p;
    for (uintptr_t i = 0; i < count && !b.out_of_memory; i++) {
        int32_t fde;
        memcpy(&fde, table + 2 * i + 1, sizeof(fde));
        read_fde(hdr + (intptr_t) fde, hdr, &segs, &cie, &initial, &b);
    }
    if (b.out_of_memory) {
        free(b.rows);
        return -1;
    }
    if (b.n > 0 && b.n < b.cap) {
        struct cfi_row *fit = realloc(b.rows, sizeof(*fit) * b.n);
        if (fit != NULL) b.rows = fit;
    }
    m->rows = b.rows;
    m->nrows = b.n;
    return 0;
}
