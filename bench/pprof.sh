#!/usr/bin/env bash
# The cost of writing a profile as pprof: encode time (p50, p90), heap allocated, pprof size and the
# native table's memory for 2,000 and for 50,000 distinct stacks. JAVA=... selects the JDK;
# SKIP_BUILD=1 reuses the last build.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xmx1g -cp "$BENCH_CP" dev.stacktrace.bench.PprofBenchmark
