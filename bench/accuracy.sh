#!/usr/bin/env bash
# Accuracy of profiles: four workloads, each one thread alternating a native part (a JNI library)
# and a Java part in short slices, with each part's thread CPU time and wall time measured around
# it (the truth). Our Profiler and async-profiler 4.6 (from its Maven jar, in the same JVM) take
# turns on the same thread in blocks, never both at once, CPU and wall mode. Prints each block and
# a table: truth, ours and async-profiler's share of each part. See docs/PERFORMANCE.md, "Accuracy".
#
#   bench/accuracy.sh [--workloads a,b,c,d] [--rounds 2] [--block-seconds 3] [--warmup-seconds 2]
#                     [--interval-ms 2] [--async-cpu-event cpu|itimer|ctimer] [--async-cstack vmx|vm|dwarf|fp]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/accuracy.sh
#   SKIP_BUILD=1 bench/accuracy.sh      (reuse target/ as it is)
#
# (a) sqlite-jdbc recursive query vs Java calling intrinsics (Math.sin/log, System.arraycopy, CRC32C,
#     String.indexOf, AES/GCM); (b) zlib (Deflater) vs a pure-Java integer kernel; (c) Java streams and
#     lambdas vs zstd-jni; (d) snappy-java (only its JNI entries exported) vs the integer kernel.
# Defaults: 4 workloads x 2 rounds x 4 blocks of 3 s + warm-up: about 2 minutes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms256m -Xmx256m ${JAVA_OPTS:-} -cp "$BENCH_CP" \
    dev.stacktrace.bench.AccuracyBenchmark "$@"
