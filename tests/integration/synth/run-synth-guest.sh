#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one synth example server on a free loopback port and a kernel guest workload against
# it (tests/integration/kernel/run-guest.sh). Exit status: the guest's.
#
# Usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs [--trace NINEP] [run-guest.sh options...]
#   e.g. tests/integration/synth/run-synth-guest.sh build/debug ramfs --timeout 300
#   --trace NINEP   put `NINEP trace` between the kernel and the server, then check its log:
#                   every line an event or a decoded message, nothing malformed, every request
#                   answered (the real kernel client through the proxy).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs}
example=${2:?usage: run-synth-guest.sh BUILD_DIR ramfs|metricsfs}
shift 2
trace=
if [ "${1:-}" = --trace ]; then
	trace=$2
	shift 2
fi
bin=$build/examples/$example
[ -x "$bin" ] || { echo "run-synth-guest: $bin not built" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp "${TMPDIR:-/tmp}/ninep-$example.XXXXXX.log")
"$bin" --listen "tcp!127.0.0.1!$port" >"$log" 2>&1 &
pid=$!
tpid=
trap 'kill $pid $tpid 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$log" "$log".trace*' EXIT
sleep 0.5
kill -0 $pid || { cat "$log" >&2; exit 1; }
if [ -z "$trace" ]; then
	exec "$here/../kernel/run-guest.sh" --port "$port" --workload "$here/workload-$example.sh" "$@"
fi
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$trace" trace --listen "tcp!127.0.0.1!$tport" --to "tcp!127.0.0.1!$port" -o "$log.trace" \
	2>"$log.trace-table" &
tpid=$!
sleep 0.5
status=0
"$here/../kernel/run-guest.sh" --port "$tport" --workload "$here/workload-$example.sh" "$@" || status=$?
kill -INT $tpid
wait $tpid || { echo "not ok - ninep trace failed"; exit 1; }
tpid=
cat "$log.trace-table"
python3 "$here/../trace/trace-check.py" text "$log.trace" && echo "ok - every trace line decodes" || status=1
t=$(grep -c -- ' -> T' "$log.trace") r=$(grep -c -- ' <- R' "$log.trace")
u=$(sed -n 's/.* \([0-9]*\) request(s) never answered/\1/p' "$log.trace-table")
if [ "$t" -gt 100 ] && [ "$t" = "$((r + u))" ] && ! grep -q '!!' "$log.trace"; then
	echo "ok - kernel conversation through ninep trace: $t requests, $r replies, $u unanswered at close, no anomalies"
else
	echo "not ok - trace: $t requests, $r replies"; grep '!!' "$log.trace" | head -5; status=1
fi
exit $status
