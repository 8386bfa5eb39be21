#!/bin/bash
# SPDX-License-Identifier: MIT
# `ninep trace` between real clients and real servers: diod's tools (diodls, diodcat) and the
# ninep CLI through the proxy to `ninep serve` (all three dialects) and to diod. The conversation
# must still work (byte-identical copies), the log must decode every message, the table on exit
# must agree with the log and with the server's own counters, and malformed traffic must be
# relayed byte for byte and flagged.
# Usage: trace-test.sh NINEP. Exit 0: pass, 1: fail (python3 is installed by make test).
set -u
NINEP=${1:?usage: trace-test.sh NINEP}
here=$(cd "$(dirname "$0")" && pwd)
check_py=$here/trace-check.py
command -v python3 >/dev/null || { echo "FAIL - python3 missing (scripts/install-deps.sh --test)"; exit 1; }

work=$(mktemp -d /tmp/ninep-trace-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
pass() { echo "ok   - $1"; }
failed() { echo "FAIL - $1"; failures=$((failures + 1)); }
check() { if "${@:2}"; then pass "$1"; else failed "$1"; fi; }
source "$(dirname "$(realpath "$0")")/../lib.sh"
# start_trace NAME TO_PORT [OPTIONS...]: runs the proxy in the background on a free port; sets
# $tport and $tpid. Its trace goes to $work/NAME.log, its table to $work/NAME.table.
start_trace() {
  local name=$1 to=$2
  shift 2
  tport=$(free_port)
  "$NINEP" trace --listen "tcp!127.0.0.1!$tport" --to "tcp!127.0.0.1!$to" "$@" \
    >"$work/$name.log" 2>"$work/$name.table" &
  tpid=$!
  pids+=("$tpid")
  # Not wait_port: a probe would count as a connection. The proxy says when it listens.
  for _ in $(seq 100); do
    grep -q "relaying" "$work/$name.table" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# stop_trace: ends the proxy with SIGINT, as a user would, and waits for its table.
stop_trace() {
  kill -INT "$tpid"
  wait "$tpid"
}
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
lines() { grep -c -- "$2" "$work/$1.log"; }
# table_count NAME TYPE: the count column of TYPE in the table printed on exit
table_count() { awk -v t="$2" '$1 == t {print $2}' "$work/$1.table"; }

export_dir=$work/export
mkdir -p "$export_dir/sub/deeper"
printf 'hello through the proxy\n' >"$export_dir/hello.txt"
head -c 3000000 /dev/urandom >"$export_dir/sub/blob"
for i in $(seq 20); do echo "file $i" >"$export_dir/sub/deeper/f$i"; done

nport=$(free_port)
# Every attach acts as the test's own user, whatever the client names (loopback rig).
"$NINEP" serve --no-auth --anonymous-user "$(id -un)" --listen "tcp!127.0.0.1!$nport" \
  --log-level error "$export_dir" &
pids+=($!)
wait_port "$nport" || { echo "FAIL - ninep serve did not start"; exit 1; }

# 1. The ninep CLI through the proxy, each dialect: copies are byte-identical, the log decodes.
start_trace ninep "$nport"
for d in 9P2000.L 9P2000.u 9P2000; do
  rm -rf "$work/got"
  "$NINEP" get --version "$d" "tcp!127.0.0.1!$tport" / "$work/got" 2>"$work/err" || cat "$work/err"
  check "ninep get -r through the proxy, $d: byte-identical tree" \
    diff <(tree_sums "$export_dir") <(tree_sums "$work/got")
done
out=$("$NINEP" cat "tcp!127.0.0.1!$tport" /hello.txt)
check "ninep cat through the proxy" [ "$out" = "hello through the proxy" ]
# Both halves must hold: cat fails, and says why (the server's ENOENT, relayed by the proxy).
rc=0
"$NINEP" cat "tcp!127.0.0.1!$tport" /nope >/dev/null 2>"$work/err" || rc=$?
check "ninep cat of a missing file through the proxy fails with the server's error" \
  bash -c "[ $rc -ne 0 ] && grep -q 'cat /nope: file does not exist' '$work/err'"
stop_trace
check "every line of the log is an event or a decoded message" python3 "$check_py" text "$work/ninep.log"
check "no malformed frames in a real conversation" [ "$(lines ninep '!! malformed')" = 0 ]
# A client may hang up with a request outstanding (the CLI clunks in the background as it
# exits): such requests are counted as unanswered when the connection closes.
unanswered=$(sed -n 's/.* \([0-9]*\) request(s) never answered/\1/p' "$work/ninep.table")
check "every request answered or counted unanswered ($unanswered)" \
  [ "$(lines ninep ' -> T')" = "$(($(lines ninep ' <- R') + unanswered))" ]
check "each dialect was decoded as negotiated" \
  bash -c "grep -q 'Rversion .*\"9P2000.L\"' '$work/ninep.log' && grep -q 'Rversion .*\"9P2000.u\"' '$work/ninep.log' && grep -q 'Rreaddir' '$work/ninep.log' && grep -q 'Rstat ' '$work/ninep.log'"
check "the error reply is shown" grep -q "<- Rlerror tag .* ecode 2" "$work/ninep.log"
for t in Twalk Tread Treaddir Tclunk; do
  check "table: $t count equals the $t lines" [ "$(table_count ninep $t)" = "$(lines ninep "-> $t ")" ]
done
check "table: the failed walk is counted as an error" \
  awk '$1 == "Twalk" && $5 >= 1 {found=1} END {exit !found}' "$work/ninep.table"
# The server counted the same requests (types a ctl read itself does not send).
"$NINEP" cat --aname ctl "tcp!127.0.0.1!$nport" /ops >"$work/ops"
for t in Treaddir Tstat Tgetattr; do
  check "server counted as many $t as the trace" \
    [ "$(awk -v t=$t '$1 == t {print $2}' "$work/ops")" = "$(table_count ninep $t)" ]
done
# Regression: cat of a small file read a whole pipeline of 512 KiB Treads, twice.
cat_conn=$(grep -- '-> Twalk .*"hello.txt"' "$work/ninep.log" | tail -1 | cut -d' ' -f2)
check "ninep cat of a small file sends two Treads" \
  [ "$(awk -v c="$cat_conn" '$2 == c && $3 == "->" && $4 == "Tread"' "$work/ninep.log" | wc -l)" = 2 ]

# 2. diod's own clients through the proxy to ninep serve.
if command -v diodcat >/dev/null && command -v diodls >/dev/null; then
  start_trace diodtools "$nport" -n 3
  check "diodls through the proxy" \
    bash -c "diodls -s 127.0.0.1:$tport -a '$export_dir' / | sort | tr '\n' ' ' | grep -qx 'hello.txt sub '"
  check "diodcat of 3 MB through the proxy is byte-identical" \
    bash -c "diodcat -s 127.0.0.1:$tport -a '$export_dir' sub/blob | cmp - '$export_dir/sub/blob'"
  check "diodcat of a missing file through the proxy fails" \
    bash -c "! diodcat -s 127.0.0.1:$tport -a '$export_dir' nope 2>/dev/null"
  wait "$tpid"  # -n 3: exits by itself after the three connections
  check "--connections 3 ends the proxy after three connections" [ $? = 0 ]
  check "diod tools' log decodes" python3 "$check_py" text "$work/diodtools.log"
  check "diod tools' table counts 3 connections" grep -q "^3 connection(s), 0 malformed" "$work/diodtools.table"
else
  echo "skip - diodls/diodcat not installed"
fi

# 3. The proxy in front of diod (an independent server), with --json.
if [ -x /usr/sbin/diod ] && [ "$(id -u)" = 0 ]; then
  dport=$(free_port)
  /usr/sbin/diod -f -n -l "127.0.0.1:$dport" -e "$export_dir" -L /dev/null &
  pids+=($!)
  wait_port "$dport"
  start_trace diod "$dport" --json
  rm -rf "$work/got"
  "$NINEP" get --aname "$export_dir" "tcp!127.0.0.1!$tport" / "$work/got" 2>"$work/err" || cat "$work/err"
  check "ninep get -r from diod through the proxy: byte-identical tree" \
    diff <(tree_sums "$export_dir") <(tree_sums "$work/got")
  "$NINEP" put --aname "$export_dir" "tcp!127.0.0.1!$tport" "$export_dir/sub/blob" /put-copy 2>"$work/err" || cat "$work/err"
  check "ninep put to diod through the proxy" cmp "$export_dir/put-copy" "$export_dir/sub/blob"
  stop_trace
  check "--json: every line is JSON, replies carry latencies, the summary matches" \
    python3 "$check_py" json "$work/diod.log"
else
  echo "skip - diod needs /usr/sbin/diod and root"
fi

# 4. Hostile bytes: relayed unchanged both ways, each bad frame flagged.
eport=$(free_port)
python3 "$check_py" echo-server "$eport" &
pids+=($!)
wait_port "$eport"
start_trace hostile "$eport" -n 2
check "malformed frames are relayed byte for byte" python3 "$check_py" hostile "$tport"
check "an oversized frame is relayed byte for byte" python3 "$check_py" oversized "$tport"
wait "$tpid"
for why in "type 0" "more than 16" "trailing" "Tclunk" "below the 7-byte header" "exceeds"; do
  check "flagged both ways: $why" [ "$(grep -c -- "!! malformed.*$why" "$work/hostile.log")" -ge 2 ]
done
check "table counts the malformed frames" grep -q "^2 connection(s), 12 malformed" "$work/hostile.table"

# 5. Usage errors name the problem.
check "a bad --to is refused by name" \
  bash -c "'$NINEP' trace --to 'tcp!' --listen 'tcp!127.0.0.1!0' 2>&1 | grep -q -- '--to tcp!: not a dial string'"
check "--help explains the output" bash -c "'$NINEP' trace --help | grep -q 'malformed'"

echo "# $failures failed"
[ "$failures" = 0 ]
