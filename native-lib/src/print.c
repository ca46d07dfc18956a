/*
 * Stacks as text, with write(2) alone: no stdio, no malloc, no locks. Safe in a signal handler
 * and in a process whose other threads are stopped in any state.
 */
#include "stacktrace.h"
#include "text.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct line {
    char text[2 * ST_TEXT_SIZE + 96];
    size_t length;
};

static void put(struct line *l, const char *s) {
    size_t n = strlen(s);
    if (n > sizeof l->text - l->length) n = sizeof l->text - l->length;
    memcpy(l->text + l->length, s, n);
    l->length += n;
}

static void put_hex(struct line *l, uint64_t v, int digits) {
    char buf[17];
    for (int i = digits - 1; i >= 0; i--) {
        buf[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    buf[digits] = '\0';
    put(l, buf);
}

static void put_hex_short(struct line *l, uint64_t v) {
    int digits = 1;
    for (uint64_t x = v >> 4; x != 0; x >>= 4) digits++;
    put_hex(l, v, digits);
}

static void put_int(struct line *l, int64_t v) {
    char digits[24];
    put(l, text_decimal(digits, v));
}

static void format_frame(struct line *l, const st_frame_info *f) {
    l->length = 0;
    int java = f->kind >= ST_FRAME_INTERPRETED && f->kind <= ST_FRAME_NATIVE_METHOD;
    if (f->kind == ST_FRAME_MARKER) {
        put(l, f->name);  /* no frame: why the stack ends (or has a gap) here */
    } else if (java) {
        put(l, "at ");
        put(l, f->name);
        if (f->name_truncated) put(l, "...");
        put(l, "(");
        if (f->kind == ST_FRAME_NATIVE_METHOD) {
            put(l, "Native Method");
        } else if (f->file[0] == '\0') {
            put(l, "Unknown Source");
        } else {
            put(l, f->file);
            if (f->file_truncated) put(l, "...");
            if (f->line > 0) { put(l, ":"); put_int(l, f->line); }
        }
        put(l, ")");
    } else {
        put(l, "[0x");
        put_hex(l, (uint64_t) f->address, 16);
        put(l, "] ");
        if (f->name[0] == '\0') {
            put(l, "?");
        } else {
            put(l, f->name);
            if (f->name_truncated) put(l, "...");
            put(l, "+0x");
            put_hex_short(l, (uint64_t) f->offset);
        }
        put(l, " (");
        if (f->file[0] != '\0') {
            put(l, f->file);
            if (f->file_truncated) put(l, "...");
        } else {
            put(l, f->kind == ST_FRAME_STUB ? "[jit]" : "?");
        }
        put(l, ")");
    }
    put(l, "\n");
}

int st_print_frames(int fd, const st_frame_info *frames, int n, int header) {
    if (fd < 0 || (frames == NULL && n > 0) || n < 0) return -EINVAL;
    if (header) {
        static const char text[] = "Stack (most recent call first):\n";
        int rc = text_write_all(fd, text, sizeof text - 1);
        if (rc != 0) return rc;
    }
    for (int i = 0; i < n; i++) {
        struct line l;
        format_frame(&l, &frames[i]);
        int rc = text_write_all(fd, l.text, l.length);
        if (rc != 0) return rc;
    }
    return 0;
}
