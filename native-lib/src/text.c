#include "text.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

char *text_decimal(char *out, int64_t v) {
    char buf[24];
    int i = sizeof buf;
    uint64_t u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    buf[--i] = '\0';
    do { buf[--i] = (char) ('0' + u % 10); u /= 10; } while (u != 0);
    if (v < 0) buf[--i] = '-';
    memcpy(out, buf + i, sizeof buf - (size_t) i);
    return out;
}

int text_write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

int text_write(int fd, const char *s) {
    return text_write_all(fd, s, strlen(s));
}
