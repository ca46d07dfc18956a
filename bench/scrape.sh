#!/usr/bin/env bash
# The cost of one Prometheus scrape of the agent's /metrics with 50 symbol series. Needs the
# packaged jar (target/stacktrace.jar): builds it unless SKIP_BUILD=1. JAVA=... selects the JDK.
set -euo pipefail
BENCH_GOAL=package
source "$(dirname "$0")/common.sh"
exec "$JAVA" -cp "$BENCH_CP" dev.stacktrace.bench.ScrapeBenchmark
