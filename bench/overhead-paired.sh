#!/usr/bin/env bash
# Sampling overhead measured in ONE JVM: the overhead workload (JNI deflate + a pure-Java
# kernel, one busy thread per core) runs throughout; our Profiler and async-profiler 4.6 (through its
# Java API, never both at once) are switched on and off in paired blocks of ~1 s, in random order,
# at 100 Hz and 1 kHz. Prints each configuration's throughput loss with a 95% confidence interval over
# the pairs, the samples/s it delivered, the workers' time a sample cost, and the goals. floorN is the
# floor of a cpu-mode sample on this machine: a task-clock event per thread at N Hz whose handler only
# re-arms it; each profiler's loss above it is its own. See docs/PERFORMANCE.md.
#
#   bench/overhead-paired.sh [--pairs 20] [--block-ms 1000] [--settle-ms 100] [--warmup 10]
#                            [--configs ours100,async100,ours1000,async1000] [--threads N] [--seed N]
#   (configs: oursN, asyncN = event=itimer, asynccpuN = event=cpu, floorN; N in Hz)
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/overhead-paired.sh
#   SKIP_BUILD=1 bench/overhead-paired.sh      (reuse target/ as it is)
#
# Defaults: 4 configurations x 20 pairs x 2.2 s + warm-up: about 3 minutes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms256m -Xmx256m ${JAVA_OPTS:-} -cp "$BENCH_CP" \
    dev.stacktrace.bench.PairedOverheadBenchmark "$@"
