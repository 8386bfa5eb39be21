#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nbdkit with nbdkit-ninep-plugin.so in front of a 9P server, checked by NBD's own tools:
# nbdinfo, qemu-img (info, convert + compare, a qcow2 and its check), qemu-io patterns that
# verify what they read (and a wrong pattern that must fail), nbdcopy round trips (also with 4
# connections), fio verifying random writes; in ninep mode the same image through 9P2000.L, .u
# and 9P2000. Usage: nbdkit-test.sh NINEP PLUGIN ninep-tcp|ninep-unix|diod
set -euo pipefail
NINEP=$1 PLUGIN=$2 KIND=$3
WORK=$(mktemp -d /tmp/ninep-nbdkit.XXXXXX)
. "$(dirname "$0")/lib-nbd.sh"
need nbdkit nbdinfo nbdcopy qemu-img qemu-io fio python3
trap cleanup EXIT

start_9p "$KIND"
start_nbdkit path=disk.img create=64M connections=2 || fail "nbdkit: $(grep -v "debug:" "$WORK/nbdkit.log")"
IMG=$WORK/export/disk.img

# nbdinfo: the size and what the plugin promises.
nbdinfo --json "$NBD_URI" >"$WORK/info.json"
python3 - "$WORK/info.json" <<'EOF' || fail "nbdinfo: $(cat "$WORK/info.json")"
import json, sys
e = json.load(open(sys.argv[1]))["exports"][0]
want = {"export-size": 64 << 20, "can_multi_conn": True, "can_flush": True, "can_fua": True,
        "can_zero": True, "can_trim": False, "can_fast_zero": False, "is_read_only": False,
        "block_size_preferred": 4096, "block_size_minimum": 1}
bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
assert not bad, bad
assert 4096 <= e["block_size_maximum"] <= 512 * 1024, e["block_size_maximum"]
EOF
ok "nbdinfo: 64 MiB, multi-conn, flush, FUA, zero; no trim, no fast zero; block sizes"

qemu-img info -f raw "$NBD_URI" | grep -q "virtual size: 64 MiB" || fail "qemu-img info"
ok "qemu-img info"

# qemu-io: every read checks a pattern; qemu-io reports a mismatch as "Pattern verification
# failed" (and a failed request with "failed:").
qio() { qemu-io -f raw "$NBD_URI" "$@" 2>&1; }
out=$(qio -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' \
	-c 'write -z 1M 1M' -c 'read -P 0 1M 1M' \
	-c 'write -f -P 0xcd 2M 64k' -c 'read -P 0xcd 2M 64k' \
	-c 'aio_write -P 0x11 3M 128k' -c 'aio_write -P 0x22 4M 3M' -c 'aio_flush' \
	-c 'read -P 0x11 3M 128k' -c 'read -P 0x22 4M 3M' \
	-c 'readv -P 0xab 0 4k 8k 512' -c 'write -P 0x5a 12345 777' -c 'read -P 0x5a 12345 777')
if grep -qE "verification failed|failed:|error" <<<"$out"; then fail "qemu-io: $out"; fi
[ "$(grep -c '^read ' <<<"$out")" -ge 6 ] || fail "qemu-io did not run its reads: $out"
ok "qemu-io: write/read -P, write -z, write -f (FUA), aio_write + aio_flush, readv, unaligned"
out=$(qio -c 'read -P 0xee 0 64k') || true
grep -q "verification failed" <<<"$out" || fail "qemu-io negative control passed: $out"
ok "qemu-io: a wrong pattern fails (negative control)"

# qemu-img convert of 64 MiB of random bytes onto the export, then compare (through NBD and
# against the file on the 9P server).
head -c 64M /dev/urandom >"$WORK/rand.img"
qemu-img convert -n -f raw -O raw "$WORK/rand.img" "$NBD_URI"
qemu-img compare -f raw -F raw "$WORK/rand.img" "$NBD_URI" >/dev/null || fail "qemu-img compare"
cmp "$WORK/rand.img" "$IMG" || fail "the image on the 9P server differs"
ok "qemu-img convert + compare: 64 MiB byte-identical, also on the server"

# nbdcopy both ways, one connection and four.
nbdcopy "$NBD_URI" "$WORK/back.img"
cmp "$WORK/rand.img" "$WORK/back.img" || fail "nbdcopy out"
head -c 64M /dev/urandom >"$WORK/rand2.img"
nbdcopy --connections=4 "$WORK/rand2.img" "$NBD_URI"
nbdcopy --connections=4 "$NBD_URI" "$WORK/back2.img"
cmp "$WORK/rand2.img" "$WORK/back2.img" || fail "nbdcopy --connections=4 round trip"
cmp "$WORK/rand2.img" "$IMG" || fail "nbdcopy --connections=4: the server's file differs"
[ "$(sha256sum <"$WORK/rand2.img")" = "$(nbdcopy "$NBD_URI" - | sha256sum)" ] || fail "checksum"
ok "nbdcopy round trips (1 and 4 connections), checksums equal"

# fio: random writes of 4k..128k at depth 16, each block verified by crc32c.
fio --name=verify --ioengine=nbd --uri="$NBD_URI" --rw=randwrite --bsrange=4k-128k \
	--iodepth=16 --size=32M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output="$WORK/fio.out" >/dev/null 2>&1 || fail "fio: $(cat "$WORK/fio.out")"
grep -q "err= 0" "$WORK/fio.out" || fail "fio reported errors: $(cat "$WORK/fio.out")"
ok "fio randwrite 4k-128k iodepth 16, crc32c verified"

stop_nbdkit || fail "nbdkit did not exit cleanly on SIGTERM"

# A qcow2 on the export (qemu-img create writes the header through NBD), used, then checked.
start_nbdkit path=q.img create=64M || fail "nbdkit: $(grep -v "debug:" "$WORK/nbdkit.log")"
qemu-img create -q -f qcow2 "$NBD_URI" 48M
out=$(qemu-io -f qcow2 "$NBD_URI" -c 'write -P 0x77 1M 5M' -c 'read -P 0x77 1M 5M' 2>&1)
if grep -qE "verification failed|failed:" <<<"$out"; then fail "qcow2 qemu-io: $out"; fi
qemu-img check -f qcow2 "$NBD_URI" | grep -q "No errors were found" || fail "qemu-img check"
qemu-img info "$WORK/export/q.img" | grep -q "file format: qcow2" || fail "not a qcow2 on disk"
stop_nbdkit || fail "nbdkit exit"
ok "qcow2 on the export: created, written, read back, qemu-img check clean"

# The same image through each dialect (ninep serve speaks all three).
if [ "$KIND" != diod ]; then
	prev=
	for v in 9p2000.L 9p2000.u 9p2000; do
		start_nbdkit path=disk.img version=$v || fail "nbdkit version=$v: $(cat "$WORK/nbdkit.log")"
		nbdinfo "$NBD_URI" >/dev/null
		if [ -n "$prev" ]; then
			out=$(qio -c "read -P $prev 8M 2M")
			grep -q "verification failed" <<<"$out" && fail "$v reads what the last dialect wrote: $out"
		fi
		pat=$(printf '0x%02x' $((0x30 + ${#prev} + RANDOM % 64)))
		out=$(qio -c "write -P $pat 8M 2M" -c 'flush' -c "read -P $pat 8M 2M")
		grep -qE "verification failed|failed:" <<<"$out" && fail "$v: $out"
		stop_nbdkit || fail "nbdkit exit ($v)"
		prev=$pat
	done
	ok "one image written and read through 9P2000.L, 9P2000.u and 9P2000"
fi
echo "PASS"
