# Sourced by the bench/*.sh scripts: builds the test classes (unless SKIP_BUILD=1 and they exist),
# writes the test classpath to target/bench-classpath.txt, and sets JAVA, BENCH_CP and JAVA_EXTRA
# (--enable-native-access on JDKs that want it).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z "${SKIP_BUILD:-}" || ! -f target/bench-classpath.txt ]]; then
    mvn -q -B -DskipTests "${BENCH_GOAL:-test-compile}"
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
fi
JAVA="${JAVA:-java}"
BENCH_CP="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
JAVA_EXTRA=()
if "$JAVA" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1; then
    JAVA_EXTRA+=(--enable-native-access=ALL-UNNAMED)
fi
