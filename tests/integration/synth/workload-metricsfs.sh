#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest workload for examples/metricsfs: values are numbers, the stream delivers lines and
# can be interrupted (Tflush) without hurting the mount.
. /lib/ninep/workload-lib.sh

M=/mnt

t_mount() {
	ninep_mount $M || fail "mount" || return 1
	ls $M
}
check "mount metricsfs" t_mount || true
[ "$TAP_FAILED" -ne 0 ] && tap_done

is_number() {
	case "$2" in
	'' | *[!0-9.]*) fail "$1: '$2' is not a number" ;;
	*) echo "$1 = $2" ;;
	esac
}

t_values() {
	for f in load/1min load/threads memory/total memory/available cpu/user cpu/idle uptime; do
		is_number $f "$(cat $M/$f)" || return 1
	done
	iface=$(ls $M/net | head -n 1)
	[ -n "$iface" ] || fail "no interface under net/" || return 1
	is_number "net/$iface/rx_bytes" "$(cat $M/net/$iface/rx_bytes)"
}
check "one value per file" t_values

t_stream() {
	# Small reads: each returns part of one sample line, so two arrive within ~2 s.
	out=$(timeout 10 dd if=$M/stream bs=16 count=2 2>/dev/null)
	expect_eq "stream bytes" "${#out}" 32 || return 1
	case "$out" in time=*) ;; *) fail "stream line: $out" ;; esac
}
check "stream delivers sample lines" t_stream

t_stream_interrupt() {
	t0=$(date +%s)
	timeout 3 cat $M/stream >/tmp/stream.out
	t1=$(date +%s)
	[ $((t1 - t0)) -le 6 ] || fail "interrupted cat took $((t1 - t0))s" || return 1
	is_number load/1min "$(cat $M/load/1min)"
}
check "interrupted stream read (Tflush), mount still fine" t_stream_interrupt

tap_done
