#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nbdkit ninep side by side with the NBD servers that read the image file directly, on the same
# image: fio's nbd engine (4K random read/write at depth 1 and 32, 1 MiB sequential read/write
# at depth 8) and `qemu-img bench` (QEMU's own client, depth 16). Prints one row per workload,
# each server's figure and its ratio to `nbdkit file` (the ceiling).
# Usage: bench/block.sh NINEP PLUGIN   (a release build: cmake --preset release; build the
#        ninep and nbdkit-ninep-plugin targets). Env: SECONDS_PER_RUN (5), SIZE_MIB (512),
#        CONNECTIONS (2, the plugin's connections=).
set -euo pipefail
NINEP=$(realpath "$1") PLUGIN=$(realpath "$2")
RUN=${SECONDS_PER_RUN:-5} SIZE=${SIZE_MIB:-512} CONNS=${CONNECTIONS:-2}
WORK=$(mktemp -d /tmp/ninep-bench-block.XXXXXX)
. "$(dirname "$0")/../tests/integration/block/lib-nbd.sh"
need nbdkit fio qemu-img qemu-nbd python3
trap cleanup EXIT

mkdir -p "$WORK/export"
IMG=$WORK/export/disk.img
head -c "${SIZE}M" /dev/urandom >"$IMG"

# Each server: a name and how to start it on $NBD_SOCK (NBD_PID set).
serve_file() { nbdkit -f -U "$NBD_SOCK" file file="$IMG" & NBD_PID=$!; }
serve_qemu_nbd() { qemu-nbd -t -f raw -k "$NBD_SOCK" --cache=writeback --aio=threads -e 16 "$IMG" & NBD_PID=$!; }
serve_ninep() {
	"${plugin_env[@]}" nbdkit -f -U "$NBD_SOCK" "$PLUGIN" "address=$P9_ADDR" ${P9_ANAME:+aname=$P9_ANAME uname=root} \
		path=disk.img connections="$CONNS" 2>"$WORK/nbdkit.log" &
	NBD_PID=$!
}

workloads=(
	"randread-4k-qd1|--rw=randread --bs=4k --iodepth=1"
	"randread-4k-qd32|--rw=randread --bs=4k --iodepth=32"
	"randwrite-4k-qd1|--rw=randwrite --bs=4k --iodepth=1"
	"randwrite-4k-qd32|--rw=randwrite --bs=4k --iodepth=32"
	"read-1M-qd8|--rw=read --bs=1M --iodepth=8"
	"write-1M-qd8|--rw=write --bs=1M --iodepth=8"
)

results=$WORK/results.tsv
: >"$results"
run_server() {
	local name=$1 start=$2
	NBD_SOCK=$WORK/nbd.sock
	rm -f "$NBD_SOCK"
	$start
	for _ in $(seq 200); do [ -S "$NBD_SOCK" ] && break; sleep 0.05; done
	[ -S "$NBD_SOCK" ] || fail "$name did not start"
	local uri="nbd+unix:///?socket=$NBD_SOCK"
	for w in "${workloads[@]}"; do
		local wname=${w%%|*} args=${w#*|}
		# shellcheck disable=SC2086
		fio --name=b --ioengine=nbd --uri="$uri" $args --size="${SIZE}M" --time_based \
			--runtime="$RUN" --ramp_time=1 --output-format=json --output="$WORK/fio.json" >/dev/null 2>&1 ||
			fail "fio $wname on $name"
		python3 - "$WORK/fio.json" "$name" "$wname" >>"$results" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
side = j["read"] if j["read"]["io_bytes"] > 0 else j["write"]
lat = side["clat_ns"]["mean"] / 1000.0
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{side['iops']:.0f}\t{side['bw_bytes'] / 1e6:.1f}\t{lat:.1f}")
EOF
	done
	# qemu-img bench: 4K reads at depth 16 (QEMU's NBD client), 100000 requests.
	local t0 t1
	t0=$(date +%s.%N)
	qemu-img bench -f raw -c 100000 -d 16 -s 4k "$uri" >/dev/null
	t1=$(date +%s.%N)
	python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]}\tqemu-img-bench-4k-qd16\t{100000/t:.0f}\t{100000*4096/t/1e6:.1f}\t0')" "$t0" "$t1" "$name" >>"$results"
	kill -TERM "$NBD_PID"
	wait "$NBD_PID" || true
	NBD_PID=
}

run_server "nbdkit-file" serve_file
run_server "qemu-nbd" serve_qemu_nbd
start_9p ninep-unix
run_server "ninep-unix" serve_ninep
kill_9p
P9_PORT=
start_9p ninep-tcp
run_server "ninep-tcp" serve_ninep
kill_9p
if [ -x /usr/sbin/diod ] && [ "$(id -u)" = 0 ]; then
	P9_PORT=
	start_9p diod
	run_server "ninep-diod" serve_ninep
	kill_9p
fi

python3 - "$results" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
servers = list(dict.fromkeys(r[0] for r in rows))
loads = list(dict.fromkeys(r[1] for r in rows))
val = {(r[0], r[1]): (float(r[2]), float(r[3]), float(r[4])) for r in rows}
print(f"{'workload':<24}" + "".join(f"{s:>22}" for s in servers))
for w in loads:
    base = val.get(("nbdkit-file", w))
    line = f"{w:<24}"
    for s in servers:
        v = val.get((s, w))
        if v is None:
            line += f"{'-':>22}"
            continue
        fig = f"{v[1]:.0f}MB/s" if "1M" in w else f"{v[0]:.0f}iops"
        ratio = f"({v[0] / base[0]:.2f}x)" if base and base[0] else ""
        line += f"{fig + ' ' + ratio:>22}"
    print(line)
print()
print("depth-1 mean completion latency (us):")
for w in loads:
    if w.endswith("qd1"):
        print(f"  {w:<22}" + "".join(f"{s}={val[(s, w)][2]:.1f} " for s in servers if (s, w) in val))
EOF
