#!/usr/bin/env bash
# Start-up cost of the agent: a hello-world JVM alone, with -javaagent:target/stacktrace.jar
# (profile=cpu; port=0), with async-profiler 4.6 as -agentpath (start,event=itimer,cstack=vmx) and
# with JNA alone (no agent; one libc call through JNA: the floor of a binding through JNA),
# interleaved in rounds: wall time and peak RSS, medians and excess over the plain JVM. Then, in fresh
# JVMs, the first named stack after the library loads and the stacks a Timer at 5 ms delivers in its
# first second. See docs/PERFORMANCE.md.
#
#   bench/startup.sh [--runs 5] [--app-sleep-ms 0] [--async-lib PATH] [--skip-probe]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/startup.sh
#   SKIP_BUILD=1 bench/startup.sh      (reuse target/ as it is; target/stacktrace.jar must exist)
set -euo pipefail
BENCH_GOAL=package
source "$(dirname "$0")/common.sh"
exec "$JAVA" "${JAVA_EXTRA[@]}" ${JAVA_OPTS:-} -cp "$BENCH_CP" dev.stacktrace.bench.StartupBenchmark "$@"
