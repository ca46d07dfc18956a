/*
 * C++ names through the C++ runtime's own demangler. libjvm on some JDKs links libstdc++
 * statically, so __cxa_demangle may not be in the process: then we load libstdc++ once.
 */
#define _GNU_SOURCE
#include "stacktrace.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

static _Atomic(cxa_demangle_fn) demangler;
static _Atomic int looked_up;

static cxa_demangle_fn find_demangler(void) {
    cxa_demangle_fn fn = atomic_load(&demangler);
    if (fn != NULL || atomic_load(&looked_up)) return fn;
    fn = (cxa_demangle_fn) dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (fn == NULL) {
        void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
        if (lib != NULL) fn = (cxa_demangle_fn) dlsym(lib, "__cxa_demangle");
    }
    atomic_store(&demangler, fn);
    atomic_store(&looked_up, 1);
    return fn;
}

int st_demangle(const char *mangled, char *out, int outlen) {
    if (mangled == NULL || out == NULL || outlen <= 0) return -1;
    cxa_demangle_fn fn = find_demangler();
    if (fn == NULL) return -1;
    int status = 0;
    char *plain = fn(mangled, NULL, NULL, &status);
    if (plain == NULL || status != 0) { free(plain); return -1; }
    size_t len = strlen(plain);
    if (len > (size_t) outlen - 1) len = (size_t) outlen - 1;
    memcpy(out, plain, len);
    out[len] = '\0';
    free(plain);
    return (int) len;
}
