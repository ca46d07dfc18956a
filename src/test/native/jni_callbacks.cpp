// Nested JNI callbacks for the mixed-mode tests (testlib/JniCallbacks.java):
// Java enter -> native nativeDown -> stt::jni::down_level -> Java javaUp -> native nativeDown -> ...
// and at level 0 the innermost native code blocks in read(2) on a pipe, or spins until the pipe
// becomes readable. Every C/C++ function here is a real frame (noinline; the Makefile disables tail
// calls), so a test knows the exact order of native frames between the Java segments.
#include <jni.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <cerrno>

namespace stt {
namespace jni {

// Blocks in read(2) until the test writes a byte or closes the pipe. Returns the byte, -1 at EOF, -errno.
__attribute__((noinline)) int block_in_read(int fd) {
    char c = 0;
    ssize_t n;
    do {
        n = read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    asm volatile("" ::: "memory");
    return n == 1 ? (unsigned char) c : (n == 0 ? -1 : -errno);
}

// Spins on the CPU until fd becomes readable (checked every ~million iterations with a zero-timeout
// poll) or max_millis have passed. Returns 0 when released, 1 on timeout.
__attribute__((noinline)) int spin_until_readable(int fd, int max_millis) {
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        for (int i = 0; i < 1000000; i++) asm volatile("" ::: "memory");
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 0) > 0) return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= max_millis) return 1;
    }
}

// One native level: at level 0 the leaf; otherwise calls back the static Java method
// JniCallbacks.javaUp(level - 1, fd, spin), which calls nativeDown again.
__attribute__((noinline)) void down_level(JNIEnv *env, int level, int fd, bool spin) {
    if (level <= 0) {
        int r = spin ? spin_until_readable(fd, 60000) : block_in_read(fd);
        asm volatile("" ::: "memory");
        (void) r;
        return;
    }
    jclass cls = env->FindClass("dev/stacktrace/testlib/JniCallbacks");
    if (cls == nullptr) return;  // exception pending: Java sees it
    jmethodID up = env->GetStaticMethodID(cls, "javaUp", "(IIZ)V");
    if (up == nullptr) return;
    jvalue args[3];
    args[0].i = level - 1;
    args[1].i = fd;
    args[2].z = spin ? JNI_TRUE : JNI_FALSE;
    // Through the function table directly: no JNIEnv_ wrapper frame (the variadic C++ wrapper
    // CallStaticVoidMethod(...) would be a frame of its own in this library).
    env->functions->CallStaticVoidMethodA(env, cls, up, args);
    asm volatile("" ::: "memory");
    env->DeleteLocalRef(cls);
}

}  // namespace jni
}  // namespace stt

extern "C" JNIEXPORT jint JNICALL
Java_dev_stacktrace_testlib_JniCallbacks_nativeTid(JNIEnv *, jclass) {
    return (jint) gettid();
}

extern "C" JNIEXPORT void JNICALL
Java_dev_stacktrace_testlib_JniCallbacks_nativeDown(JNIEnv *env, jclass, jint level, jint fd, jboolean spin) {
    stt::jni::down_level(env, level, fd, spin == JNI_TRUE);
    asm volatile("" ::: "memory");
}
