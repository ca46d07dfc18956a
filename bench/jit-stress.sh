#!/usr/bin/env bash
# Samples a JIT-heavy thread a million times with the mixed-mode walker (default; the first
# argument changes the count) and prints what happened. JAVA=... selects the JDK.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -cp "$BENCH_CP" dev.stacktrace.bench.JitStress "${1:-1000000}" "${2:-100}"
