/*
 * Stacks as fixed-size records with names (an async-signal-safe contract). Java names
 * are read from the VM's own structures through safe_load (Method -> ConstMethod -> ConstantPool ->
 * Symbol), so this needs no JVMTI and no Java thread: it works while the JVM is stuck.
 */
#define _GNU_SOURCE
#include "stacktrace.h"
#include "vm.h"
#include "slots.h"
#include "mixed.h"

#include <dlfcn.h>
#include <string.h>


static void copy_text(char *out, const char *in, int32_t *truncated) {
    size_t n = strlen(in);
    *truncated = n > ST_TEXT_SIZE - 1;
    if (n > ST_TEXT_SIZE - 1) n = ST_TEXT_SIZE - 1;
    memcpy(out, in, n);
    out[n] = '\0';
}

static void name_java(st_frame_info *f, uintptr_t method) {
    char klass[ST_TEXT_SIZE], name[ST_TEXT_SIZE];
    int klass_cut, name_cut, file_cut;
    if (vm_method_names(method, klass, sizeof klass, &klass_cut, name, sizeof name, &name_cut, f->file, ST_TEXT_SIZE,
                        &file_cut) != 0) {
        copy_text(f->name, "?", &f->name_truncated);
        return;
    }
    /* class.method, cut to the record's size */
    size_t k = strlen(klass), m = strlen(name);
    size_t room = ST_TEXT_SIZE - 1;
    size_t take_k = k < room ? k : room;
    memcpy(f->name, klass, take_k);
    size_t used = take_k;
    if (used < room) f->name[used++] = '.';
    size_t take_m = m < room - used ? m : room - used;
    memcpy(f->name + used, name, take_m);
    used += take_m;
    f->name[used] = '\0';
    f->name_truncated = klass_cut || name_cut || take_k < k || take_m < m || (used == room && take_m < m);
    f->file_truncated = file_cut;
}

static void name_native(st_frame_info *f, int return_address) {
    Dl_info info;
    f->name[0] = f->file[0] = '\0';
    /* a return address may be one past a call at the very end of a function */
    void *lookup = (void *) (uintptr_t) (f->address - (return_address ? 1 : 0));
    if (dladdr(lookup, &info) == 0) return;
    if (info.dli_fname != NULL) {
        const char *slash = strrchr(info.dli_fname, '/');
        copy_text(f->file, slash != NULL ? slash + 1 : info.dli_fname, &f->file_truncated);
    }
    if (info.dli_sname != NULL) {
        copy_text(f->name, info.dli_sname, &f->name_truncated);
        f->offset = f->address - (int64_t) (uintptr_t) info.dli_saddr;
    }
}

int st_collect_frames(int tid, st_frame_info *frames, int max, int timeout_ms, int native_names) {
    if (frames == NULL || max < 0) return -22;
    if (max > RECORDS_MAX_FRAMES) max = RECORDS_MAX_FRAMES;
    int64_t raw[RECORDS_MAX_FRAMES * MIXED_WORDS];
    int n = capture_mixed(tid, raw, max, timeout_ms, NULL, 1);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
        const int64_t *w = raw + MIXED_WORDS * i;
        st_frame_info *f = &frames[i];
        memset(f, 0, sizeof *f);
        f->kind = (int32_t) w[0];
        f->address = w[3];
        f->line = -1;
        f->offset = w[2];
        switch (f->kind) {
            case ST_FRAME_INTERPRETED: case ST_FRAME_COMPILED: case ST_FRAME_INLINED: case ST_FRAME_NATIVE_METHOD:
                name_java(f, (uintptr_t) w[1]);
                break;
            case ST_FRAME_MARKER:
                f->offset = 0;
                copy_text(f->name, w[1] == ST_MARK_UNKNOWN_JAVA ? "[unknown Java]" : "[truncated]", &f->name_truncated);
                break;
            default:
                f->offset = 0;
                if (native_names) name_native(f, i > 0);
                break;
        }
    }
    return n;
}
