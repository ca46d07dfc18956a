#!/usr/bin/env bash
# Memory over a long profile: 1,000 threads through ~15,000 distinct stacks, profiled in cpu mode at
# 100 Hz and read as a push and a scrape would; RSS and live heap at every report, and their growth
# over the second half. JAVA=... selects the JDK; SKIP_BUILD=1 reuses the last build.
#
#   bench/long-run.sh [--seconds 3600] [--threads 1000] [--report 60] [--push 15] [--width 6] [--depth 5]
#                     [--load 1.0] [--table 65536]
set -euo pipefail
source "$(dirname "$0")/common.sh"
# a fixed, touched heap: the resident set then moves only with native memory, code and metadata
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "$BENCH_CP" \
    dev.stacktrace.bench.LongRunBenchmark "$@"
