#!/usr/bin/env bash
# The main job: builds the jar and runs the demo, which prints the native stacks of threads busy in
# native code (zlib, file I/O, a blocked pipe read, sleep) next to a pure-Java one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -B -ntp -q -DskipTests package
exec java -jar target/stacktrace.jar demo "$@"
