/*
 * JVMTI, for two things: AsyncGetCallTrace only names methods that have a jmethodID, so every
 * class gets them when it is prepared (and the classes loaded before us, once); and turning a
 * jmethodID into class, method, source file and line table for Java, outside any signal handler.
 * The environment is taken with GetEnv from an already running JVM: no agent flag is needed.
 * It also keeps the JVM's own account of the code it generates that is no Java method (stubs:
 * intrinsics, adapters, runtime stubs), so that Java can name a pc in one, and listens for compiled
 * methods so that the JIT records where all of their code came from (on_compiled_method_load).
 */
#include "jvmti.h"          /* ours, beside this file */
#include "stacktrace.h"

#include <jvmti.h>          /* the JDK's */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jvmtiEnv *jvmti;

/* Stubs as DynamicCodeGenerated reports them: append-only, filled outside any signal handler. */
struct code_stub {
    int64_t address, length;
    char *name;
};
static pthread_mutex_t stubs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct code_stub *stubs;
static int nstubs, stubs_capacity;

static void JNICALL on_dynamic_code(jvmtiEnv *env, const char *name, const void *address, jint length) {
    (void) env;
    if (name == NULL || address == NULL || length <= 0) return;
    char *copy = strdup(name);
    if (copy == NULL) return;
    pthread_mutex_lock(&stubs_lock);
    if (nstubs == stubs_capacity) {
        int capacity = stubs_capacity == 0 ? 512 : 2 * stubs_capacity;
        struct code_stub *more = realloc(stubs, sizeof *stubs * (size_t) capacity);
        if (more == NULL) { pthread_mutex_unlock(&stubs_lock); free(copy); return; }
        stubs = more;
        stubs_capacity = capacity;
    }
    stubs[nstubs++] = (struct code_stub) {(int64_t) (uintptr_t) address, length, copy};
    pthread_mutex_unlock(&stubs_lock);
}

int st_code_stub_count(void) {
    pthread_mutex_lock(&stubs_lock);
    int n = nstubs;
    pthread_mutex_unlock(&stubs_lock);
    return n;
}

int st_code_stub(int index, int64_t *range, char *name, int namelen) {
    if (range == NULL || name == NULL || namelen <= 0) return -1;
    pthread_mutex_lock(&stubs_lock);
    int n = -1;
    if (index >= 0 && index < nstubs) {
        range[0] = stubs[index].address;
        range[1] = stubs[index].length;
        n = snprintf(name, (size_t) namelen, "%s", stubs[index].name);
        if (n >= namelen) n = namelen - 1;
    }
    pthread_mutex_unlock(&stubs_lock);
    return n;
}

static void JNICALL on_class_load(jvmtiEnv *env, JNIEnv *jni, jthread thread, jclass klass) {
    (void) env; (void) jni; (void) thread; (void) klass;  /* must be enabled, or AGCT refuses to walk */
}

/*
 * Enabled for its side effect: while any JVMTI environment listens for compiled methods, HotSpot's
 * JIT compilers record where every instruction's code came from (DebugNonSafepoints, unless set on
 * the command line), not only at safepoints and calls. AsyncGetCallTrace then names the methods
 * inlined at any pc, also at a call into a stub (an intrinsic's leaf call records none), instead of
 * those of the nearest safepoint. Methods compiled before we were loaded keep the coarser records.
 */
static void JNICALL on_compiled_method_load(jvmtiEnv *env, jmethodID method, jint code_size, const void *code_addr,
                                            jint map_length, const jvmtiAddrLocationMap *map, const void *compile_info) {
    (void) env; (void) method; (void) code_size; (void) code_addr; (void) map_length; (void) map; (void) compile_info;
}

static void create_method_ids(jvmtiEnv *env, jclass klass) {
    jint count;
    jmethodID *methods;
    if ((*env)->GetClassMethods(env, klass, &count, &methods) == JVMTI_ERROR_NONE) {
        (*env)->Deallocate(env, (unsigned char *) methods);
    }
}

static void JNICALL on_class_prepare(jvmtiEnv *env, JNIEnv *jni, jthread thread, jclass klass) {
    (void) jni; (void) thread;
    create_method_ids(env, klass);
}

