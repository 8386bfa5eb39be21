#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nbdkit-ninep-plugin when things go wrong: configuration mistakes fail at startup with one line
# naming the address, the path and the reason; `ninep serve` SIGKILLed in the middle of a
# verifying fio run and restarted within the retry time (fio completes and verifies); a server
# that stays down gives EIO, never EINVAL, within the retry time plus a few seconds; SIGTERM
# makes nbdkit exit cleanly. Usage: nbdkit-faults-test.sh NINEP PLUGIN
set -euo pipefail
NINEP=$1 PLUGIN=$2
WORK=$(mktemp -d /tmp/ninep-nbdkit-faults.XXXXXX)
. "$(dirname "$0")/lib-nbd.sh"
need nbdkit nbdinfo qemu-io fio python3
trap cleanup EXIT

help=$("${plugin_env[@]}" nbdkit "$PLUGIN" --help 2>&1)
dump=$("${plugin_env[@]}" nbdkit "$PLUGIN" --dump-plugin 2>&1)
for k in address path aname uname version msize connections create retry-timeout timeout readonly auth; do
	grep -q "^$k=" <<<"$help" || fail "--help does not describe $k: $help"
	grep -q "^ninep_key_$k=" <<<"$dump" || fail "--dump-plugin does not describe $k: $dump"
done
ok "--help and --dump-plugin describe every key"

start_9p ninep-tcp
mkdir -p "$WORK/export/adir"

# startup_fails WHAT PATTERN ARGS...: nbdkit must refuse to start (no socket), its one error
# line matching PATTERN, and exit non-zero. Under ASan (a debug build's plugin, with the runtime
# preloaded) nbdkit's exit(1) deadlocks in libp11-kit's destructor (nbdkit's own file plugin
# does the same), so there the error line and the missing socket are the check and the stuck
# process is killed.
startup_fails() {
	local what=$1 pattern=$2
	shift 2
	local sock=$WORK/fail.sock
	local aname=()
	[ -n "$P9_ANAME" ] && aname=("aname=$P9_ANAME" uname=root)
	"${plugin_env[@]}" nbdkit -f -U "$sock" "$PLUGIN" "address=$P9_ADDR" "${aname[@]}" "$@" \
		2>"$WORK/nbdkit.log" &
	local pid=$! rc=
	for _ in $(seq 200); do
		[ -S "$sock" ] && { kill "$pid"; wait "$pid" || true; fail "$what: nbdkit started"; }
		if ! kill -0 "$pid" 2>/dev/null; then
			rc=0
			wait "$pid" || rc=$?
			break
		fi
		[ ${#plugin_env[@]} -gt 0 ] && grep -q "error:" "$WORK/nbdkit.log" && sleep 1 && break
		sleep 0.05
	done
	if [ -z "$rc" ]; then
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		[ ${#plugin_env[@]} -gt 0 ] || fail "$what: nbdkit did not exit"
	else
		[ "$rc" != 0 ] || fail "$what: nbdkit exited with status 0"
	fi
	[ "$(grep -c "error:" "$WORK/nbdkit.log")" = 1 ] || fail "$what: not one error line: $(cat "$WORK/nbdkit.log")"
	grep -q -- "$pattern" "$WORK/nbdkit.log" || fail "$what: $(cat "$WORK/nbdkit.log")"
	ok "startup fails: $what: $(grep error "$WORK/nbdkit.log")"
}
startup_fails "no such file" "$P9_ADDR: missing.img: No such file or directory" path=missing.img
startup_fails "a directory" "$P9_ADDR: adir: Is a directory" path=adir
startup_fails "msize too small" "msize=1000" path=x.img msize=1000
dead="tcp!127.0.0.1!$(free_port)"
(
	P9_ADDR=$dead
	startup_fails "server unreachable" "$dead: Connection refused" path=x.img
)

# SIGKILL in the middle of a verifying fio run, restarted 1 s later on the same port.
start_nbdkit path=fio.img create=64M connections=2 retry-timeout=30 ||
	fail "nbdkit: $(grep -v "debug:" "$WORK/nbdkit.log")"
fio --name=restart --ioengine=nbd --uri="$NBD_URI" --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=64M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output="$WORK/fio.out" >/dev/null 2>&1 &
fio_pid=$!
sleep 2
kill -0 "$fio_pid" 2>/dev/null || fail "fio ended before the kill: $(cat "$WORK/fio.out")"
kill_9p KILL
sleep 1
restart_9p
rc=0
wait "$fio_pid" || rc=$?
[ $rc = 0 ] || fail "fio across the restart (rc $rc): $(cat "$WORK/fio.out")"
grep -q "err= 0" "$WORK/fio.out" || fail "fio errors: $(cat "$WORK/fio.out")"
ok "9P server SIGKILLed mid-fio and restarted: fio completed and verified"

# Down for good: EIO (not EINVAL) within the retry time plus a few seconds.
stop_nbdkit || fail "nbdkit exit"
start_nbdkit path=fio.img retry-timeout=2 || fail "nbdkit: $(grep -v "debug:" "$WORK/nbdkit.log")"
# One request first: the plugin has connected (after_fork) before the server goes.
qemu-io -f raw "$NBD_URI" -c 'read 0 4k' >/dev/null || fail "nbdkit not serving"
kill_9p KILL
start=$(date +%s)
out=$(timeout 20 qemu-io -f raw "$NBD_URI" -c 'read 0 64k' 2>&1) || true
took=$(($(date +%s) - start))
grep -q "Input/output error" <<<"$out" || fail "no EIO from a dead server: $out"
grep -q "Invalid argument" <<<"$out" && fail "EINVAL from a dead server: $out"
ok "server down for good: EIO after ${took}s (retry-timeout=2)"

# SIGTERM: a clean exit, status 0.
stop_nbdkit || fail "nbdkit did not exit cleanly on SIGTERM"
ok "nbdkit SIGTERM: clean exit"
echo "PASS"
