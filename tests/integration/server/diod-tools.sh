#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# diod's own clients (Debian package diod) against `ninep serve`, as independent peers:
# diodls and diodcat through an export (aname = the export's path, diod's convention), and
# diodload's getattr and copy loads through the ctl tree (aname "ctl": null and zero).
# Usage: diod-tools.sh NINEP_BINARY
set -euo pipefail
ninep=${1:?usage: diod-tools.sh NINEP_BINARY}
for t in diodls diodcat diodload python3; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/ninep-diod-tools.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/export/sub"
printf 'hello from ninep\n' >"$work/export/hello.txt"
head -c 3000000 /dev/urandom >"$work/export/sub/blob"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Loopback test rig: every attach acts as the test's own user (diod's tools attach as it anyway);
# never as the name a client sends (docs/man/ninep-serve.md, SECURITY).
"$ninep" serve --no-auth --anonymous-user "$(id -un)" --listen "tcp!127.0.0.1!$port" "$work/export" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break
	sleep 0.1
done
fails=0
check() { # check NAME COMMAND...: runs COMMAND, prints ok/not ok
	if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); fi
}
srv=127.0.0.1:$port
check "diodls lists the export" bash -c "diodls -s $srv -a '$work/export' / | sort | tr '\n' ' ' | grep -qx 'hello.txt sub '"
check "diodcat prints a file" bash -c "[ \"\$(diodcat -s $srv -a '$work/export' hello.txt)\" = 'hello from ninep' ]"
check "diodcat of a 3 MB file is byte-identical" bash -c "diodcat -s $srv -a '$work/export' sub/blob | cmp - '$work/export/sub/blob'"
check "diodcat of a missing file fails" bash -c "! diodcat -s $srv -a '$work/export' nope 2>/dev/null"
check "empty aname selects the default export" bash -c "[ \"\$(diodcat -s $srv -a '' hello.txt)\" = 'hello from ninep' ]"
check "diodload getattr load (ctl:null)" bash -c "r=\$(diodload -s $srv -g -r 2 -n 4 2>&1 | awk '/ops\\/s/ {print \$2}'); echo \"  getattr ops/s: \$r\"; [ \"\${r:-0}\" -gt 0 ]"
check "diodload copy load (ctl:zero -> ctl:null)" bash -c "out=\$(diodload -s $srv -r 2 -n 4 2>&1); echo \"  \$out\"; echo \"\$out\" | grep -q 'ops/s' && ! echo \"\$out\" | grep -qi error"
kill -0 "$pid" || { echo "not ok - server died"; cat "$work/server.log"; exit 1; }
echo "# $fails failed"
[ "$fails" -eq 0 ]
