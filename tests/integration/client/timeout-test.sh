#!/bin/sh
# SPDX-License-Identifier: MIT
# `--timeout` covers connecting (issue 11): `ninep ls --timeout 1` and `ninep get --timeout 1`
# against a server that accepts and never answers (not even Tversion) fail by themselves,
# naming the timeout. (The library tests cover a server that stops after the handshake.)
# Usage: timeout-test.sh NINEP
set -u
ninep=$1
work=$(mktemp -d)
trap 'kill $peer 2>/dev/null; rm -rf "$work"' EXIT
fails=0

# A peer that accepts connections and reads forever without a word.
python3 - "$work/port" <<'PY' &
import socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)  # kept open, never answered
PY
peer=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

check_time() {  # NAME CMD...: the command fails by itself, naming the timeout
  # Without --timeout the client would wait forever: `timeout 60` only catches that hang (exit
  # 124). No bound on how fast it gives up: under ASan on a loaded CI machine, startup alone can
  # take seconds (a 2.5 s bound here failed in a loaded run).
  name=$1
  shift
  start=$(date +%s.%N)
  timeout 60 "$@" >"$work/out" 2>&1
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "timed out" "$work/out"; then
    echo "ok - $name (exit $rc after ${secs}s: $(cat "$work/out"))"
  else
    echo "not ok - $name (exit $rc after ${secs}s: $(cat "$work/out"))"
    fails=$((fails + 1))
  fi
}

check_time "ls --timeout 1 against a server that never answers Tversion" \
  "$ninep" ls --timeout 1 "tcp!127.0.0.1!$port" /
check_time "get --timeout 1 against a server that never answers Tversion" \
  "$ninep" get --timeout 1 "tcp!127.0.0.1!$port" /f "$work/f"

[ "$fails" -eq 0 ]
