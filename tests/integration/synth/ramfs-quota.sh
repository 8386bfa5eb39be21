#!/bin/bash
# SPDX-License-Identifier: MIT
# ramfs's own logic: --max-files N lets clients make N entries, then answers ENOSPC, and a
# removed entry gives its slot back. Through the ninep CLI over a free loopback port.
#   ramfs-quota.sh RAMFS NINEP
set -u
RAMFS=${1:?usage: ramfs-quota.sh RAMFS NINEP}
NINEP=${2:?}

work=$(mktemp -d /tmp/ninep-ramfs-quota.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$RAMFS" --listen "tcp!127.0.0.1!$port" --max-files 3 --log-level error &
pid=$!
addr="tcp!127.0.0.1!$port"
for _ in $(seq 100); do "$NINEP" ls "$addr" / >/dev/null 2>&1 && break; sleep 0.1; done

failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
echo data >"$work/f"
check "entry 1 (a directory) fits" "$NINEP" mkdir "$addr" /d
check "entry 2 fits" "$NINEP" put "$addr" "$work/f" /d/f1
check "entry 3 fits" "$NINEP" put "$addr" "$work/f" /f2
rc=0
"$NINEP" put "$addr" "$work/f" /f3 2>"$work/err" || rc=$?
check "entry 4 is refused" [ "$rc" -ne 0 ]
check "... with ENOSPC, naming the file: $(cat "$work/err")" grep -q '/f3: no space left on device' "$work/err"
check "the refused file does not exist" bash -c "! '$NINEP' stat '$addr' /f3 >/dev/null 2>&1"
check "removing an entry" "$NINEP" rm "$addr" /f2
check "... gives its slot back" "$NINEP" put "$addr" "$work/f" /f3
check "the data is there" [ "$("$NINEP" cat "$addr" /f3)" = data ]
echo "$failures failure(s)"
[ "$failures" = 0 ]
