#!/usr/bin/env bash
# Memory cost of the native core: RSS and live heap before loading, after the first stack with
# names, then every 50,000 stacks (growth must level off). JAVA=... selects the JDK; SKIP_BUILD=1 reuses target/.
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xmx256m -XX:+UseSerialGC -cp "$BENCH_CP" dev.stacktrace.bench.MemoryFootprint "$@"
