#!/usr/bin/env bash
# The CPU cost of pushing profiles to Pyroscope and OTLP (a loopback receiver in the same JVM) while
# profiling every thread at 100 Hz. JAVA=... selects the JDK; SKIP_BUILD=1 reuses target/.
#
#   bench/push.sh [--interval 15s] [--duration 120s]
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -cp "$BENCH_CP" dev.stacktrace.bench.PushBenchmark "$@"
