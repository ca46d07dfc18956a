/* Status files of /proc, read in one read(2): their fields fit in a page. */
#define _GNU_SOURCE
#include "proc_status.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int proc_status_read(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    return 0;
}

const char *proc_status_field(const char *status, const char *key) {
    size_t len = strlen(key);
    for (const char *line = status; line != NULL && *line != '\0'; ) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            const char *value = line + len + 1;
            while (*value == ' ' || *value == '\t') value++;
            return value;
        }
        line = strchr(line, '\n');
        if (line != NULL) line++;
    }
    return NULL;
}
