// Pure native threads (never attached to the JVM) that live a few milliseconds: thread churn the
// JVM does not know about, for the soak test.
#include <atomic>
#include <ctime>
#include <pthread.h>

namespace {

std::atomic<long> finished{0};

__attribute__((noinline)) long churn_work(int depth) {
    if (depth == 0) {
        struct timespec ts = {0, 2000000};  // 2 ms: long enough to be sampled now and then
        nanosleep(&ts, nullptr);
        return 1;
    }
    return churn_work(depth - 1) + depth;
}

void *churn_thread(void *arg) {
    long sink = churn_work((int) (long) arg);
    finished.fetch_add(sink > 0 ? 1 : 0);
    return nullptr;
}

}  // namespace

extern "C" {

// Starts n detached native threads; returns how many started.
int stt_spawn_native_threads(int n) {
    int started = 0;
    for (int i = 0; i < n; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        if (pthread_create(&t, &attr, churn_thread, (void *) (long) (5 + i % 20)) == 0) started++;
        pthread_attr_destroy(&attr);
    }
    return started;
}

// Native threads that have finished so far.
long stt_native_threads_finished(void) { return finished.load(); }

}
