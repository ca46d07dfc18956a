#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian/Ubuntu machine; does nothing when all
# of it is there. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  gcc g++ make    # native-lib/ and the test-only native library
  maven
  elfutils        # eu-stack: the independent unwinder the tests compare against
  libc6-dbg       # libc's separate debug symbols: names for libc's internal functions
  prometheus      # the real Prometheus server and promtool, for the dashboard's tests
  golang-go       # go tool pprof: the real client the pprof tests read our profiles with
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
