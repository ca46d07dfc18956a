/*
 * The one JNI read we need: java.lang.Thread.eetop, the VM's pointer to the thread's JavaThread.
 * JNI ignores Java access checks, so no reflection or Unsafe is needed (Unsafe warns on JDK 24+).
 */
#include "stacktrace.h"

#include <stdatomic.h>

static _Atomic(jfieldID) eetop_field;

jlong st_thread_eetop(JNIEnv *env, jobject thread) {
    if (env == NULL || thread == NULL) return 0;
    jfieldID field = atomic_load(&eetop_field);
    if (field == NULL) {
        jclass thread_class = (*env)->FindClass(env, "java/lang/Thread");
        if (thread_class == NULL) { (*env)->ExceptionClear(env); return 0; }
        field = (*env)->GetFieldID(env, thread_class, "eetop", "J");
        (*env)->DeleteLocalRef(env, thread_class);
        if (field == NULL) { (*env)->ExceptionClear(env); return 0; }
        atomic_store(&eetop_field, field);
    }
    return (*env)->GetLongField(env, thread, field);
}
