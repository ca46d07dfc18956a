#!/usr/bin/env bash
# The soak: sampler at 1 ms (cpu and wall, restarted every few seconds with other table sizes) and
# 4 requesters of mixed stacks, against thread churn (Java and native), class unloading,
# deoptimization, GC pressure in a 64 MB heap and threads that block the signal; on JDK 17 and,
# when installed, Temurin 25. Prints samples, crashes, hangs, failed requests by reason, the
# pending-signal high-water mark and RSS. Usage: bench/soak.sh [seconds-per-JDK] [restart-seconds]
set -uo pipefail
source "$(dirname "$0")/common.sh"
SECONDS_PER_JDK="${1:-300}"
RESTART="${2:-3}"
JDKS=("$JAVA")
[[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]] && JDKS+=(/usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
crashes=0
hangs=0
for java in "${JDKS[@]}"; do
    extra=()
    "$java" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1 && extra+=(--enable-native-access=ALL-UNNAMED)
    dir=$(mktemp -d)
    echo "== $("$java" -version 2>&1 | head -1)"
    # the watchdog: twice the run and two minutes more, then the JVM counts as hung
    timeout -s KILL $((SECONDS_PER_JDK * 2 + 120)) "$java" "${extra[@]}" -Xmx64m -XX:ErrorFile="$dir/hs_err_pid%p.log" \
        -cp "$BENCH_CP" dev.stacktrace.bench.Soak "$SECONDS_PER_JDK" "$RESTART"
    rc=$?
    if [[ $rc -eq 137 ]]; then
        hangs=$((hangs + 1)); echo "soak: HANG (killed by the watchdog)"
    elif [[ $rc -ge 128 ]] || ls "$dir"/hs_err_pid*.log >/dev/null 2>&1; then
        crashes=$((crashes + 1)); echo "soak: CRASH (exit $rc)"; cat "$dir"/hs_err_pid*.log 2>/dev/null | head -40
    fi
    rm -rf "$dir"
done
echo "soak: crashes $crashes, hangs $hangs"
[[ $crashes -eq 0 && $hangs -eq 0 ]]
