#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one synth example server on a free loopback port and a kernel guest workload against
# it (tests/integration/kernel/run-guest.sh). Exit status: the guest's.
#
# Usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs [run-guest.sh options...]
#   e.g. tests/integration/synth/run-synth-guest.sh build/debug ramfs --timeout 300
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs}
example=${2:?usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs}
shift 2
bin=$build/examples/$example
[ -x "$bin" ] || { echo "run-synth-guest: $bin not built" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp "${TMPDIR:-/tmp}/ninep-$example.XXXXXX.log")
"$bin" --listen "tcp!127.0.0.1!$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
sleep 0.5
kill -0 $pid || { cat "$log" >&2; exit 1; }
"$here/../kernel/run-guest.sh" --port "$port" --workload "$here/workload-$example.sh" "$@"
