#!/usr/bin/env bash
# The rate cpu mode delivers (per busy thread, per CPU-second) with perf_events task-clocks and with
# POSIX CPU timers, against the rate asked; see docs/PERFORMANCE.md.
#
#   bench/cpu-rate.sh [--cpu-seconds S] [--intervals-us 1000,2000,4000,10000] [--threads N (default: cores)]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/cpu-rate.sh
#   SKIP_BUILD=1 bench/cpu-rate.sh      (reuse target/ as it is)
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" ${JAVA_OPTS:-} -cp "$BENCH_CP" dev.stacktrace.bench.CpuRateBenchmark "$@"
