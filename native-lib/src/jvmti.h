/* JVMTI (jvmti.c): the environment behind jmethodIDs and the JVM's record of its stubs. Included
   as "jvmti.h"; the JDK's own header is <jvmti.h>. */
#ifndef STACKTRACE_JVMTI_H
#define STACKTRACE_JVMTI_H

#include <jni.h>

/* Takes a JVMTI environment from the running JVM and gives every class jmethodIDs. Outside any
   signal handler. Returns 0, or < 0 when the JVM refused. */
int jvmti_setup(JavaVM *vm, JNIEnv *jni);

#endif
