#!/usr/bin/env bash
# Speed of the native core: floor (signal round trip), raw capture, capture with names,
# and the JVM's own Thread.getStackTrace / ThreadMXBean.getThreadInfo, on one blocked and one
# spinning target thread. Prints a table and the goal ratios; see docs/PERFORMANCE.md.
#
#   bench/native-stack.sh [--warmup N] [--calls N] [--depth N] [--max-seconds S]
#                         [--target blocked|spinning|both|java-spin|all] [--print-stack]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/native-stack.sh
#   SKIP_BUILD=1 bench/native-stack.sh      (reuse target/ as it is)
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" ${JAVA_OPTS:-} -cp "$BENCH_CP" dev.stacktrace.bench.NativeStackBenchmark "$@"
