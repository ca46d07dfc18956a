/* Text with write(2) alone: no stdio, no malloc, no locks. For print.c and dump.c. */
#ifndef STACKTRACE_TEXT_H
#define STACKTRACE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Writes v in decimal, NUL-terminated, into out (at least 21 bytes); returns out. */
char *text_decimal(char *out, int64_t v);
/* Writes all n bytes to fd, retrying on EINTR; returns 0 or -errno. */
int text_write_all(int fd, const char *p, size_t n);
/* The same for a NUL-terminated string. */
int text_write(int fd, const char *s);

#endif
