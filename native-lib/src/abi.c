/*
 * The library's description of its own ABI: every number the Java side must agree on (error codes,
 * frame kinds, markers, counters, record sizes, the VM layout's keys), by name. Java checks its
 * constants against this table when it loads the library, and orders the VM layout by it, so a jar
 * and a library of different builds fail with a clear message instead of reading garbage.
 */
#include "stacktrace.h"
#include "mixed.h"
#include "table.h"
#include "vm.h"

#include <string.h>

struct abi_constant {
    const char *name;
    int64_t value;
};

#define ABI(name) {#name, (int64_t) (name)}

static const struct abi_constant constants[] = {
    ABI(ST_ABI_VERSION),
    ABI(ST_MAX_FRAMES),
    ABI(ST_PROFILE_MAX_FRAMES),
    ABI(ST_ENOTINIT), ABI(ST_EBUSY), ABI(ST_ESIGNAL), ABI(ST_EOTHERSIG), ABI(ST_ENOVM), ABI(ST_EJVMTI), ABI(ST_ELATE),
    ABI(ST_FRAME_NATIVE), ABI(ST_FRAME_INTERPRETED), ABI(ST_FRAME_COMPILED), ABI(ST_FRAME_INLINED),
    ABI(ST_FRAME_NATIVE_METHOD), ABI(ST_FRAME_STUB), ABI(ST_FRAME_MARKER),
    ABI(ST_MARK_TRUNCATED), ABI(ST_MARK_UNKNOWN_JAVA),
    ABI(ST_LOOK_CLEAR), ABI(ST_LOOK_BLOCKS), ABI(ST_LOOK_UNSURE),
    {"ST_MIXED_WORDS", MIXED_WORDS},
    ABI(ST_MIXED_INFO_WORDS),
    ABI(ST_TEXT_SIZE),
    {"ST_FRAME_INFO_SIZE", (int64_t) sizeof(st_frame_info)},
    ABI(ST_PROFILE_CPU), ABI(ST_PROFILE_WALL),
    ABI(ST_PROFILE_MAX_INTERVAL_NS),
    {"ST_PROFILE_WORDS_PER_FRAME", WORDS_PER_FRAME},
    ABI(ST_PROFILE_SAMPLES), ABI(ST_PROFILE_INCOMPLETE), ABI(ST_PROFILE_TABLE_FULL), ABI(ST_PROFILE_BUSY),
    ABI(ST_PROFILE_THREAD_GONE), ABI(ST_PROFILE_NANOS), ABI(ST_PROFILE_MAX_NANOS), ABI(ST_PROFILE_SIGNAL_BLOCKED), ABI(ST_PROFILE_WALKS), ABI(ST_PROFILE_UNSAMPLED_THREADS), ABI(ST_PROFILE_COUNTERS),
#define VM_KEY_CONSTANT(key, field, type) ABI(VM_##key),
    HOTSPOT_LAYOUT(VM_KEY_CONSTANT)
#undef VM_KEY_CONSTANT
    ABI(VM_KEYS),
};

int st_abi_version(void) { return ST_ABI_VERSION; }

int st_abi_constant(int index, char *name, int namelen, int64_t *value) {
    if (index < 0 || index >= (int) (sizeof constants / sizeof constants[0])) return -1;
    if (name == NULL || namelen <= 0 || value == NULL) return -1;
    size_t length = strlen(constants[index].name);
    if (length >= (size_t) namelen) return -1;
    memcpy(name, constants[index].name, length + 1);
    *value = constants[index].value;
    return (int) length;
}