int jvmti_setup(JavaVM *vm, JNIEnv *jni) {
    if (jvmti != NULL) return 0;
    jvmtiEnv *env;
    if ((*vm)->GetEnv(vm, (void **) &env, JVMTI_VERSION_1_2) != JNI_OK) return -1;
    jvmtiCapabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.can_get_line_numbers = 1;
    caps.can_get_source_file_name = 1;
    if ((*env)->AddCapabilities(env, &caps) != JVMTI_ERROR_NONE) return -2;
    memset(&caps, 0, sizeof caps);
    caps.can_generate_compiled_method_load_events = 1;
    int compiled_methods = (*env)->AddCapabilities(env, &caps) == JVMTI_ERROR_NONE;
    jvmtiEventCallbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.ClassLoad = on_class_load;
    callbacks.ClassPrepare = on_class_prepare;
    callbacks.DynamicCodeGenerated = on_dynamic_code;
    callbacks.CompiledMethodLoad = on_compiled_method_load;
    if ((*env)->SetEventCallbacks(env, &callbacks, sizeof callbacks) != JVMTI_ERROR_NONE
        || (*env)->SetEventNotificationMode(env, JVMTI_ENABLE, JVMTI_EVENT_CLASS_LOAD, NULL) != JVMTI_ERROR_NONE
        || (*env)->SetEventNotificationMode(env, JVMTI_ENABLE, JVMTI_EVENT_CLASS_PREPARE, NULL) != JVMTI_ERROR_NONE) {
        return -3;
    }
    if (compiled_methods) {
        (*env)->SetEventNotificationMode(env, JVMTI_ENABLE, JVMTI_EVENT_COMPILED_METHOD_LOAD, NULL);
    }
    /* stubs from now on, and those generated before we were loaded (replayed once); names only */
    if ((*env)->SetEventNotificationMode(env, JVMTI_ENABLE, JVMTI_EVENT_DYNAMIC_CODE_GENERATED, NULL) == JVMTI_ERROR_NONE) {
        (*env)->GenerateEvents(env, JVMTI_EVENT_DYNAMIC_CODE_GENERATED);
    }
    jint count;
    jclass *classes;
    if ((*env)->GetLoadedClasses(env, &count, &classes) == JVMTI_ERROR_NONE) {
        for (jint i = 0; i < count; i++) {
            create_method_ids(env, classes[i]);  /* fails harmlessly for classes not yet prepared */
            (*jni)->DeleteLocalRef(jni, classes[i]);
        }
        (*env)->Deallocate(env, (unsigned char *) classes);
    }
    jvmti = env;
    return 0;
}

static void release(char *p) {
    if (p != NULL) (*jvmti)->Deallocate(jvmti, (unsigned char *) p);
}

int st_method_info(int64_t method_id, char *out, int outlen) {
    if (jvmti == NULL || method_id == 0 || out == NULL || outlen <= 0) return -1;
    jmethodID method = (jmethodID) (intptr_t) method_id;
    jclass klass;
    if ((*jvmti)->GetMethodDeclaringClass(jvmti, method, &klass) != JVMTI_ERROR_NONE) return -1;
    char *class_sig = NULL, *name = NULL, *signature = NULL, *source = NULL;
    jint modifiers = 0;
    int n = -1;
    if ((*jvmti)->GetClassSignature(jvmti, klass, &class_sig, NULL) == JVMTI_ERROR_NONE
        && (*jvmti)->GetMethodName(jvmti, method, &name, &signature, NULL) == JVMTI_ERROR_NONE) {
        if ((*jvmti)->GetSourceFileName(jvmti, klass, &source) != JVMTI_ERROR_NONE) source = NULL;
        (*jvmti)->GetMethodModifiers(jvmti, method, &modifiers);
        /* class signature \t method name \t source file \t modifiers \t method signature */
        n = snprintf(out, (size_t) outlen, "%s\t%s\t%s\t%d\t%s", class_sig, name, source ? source : "", (int) modifiers,
                     signature);
        if (n >= outlen) n = outlen - 1;
    }
    release(class_sig);
    release(name);
    release(signature);
    release(source);
    /* klass is a local reference of the calling Java thread: freed when this native call returns. */
    return n;
}

int st_line_table(int64_t method_id, int32_t *out, int max_pairs) {
    if (jvmti == NULL || method_id == 0 || out == NULL || max_pairs < 0) return -1;
    jint count;
    jvmtiLineNumberEntry *table;
    if ((*jvmti)->GetLineNumberTable(jvmti, (jmethodID) (intptr_t) method_id, &count, &table) != JVMTI_ERROR_NONE) {
        return 0;  /* native, abstract, or compiled without line numbers */
    }
    int n = count < max_pairs ? count : max_pairs;
    for (int i = 0; i < n; i++) {
        out[2 * i] = (int32_t) table[i].start_location;
        out[2 * i + 1] = table[i].line_number;
    }
    (*jvmti)->Deallocate(jvmti, (unsigned char *) table);
    return count;
}

jclass st_method_class(JNIEnv *env, int64_t method_id) {
    (void) env;
    jclass klass;
    if (jvmti == NULL || method_id == 0) return NULL;
    if ((*jvmti)->GetMethodDeclaringClass(jvmti, (jmethodID) (intptr_t) method_id, &klass) != JVMTI_ERROR_NONE) return NULL;
    return klass;  /* a local reference, returned to Java */
}
