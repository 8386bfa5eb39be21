#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang-tidy (.clang-tidy's checks, warnings as errors) over the libraries (src/), in
# parallel. Uses the compile commands of a clang build directory (default build/tsan): clang
# needs the clang-only Asio definitions that a g++ build's commands lack.
# Usage: tidy.sh [BUILD_DIR]. Exit 1 if any file has a diagnostic.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/tsan}
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json (cmake --preset tsan)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# -Wno-unknown-warning-option: the build's flags may hold g++-only warnings.
if run-clang-tidy-14 -p "$build" -j "$(nproc)" -quiet -extra-arg=-Wno-unknown-warning-option \
  "^$root/src/" >"$log" 2>&1; then
  echo "tidy: clean ($(grep -c '^clang-tidy' "$log" || true) files)"
else
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E -A3 'warning:|error:' >&2 || true
  echo "tidy: clang-tidy found problems (above)" >&2
  exit 1
fi
