#!/usr/bin/env bash
# Speed of the native core (issue 2): floor (signal round trip), raw capture, capture with names,
# and the JVM's own Thread.getStackTrace / ThreadMXBean.getThreadInfo, on one blocked and one
# spinning target thread. Prints a table and the goal ratios; see docs/PERFORMANCE.md.
#
#   bench/native-stack.sh [--warmup N] [--calls N] [--depth N] [--max-seconds S]
#                         [--target blocked|spinning|both|java-spin|all] [--print-stack]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/native-stack.sh
#   SKIP_BUILD=1 bench/native-stack.sh      (reuse target/ as it is)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${SKIP_BUILD:-}" || ! -f target/bench-classpath.txt ]]; then
    mvn -q -B -DskipTests test-compile
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi

JAVA="${JAVA:-java}"
# JDK 22+ warns about (and later JDKs may refuse) JNA's native access unless it is enabled.
feature=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
extra=()
if [[ "${feature%%.*}" =~ ^[0-9]+$ ]] && (( ${feature%%.*} >= 22 )); then
    extra+=(--enable-native-access=ALL-UNNAMED)
fi

exec "$JAVA" "${extra[@]}" ${JAVA_OPTS:-} \
    -cp "target/classes:target/test-classes:$(cat target/bench-classpath.txt)" \
    dev.stacktrace.bench.NativeStackBenchmark "$@"
