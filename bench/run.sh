#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side-by-side benchmark of `ninep serve` and Debian's diod, in one run, on the same tmpfs
# export, over TCP and over a unix socket. Prints ninep/diod ratios (this machine is noisy:
# compare the ratios, not the absolute figures), server CPU seconds per GiB and per 100k ops,
# and server memory with 1,000 idle connections and with 100,000 open fids. Small ops are
# measured twice: diodload's getattr threads, and our stat_load (one connection, 64 calls in
# flight, built on the ninep client library) against each server.
#
# Usage: bench/run.sh [--quick] [--reps N]     (make bench builds the release binaries first)
#   --quick   1 repetition, 2 s load runs, 256 MiB file (a smoke test of the script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ninep=$root/build/release/tools/ninep/ninep
stat_load=$root/build/release/bench/stat_load
reps=3
secs=5
size_mib=1024
depth=64
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) reps=1; secs=2; size_mib=256; shift ;;
	--reps) reps=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--reps N]" >&2; exit 2 ;;
	esac
done
for t in diod diodload diodcat python3; do
	command -v $t >/dev/null || { echo "bench: $t not found (apt-get install diod)" >&2; exit 2; }
done
[ -x "$ninep" ] || { echo "bench: $ninep missing: run make release" >&2; exit 2; }
[ -x "$stat_load" ] || { echo "bench: $stat_load missing: run make bench" >&2; exit 2; }

work=$(mktemp -d /dev/shm/ninep-bench.XXXXXX)
export_dir=$work/export
mkdir -p "$export_dir"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
head -c $((size_mib << 20)) /dev/urandom >"$export_dir/big"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dport=$(free_port)
nport=$(free_port)
dsock=$work/diod.sock
nsock=$work/ninep.sock
diod --foreground --no-auth --listen "127.0.0.1:$dport" --listen "$dsock" \
	--export "$export_dir" --export ctl >"$work/diod.log" 2>&1 &
dpid=$!
pids+=($dpid)
# --no-auth as diod's: every tcp attach acts as the benchmark's own user (unix-socket peers of
# the same uid name their user, which is this one too).
"$ninep" serve --no-auth --anonymous-user "$(id -un)" --log-level warn --listen "tcp!127.0.0.1!$nport" --listen "unix!$nsock" \
	"$export_dir" >"$work/ninep.log" 2>&1 &
npid=$!
pids+=($npid)
# ninep trace in front of ninep serve, logging every message to a file (its cost, issue 4).
tport=$(free_port)
"$ninep" trace --listen "tcp!127.0.0.1!$tport" --to "tcp!127.0.0.1!$nport" -o "$work/trace.log" \
	2>"$work/trace.table" &
pids+=($!)
for _ in $(seq 50); do
	[ -S "$dsock" ] && [ -S "$nsock" ] && break
	sleep 0.1
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A result cpu
# run KEY PID CMD...: runs CMD $reps times; records the median of what CMD prints (a number)
# and the server's CPU seconds over all runs divided by the runs.
run() {
	local key=$1 pid=$2
	shift 2
	local before after vals=()
	before=$(cpu_ticks "$pid")
	for _ in $(seq "$reps"); do vals+=("$("$@")"); done
	after=$(cpu_ticks "$pid")
	result[$key]=$(printf '%s\n' "${vals[@]}" | median)
	cpu[$key]=$(awk -v d=$((after - before)) -v hz="$hz" -v r="$reps" 'BEGIN {printf "%.3f", d / hz / r}')
}
getattr_rate() { diodload -s "$1" -g -n "$2" -r "$secs" 2>&1 | awk '/ops\/s/ {print $2}'; }
# Without a warm-up, so that the server CPU of a run is that of $secs s at the rate printed.
stat_rate() {
	"$stat_load" --depth "$depth" --seconds "$secs" --warmup 0 --aname "$export_dir" "$1" /big
}
read_mbs() {
	local t0 t1
	t0=$(date +%s.%N)
	diodcat -s "$1" -a "$export_dir" -m "$2" big >/dev/null
	t1=$(date +%s.%N)
	awk -v t="$(echo "$t1 - $t0" | bc)" -v m="$size_mib" 'BEGIN {printf "%.1f", m / t}'
}
get_mbs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$ninep" get --msize "$2" --aname "$export_dir" "$1" /big "$work/got" >/dev/null 2>&1
	t1=$(date +%s.%N)
	cmp -s "$work/got" "$export_dir/big" || { echo "bench: ninep get returned wrong bytes" >&2; exit 1; }
	rm -f "$work/got"
	awk -v t="$(echo "$t1 - $t0" | bc)" -v m="$size_mib" 'BEGIN {printf "%.1f", m / t}'
}

echo "bench: $reps repetition(s), ${secs}s load runs, ${size_mib} MiB file, $(nproc) cores" >&2
for net in tcp unix; do
	if [ $net = tcp ]; then d="127.0.0.1:$dport" n="127.0.0.1:$nport"; else d=$dsock n=$nsock; fi
	for th in 1 16; do
		run "getattr/$net/$th/diod" $dpid getattr_rate "$d" $th
		run "getattr/$net/$th/ninep" $npid getattr_rate "$n" $th
	done
	run "stat/$net/diod" $dpid stat_rate "$d"
	run "stat/$net/ninep" $npid stat_rate "$n"
	for m in 65536 1048576; do
		run "read/$net/$m/diod" $dpid read_mbs "$d" $m
		run "read/$net/$m/ninep" $npid read_mbs "$n" $m
	done
