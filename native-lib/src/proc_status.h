/* Reading /proc status files (/proc/self/status, /proc/self/task/<tid>/status). Never in a handler. */
#ifndef STACKTRACE_PROC_STATUS_H
#define STACKTRACE_PROC_STATUS_H

#include <stddef.h>

/* Reads the file at path into buf (at most size - 1 bytes), NUL-terminated; returns 0, or -1 when
   it cannot be read. */
int proc_status_read(const char *path, char *buf, size_t size);

/* The value of field key ("SigQ", "State") in a status read by proc_status_read, leading blanks
   skipped; NULL when the field is absent. */
const char *proc_status_field(const char *status, const char *key);

#endif
