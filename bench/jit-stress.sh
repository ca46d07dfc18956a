#!/usr/bin/env bash
# Samples a JIT-heavy thread a million times with the mixed-mode walker (default; the first
# argument changes the count) and prints what happened. JAVA=... selects the JDK.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SKIP_BUILD:-}" || ! -f target/bench-classpath.txt ]]; then
    mvn -q -B -DskipTests test-compile
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi
JAVA="${JAVA:-java}"
extra=()
"$JAVA" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1 && extra+=(--enable-native-access=ALL-UNNAMED)
exec "$JAVA" "${extra[@]}" -cp "target/classes:target/test-classes:$(cat target/bench-classpath.txt)" \
    dev.stacktrace.bench.JitStress "${1:-1000000}" "${2:-100}"
