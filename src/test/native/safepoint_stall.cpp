// Native side of testlib/SafepointStall.java: a heartbeat counter that a Java thread bumps through
// JNI, and a watchdog pthread (not attached to the JVM, so no safepoint can stop it) that reports
// on stdout with write(2) when the heartbeat stops ("STALLED ...") and when it comes back ("RESUMED ...").
#include <jni.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <atomic>

namespace stt {
namespace stall {

static std::atomic<long> beats{0};

struct WatchdogArgs {
    int quiet_millis;
    int max_millis;
};

static long now_millis() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void say(const char *line, int len) {
    while (len > 0) {
        ssize_t n = write(1, line, (size_t) len);
        if (n <= 0) return;
        line += n;
        len -= (int) n;
    }
}

// Samples the counter every 5 ms until max_millis have passed.
static void *watchdog(void *p) {
    WatchdogArgs args = *static_cast<WatchdogArgs *>(p);
    delete static_cast<WatchdogArgs *>(p);
    pthread_setname_np(pthread_self(), "stt-watchdog");
    long start = now_millis(), last_change = start, last = beats.load();
    bool stalled = false;
    char line[200];
    while (now_millis() - start < args.max_millis) {
        timespec ts{0, 5 * 1000000L};
        nanosleep(&ts, nullptr);
        long b = beats.load(), now = now_millis();
        if (b != last) {
            if (stalled) {
                int n = snprintf(line, sizeof line, "RESUMED pid=%d mono_ms=%ld stalled_ms=%ld\n", (int) getpid(),
                                 now, now - last_change);
                say(line, n);
                stalled = false;
            }
            last = b;
            last_change = now;
        } else if (!stalled && now - last_change >= args.quiet_millis) {
            int n = snprintf(line, sizeof line, "STALLED pid=%d mono_ms=%ld last_beat_mono_ms=%ld beats=%ld\n",
                             (int) getpid(), now, last_change, b);
            say(line, n);
            stalled = true;
        }
    }
    return nullptr;
}

}  // namespace stall
}  // namespace stt

extern "C" {

JNIEXPORT void JNICALL Java_dev_stacktrace_testlib_SafepointStall_beat(JNIEnv *, jclass) {
    stt::stall::beats.fetch_add(1);
}

JNIEXPORT jlong JNICALL Java_dev_stacktrace_testlib_SafepointStall_monoMillis(JNIEnv *, jclass) {
    return stt::stall::now_millis();
}

JNIEXPORT jint JNICALL Java_dev_stacktrace_testlib_SafepointStall_tid(JNIEnv *, jclass) {
    return (jint) gettid();
}

// Starts the detached watchdog pthread; 0 on success, else the pthread_create error.
JNIEXPORT jint JNICALL Java_dev_stacktrace_testlib_SafepointStall_startWatchdog(JNIEnv *, jclass, jint quiet_millis,
                                                                               jint max_millis) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    auto *args = new stt::stall::WatchdogArgs{quiet_millis, max_millis};
    int rc = pthread_create(&t, &attr, stt::stall::watchdog, args);
    pthread_attr_destroy(&attr);
    if (rc != 0) delete args;
    return rc;
}

}
