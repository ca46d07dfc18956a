#!/usr/bin/env bash
# Sampling overhead measured in ONE JVM: the overhead workload (JNI deflate + a pure-Java
# kernel, one busy thread per core) runs throughout; our Profiler and async-profiler 4.6 (through its
# Java API, never both at once) are switched on and off in paired blocks of ~1 s, in random order,
# at 100 Hz and 1 kHz. Prints each configuration's throughput loss with a 95% confidence interval over
# the pairs, the samples/s it delivered, and the goals. See docs/PERFORMANCE.md.
#
#   bench/overhead-paired.sh [--pairs 20] [--block-ms 1000] [--settle-ms 100] [--warmup 10]
#                            [--configs ours100,async100,ours1000,async1000] [--threads N] [--seed N]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/overhead-paired.sh
#   SKIP_BUILD=1 bench/overhead-paired.sh      (reuse target/ as it is)
#
# Defaults: 4 configurations x 20 pairs x 2.2 s + warm-up: about 3 minutes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms256m -Xmx256m ${JAVA_OPTS:-} -cp "$BENCH_CP" \
    dev.stacktrace.bench.PairedOverheadBenchmark "$@"
