#!/usr/bin/env bash
# The main job: builds the jar and runs the demo, which prints the native stacks of threads busy in
# native code (zlib, file I/O, a blocked pipe read, sleep) next to a pure-Java one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -B -ntp -q -DskipTests package
# The jar is the agent too: it registers the MBean, profiles every thread, and serves /metrics,
# /flamegraph and /stacks on 127.0.0.1:9464 while the demo runs (Ctrl-C to stop).
# The demo's own classes are test code (target/test-classes), not part of the product jar.
exec java -javaagent:target/stacktrace.jar=port=9464,profile=cpu,interval=10ms \
  -cp target/stacktrace.jar:target/test-classes dev.stacktrace.demo.Demo "$@"
