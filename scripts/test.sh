#!/usr/bin/env bash
# The whole test suite: builds native-lib/ and the jar, then runs every test on JDK 17 and again on
# the Temurin 25 JDK when /usr/lib/jvm/temurin-25-jdk-amd64 exists (the jdk25 Maven profile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec mvn -B -ntp clean verify "$@"
