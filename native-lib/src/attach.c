/*
 * The library as a JVM TI agent for the attach CLI: once the Java agent has loaded this library,
 * `VirtualMachine.loadAgentPath(<this library>, options)` hands the options to the Java side's
 * dev.stacktrace.agent.AttachCommand.run(String). The JDK warns about a dynamically loaded JVM TI
 * library once per library and process, but about a Java agent on every load; so later CLI commands
 * come in this way and print no warning. Called on the JVM's Attach Listener thread, never from a
 * signal handler. What to do with the options is decided in Java.
 */
#include <jni.h>

#define ATTACH_CLASS "dev/stacktrace/agent/AttachCommand"

enum { ATTACH_OK, ATTACH_NO_JNI, ATTACH_NO_CLASS, ATTACH_NO_METHOD, ATTACH_NO_MEMORY, ATTACH_THREW };

static jint clear_and_return(JNIEnv *env, jint code) {
    if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
    return code;
}

JNIEXPORT jint JNICALL Agent_OnAttach(JavaVM *vm, char *options, void *reserved) {
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return ATTACH_NO_JNI;
    /* no Java frame on this thread: FindClass looks in the system class loader, where the Java agent is */
    jclass command = (*env)->FindClass(env, ATTACH_CLASS);
    if (command == NULL) return clear_and_return(env, ATTACH_NO_CLASS);
    jmethodID run = (*env)->GetStaticMethodID(env, command, "run", "(Ljava/lang/String;)V");
    if (run == NULL) return clear_and_return(env, ATTACH_NO_METHOD);
    jstring text = (*env)->NewStringUTF(env, options != NULL ? options : "");
    if (text == NULL) return clear_and_return(env, ATTACH_NO_MEMORY);
    (*env)->CallStaticVoidMethod(env, command, run, text);
    jint result = (*env)->ExceptionCheck(env) ? clear_and_return(env, ATTACH_THREW) : ATTACH_OK;
    (*env)->DeleteLocalRef(env, text);
    (*env)->DeleteLocalRef(env, command);
    return result;
}
