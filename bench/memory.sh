#!/usr/bin/env bash
# Memory cost of the native core: RSS and live heap before loading, after the first stack with
# names, then every 50,000 stacks (growth must level off). JAVA=... selects the JDK; SKIP_BUILD=1 reuses target/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SKIP_BUILD:-}" || ! -f target/bench-classpath.txt ]]; then
    mvn -q -B -DskipTests test-compile
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi
JAVA="${JAVA:-java}"
extra=()
"$JAVA" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1 && extra+=(--enable-native-access=ALL-UNNAMED)
exec "$JAVA" "${extra[@]}" -Xmx256m -XX:+UseSerialGC \
    -cp "target/classes:target/test-classes:$(cat target/bench-classpath.txt)" dev.stacktrace.bench.MemoryFootprint "$@"