done
# The client side (issue 4): ninep get against diod, next to diodcat against diod.
for m in 65536 1048576; do
	run "get/$m/diodcat" $dpid read_mbs "127.0.0.1:$dport" $m
	run "get/$m/ninep-get" $dpid get_mbs "tcp!127.0.0.1!$dport" $m
done
# The proxy's cost: the same loads straight to ninep serve and through ninep trace.
run "trace/getattr/direct" $npid getattr_rate "127.0.0.1:$nport" 1
run "trace/getattr/traced" $npid getattr_rate "127.0.0.1:$tport" 1
run "trace/stat/direct" $npid stat_rate "tcp!127.0.0.1!$nport"
run "trace/stat/traced" $npid stat_rate "tcp!127.0.0.1!$tport"
run "trace/read/direct" $npid read_mbs "127.0.0.1:$nport" 1048576
run "trace/read/traced" $npid read_mbs "127.0.0.1:$tport" 1048576

printf '\n%-34s %12s %12s %8s %16s %16s\n' "measure" "diod" "ninep" "ratio" "diod cpu" "ninep cpu"
for net in tcp unix; do
	for th in 1 16; do
		k=getattr/$net/$th
		dc=$(awk -v c="${cpu[$k/diod]}" -v r="${result[$k/diod]}" -v s=$secs 'BEGIN {printf "%.2f s/100k", c / (r * s) * 1e5}')
		nc=$(awk -v c="${cpu[$k/ninep]}" -v r="${result[$k/ninep]}" -v s=$secs 'BEGIN {printf "%.2f s/100k", c / (r * s) * 1e5}')
		printf '%-34s %12s %12s %7.2fx %16s %16s\n' "getattr ops/s $net, $th thread(s)" \
			"${result[$k/diod]}" "${result[$k/ninep]}" \
			"$(echo "${result[$k/ninep]} / ${result[$k/diod]}" | bc -l)" "$dc" "$nc"
	done
	k=stat/$net
	dc=$(awk -v c="${cpu[$k/diod]}" -v r="${result[$k/diod]}" -v s=$secs 'BEGIN {printf "%.2f s/100k", c / (r * s) * 1e5}')
	nc=$(awk -v c="${cpu[$k/ninep]}" -v r="${result[$k/ninep]}" -v s=$secs 'BEGIN {printf "%.2f s/100k", c / (r * s) * 1e5}')
	printf '%-34s %12s %12s %7.2fx %16s %16s\n' "stat ops/s $net, $depth in flight" \
		"${result[$k/diod]}" "${result[$k/ninep]}" \
		"$(echo "${result[$k/ninep]} / ${result[$k/diod]}" | bc -l)" "$dc" "$nc"
	for m in 65536 1048576; do
		k=read/$net/$m
		dc=$(awk -v c="${cpu[$k/diod]}" -v g="$size_mib" 'BEGIN {printf "%.2f s/GiB", c * 1024 / g}')
		nc=$(awk -v c="${cpu[$k/ninep]}" -v g="$size_mib" 'BEGIN {printf "%.2f s/GiB", c * 1024 / g}')
		printf '%-34s %12s %12s %7.2fx %16s %16s\n' "read MB/s $net, msize $((m >> 10))K" \
			"${result[$k/diod]}" "${result[$k/ninep]}" \
			"$(echo "${result[$k/ninep]} / ${result[$k/diod]}" | bc -l)" "$dc" "$nc"
	done
done
for m in 65536 1048576; do
	printf '%-34s %12s %12s %7.2fx   (client: diodcat vs ninep get, both from diod)\n' \
		"get MB/s from diod, msize $((m >> 10))K" "${result[get/$m/diodcat]}" \
		"${result[get/$m/ninep-get]}" "$(echo "${result[get/$m/ninep-get]} / ${result[get/$m/diodcat]}" | bc -l)"
done

# Memory: RSS growth with 1,000 idle attached connections, then with 100,000 open fids.
memory() {
	local pid=$1 addr=$2 mode=$3 count=$4 base fifo out
	base=$(rss_kib "$pid")
	fifo=$work/fifo.$mode.$pid
	mkfifo "$fifo"
	python3 "$here/load.py" "$mode" "$count" "$addr" "$export_dir" <"$fifo" >"$work/load.out" &
	local lpid=$!
	exec 9>"$fifo"
	for _ in $(seq 600); do grep -q ready "$work/load.out" 2>/dev/null && break; sleep 0.1; done
	out=$(( $(rss_kib "$pid") - base ))
	exec 9>&-
	wait $lpid || true
	rm -f "$fifo"
	echo $out
}
ulimit -n 8192 2>/dev/null || true
for what in "conns 1000" "fids 100000"; do
	set -- $what
	dm=$(memory $dpid "127.0.0.1:$dport" "$1" "$2")
	nm=$(memory $npid "127.0.0.1:$nport" "$1" "$2")
	printf '%-34s %9s KiB %9s KiB %7.2fx   (RSS growth; lower is better)\n' "memory, $2 $1" "$dm" "$nm" \
		"$(echo "$nm / ($dm + 1)" | bc -l)"
done
printf '\n%-34s %12s %12s %8s\n' "ninep trace (logging to a file)" "direct" "traced" "ratio"
for what in "getattr/getattr ops/s tcp, 1 thread" "stat/stat ops/s tcp, $depth in flight" \
	"read/read MB/s tcp, msize 1024K"; do
	k=trace/${what%%/*}
	printf '%-34s %12s %12s %7.2fx   (to ninep serve; 1.00x = no cost)\n' "${what#*/}" \
		"${result[$k/direct]}" "${result[$k/traced]}" \
		"$(echo "${result[$k/traced]} / ${result[$k/direct]}" | bc -l)"
done
