#!/usr/bin/env bash
# How six real JNI libraries (Maven Central, test scope) look in a profile: rocksdbjni 10.10.1.1,
# zstd-jni 1.5.7-28, netty-transport-native-epoll 4.2.18.Final (linux-x86_64), sqlite-jdbc 3.54.1.0,
# snappy-java 1.1.10.12, lz4-java (at.yawk.lz4) 1.14.0. A small workload in each, in a thread of its
# own, profiled by our Profiler and then by async-profiler 4.6 (same JVM, never both at once).
# Prints per library and profiler: frames per stack, share of native frames named, share of the
# library's own frames named (ours), share of samples with a marker frame, the top 5 innermost
# frames; then a table. See docs/PERFORMANCE.md, "Accuracy".
#
#   bench/jni-libraries.sh [--libraries rocksdb,zstd,netty,sqlite,snappy,lz4] [--seconds 3]
#                          [--warmup-seconds 2] [--interval-ms 2] [--mode wall|cpu] [--async-cstack vmx]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/jni-libraries.sh
#   SKIP_BUILD=1 bench/jni-libraries.sh      (reuse target/ as it is)
# Defaults: 6 libraries x (2 s warm-up + 2 x 3 s): about 1 minute.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms256m -Xmx256m ${JAVA_OPTS:-} -cp "$BENCH_CP" \
    dev.stacktrace.bench.JniLibrariesBenchmark "$@"
