#!/usr/bin/env bash
# The cost of one Prometheus scrape of the agent's /metrics with 50 symbol series. Needs the
# packaged jar (target/stacktrace.jar): builds it unless SKIP_BUILD=1. JAVA=... selects the JDK.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SKIP_BUILD:-}" || ! -f target/bench-classpath.txt ]]; then
    mvn -q -B -DskipTests package
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi
JAVA="${JAVA:-java}"
exec "$JAVA" -cp "target/classes:target/test-classes:$(cat target/bench-classpath.txt)" dev.stacktrace.bench.ScrapeBenchmark
