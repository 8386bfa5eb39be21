#!/bin/sh
# SPDX-License-Identifier: MIT
# fuzz/run.sh BUILD_DIR SECONDS: runs every built *_fuzz binary for SECONDS each, starting from
# its seed corpus fuzz/corpus/<target>/ (copied to a temporary directory, so runs never touch
# git). Fails on the first crash; the reproducer is saved under BUILD_DIR/fuzz-artifacts/<target>/
# and belongs in fuzz/regressions/<target>/ plus a unit test in tests/unit/wire/.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
found=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  found=1
  target=$(basename "$bin")
  corpus="$tmp/$target"
  mkdir -p "$corpus" "$build/fuzz-artifacts/$target"
  if [ -d "$here/corpus/$target" ]; then cp "$here/corpus/$target"/* "$corpus"/ 2>/dev/null || true; fi
  # Known crashers first: they must not crash any more.
  if [ -d "$here/regressions/$target" ] && [ -n "$(ls -A "$here/regressions/$target")" ]; then
    echo "== $target: regressions"
    "$bin" "$here/regressions/$target"/*
  fi
  echo "== $target: ${seconds}s"
  "$bin" -max_len=65536 -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$target/" "$corpus"
done
if [ "$found" = 0 ]; then
  echo "no *_fuzz binaries in $build/fuzz; build with: cmake --preset fuzz && cmake --build --preset fuzz" >&2
  exit 1
fi
