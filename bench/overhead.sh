#!/usr/bin/env bash
# Sampling overhead: one CPU-bound workload (Deflater/zlib through JNI + a pure-Java kernel,
# one worker thread per core) run in a fresh JVM per configuration: no profiler, our Profiler at 100 Hz
# and 1000 Hz (CPU mode, all threads), async-profiler at 100 Hz (itimer, cstack=vmx: Java and native
# frames interleaved) and JFR's default settings. Rounds interleave the configurations; prints
# throughput per configuration, the loss against no profiler, and the goals. See docs/PERFORMANCE.md.
#
#   bench/overhead.sh [--rounds N] [--warmup S] [--measure S] [--configs none,ours100,ours1000,async100,jfr]
#                     [--async-cstack vmx|vm|dwarf|fp] [--logs DIR] [--quiet CPUS] [--max-wait S]
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/overhead.sh
#   SKIP_BUILD=1 bench/overhead.sh      (reuse target/ as it is)
#
# Defaults: 5 rounds x 5 configurations x (5 s warm-up + 15 s window + JVM start/stop): about 10 minutes.
# The machine may be shared: before each run the driver waits (up to --max-wait, 90 s) until other
# processes use less than --quiet (0.25) CPUs, and every run reports what others took during its window.
# Each child's output (its profiler's sample counts, top symbols, errors) is in target/overhead/.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# These flags go to the driver and, unchanged, to every child JVM: a fixed heap, so that no run
# resizes it differently. JAVA_OPTS adds more (to all children alike).
exec "$JAVA" "${JAVA_EXTRA[@]}" -Xms256m -Xmx256m ${JAVA_OPTS:-} -cp "$BENCH_CP" \
    dev.stacktrace.bench.OverheadBenchmark "$@"
