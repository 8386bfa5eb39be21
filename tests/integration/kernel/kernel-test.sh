#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Linux-kernel-client test of a 9P server: starts the server on a free
# loopback port with a fresh, empty export directory, boots one guest per
# dialect (run-guest.sh) that mounts it with v9fs and runs the dialect's
# workload, then checks on the HOST that what the guest wrote really is in the
# export directory with the right content. Stops the server. Exit 0 iff every
# guest printed PASS and every host-side check passed.
#
# Usage: kernel-test.sh [OPTIONS] -- SERVER_CMD [ARGS...]
#   SERVER_CMD runs in the foreground until killed; in it (and in
#   --mount-opts) {PORT} is replaced by the TCP port to listen on at
#   127.0.0.1 and {DIR} by the directory to export.
# Options:
#   --dialects LIST    comma-separated subset of dotl,dotu,9p2000 (default: all)
#   --mount-opts OPTS  extra v9fs options for every mount, e.g. aname={DIR}
#   --msize N          msize to ask for (default 262144)
#   --work DIR         scratch directory (default: a new one under $TMPDIR)
#   --keep             keep the scratch directory (export, logs) afterwards
#   --cache-dir DIR    passed to run-guest.sh
#
# Example (Debian's diod, which wants the export path as aname):
#   kernel-test.sh --mount-opts 'aname={DIR}' -- \
#       diod --foreground --no-auth --listen '127.0.0.1:{PORT}' --export '{DIR}'
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dialects=dotl,dotu,9p2000
extra_opts=
msize=262144
work=
keep=
cache_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dialects) dialects=$2; shift 2 ;;
	--mount-opts) extra_opts=$2; shift 2 ;;
	--msize) msize=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--cache-dir) cache_args=(--cache-dir "$2"); shift 2 ;;
	--) shift; break ;;
	-h | --help) sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "kernel-test: SERVER_CMD missing (see --help)" >&2; exit 2; }
server_tmpl=("$@")

if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/ninep-kernel-test.XXXXXX")
else
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
fi
export_dir=$work/export
rm -rf "$export_dir"
mkdir -p "$export_dir" "$work/logs"

server_pid=
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		# give it a moment to exit cleanly, then insist
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
cleanup() {
	stop_server
	if [ -z "$keep" ]; then rm -rf "$work"; else echo "kernel-test: kept $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on (from /proc/net/tcp*, no ss/netstat needed). The
# server could still lose a race for it, so start_server retries.
listening_ports() {
	local _sl local_addr _rem st _rest
	# field 2 is ADDR:PORT in hex, field 4 the state (0A = LISTEN)
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _sl local_addr _rem st _rest; do
		[ "$st" = 0A ] && echo $((16#${local_addr##*:}))
	done
	return 0
}
pick_port() {
	local p used
	used=$(listening_ports | sort -u)
	while :; do
		p=$((20000 + RANDOM % 40000))
		grep -qx "$p" <<<"$used" || { echo "$p"; return; }
	done
}
subst() { local s=${1//\{PORT\}/$port}; echo "${s//\{DIR\}/$export_dir}"; }

start_server() {
	local attempt i args
	for attempt in 1 2 3; do
		port=$(pick_port)
		args=()
		for a in "${server_tmpl[@]}"; do args+=("$(subst "$a")"); done
		echo "kernel-test: starting server on 127.0.0.1:$port: ${args[*]}"
		"${args[@]}" </dev/null >"$work/logs/server.log" 2>&1 &
		server_pid=$!
		for i in $(seq 1 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			# bash's /dev/tcp: a bare connect, closed at once
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				return 0
			fi
			sleep 0.1
		done
		echo "kernel-test: server did not come up (attempt $attempt); its log:"
		tail -n 20 "$work/logs/server.log"
		stop_server
	done
	return 1
}

# ---------------------------------------------------------------- host side ----
HOST_FAILED=0
host_ok() { echo "host: ok - $1"; }
host_bad() { echo "host: not ok - $1"; HOST_FAILED=$((HOST_FAILED + 1)); }
host_expect() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then host_ok "$1"; else host_bad "$1 (got '$2', want '$3')"; fi
}

# What every workload leaves in SUB/keep, checked against the export dir
# directly, so a server that only *says* it wrote the data cannot pass.
host_checks() {
	local sub=$1 big_mib=$2 links=$3
	local k=$export_dir/$sub/keep
	echo "kernel-test: host-side checks of $k"
	if [ ! -d "$k" ]; then host_bad "$sub/keep exists"; return; fi
	if [ -f "$k/MANIFEST.sha256" ] && (cd "$k" && sha256sum --quiet -c MANIFEST.sha256); then
		host_ok "$sub: every file in MANIFEST.sha256 has the guest's checksum ($(wc -l <"$k/MANIFEST.sha256") files)"
	else
		host_bad "$sub: MANIFEST.sha256 check"
	fi
	grep -q '  big.bin$' "$k/MANIFEST.sha256" 2>/dev/null && host_ok "$sub: big.bin is in the manifest" ||
		host_bad "$sub: big.bin is in the manifest"
	host_expect "$sub: big.bin size" "$(stat -c %s "$k/big.bin" 2>/dev/null)" $((big_mib * 1048576))
	host_expect "$sub: hello.txt content" "$(cat "$k/hello.txt" 2>/dev/null)" \
		"hello from the ninep kernel test"$'\n'"second line"
	host_expect "$sub: mode-640 mode" "$(stat -c %a "$k/mode-640" 2>/dev/null)" 640
	host_expect "$sub: tree/a/b mode (cp -a)" "$(stat -c %a "$k/tree/a/b" 2>/dev/null)" 750
	host_expect "$sub: tree/a/hello.txt mode (cp -a)" "$(stat -c %a "$k/tree/a/hello.txt" 2>/dev/null)" 600
	host_expect "$sub: tree/empty-dir is a directory" "$(stat -c %F "$k/tree/empty-dir" 2>/dev/null)" directory
	host_expect "$sub: tree/empty is an empty file" "$(stat -c %F "$k/tree/empty" 2>/dev/null)" "regular empty file"
	if [ "$links" = yes ]; then
		host_expect "$sub: link-to-hello is a symlink to hello.txt" "$(readlink "$k/link-to-hello" 2>/dev/null)" hello.txt
		host_expect "$sub: tree symlink target" "$(readlink "$k/tree/a/b/link-to-hello" 2>/dev/null)" ../hello.txt
		host_expect "$sub: hard-a nlink" "$(stat -c %h "$k/hard-a" 2>/dev/null)" 2
		host_expect "$sub: hard-a and hard-b are one inode" "$(stat -c %i "$k/hard-a" 2>/dev/null)" \
			"$(stat -c %i "$k/hard-b" 2>/dev/null || echo none)"
		host_expect "$sub: hard link content" "$(cat "$k/hard-a" 2>/dev/null)" "linked"$'\n'"via b"
	fi
	# Files the guest unlinked while open, and the 5000/500-entry dir, must be gone.
	local leftovers
	leftovers=$(cd "$export_dir/$sub" && ls -d ul1 ul2 ul3 many 2>/dev/null | tr '\n' ' ' || true)
	host_expect "$sub: unlinked/deleted names are gone" "$leftovers" ""
}

# ---------------------------------------------------------------- main ----
start_server || { echo "kernel-test: FAIL: could not start the server"; exit 1; }
mount_tail=
[ -n "$extra_opts" ] && mount_tail=,$(subst "$extra_opts")

declare -a summary
GUEST_FAILED=0
IFS=, read -r -a dl <<<"$dialects"
for d in "${dl[@]}"; do
	case "$d" in
	dotl) wl=workload-dotl.sh ver=9p2000.L sub=dotl big=64 links=yes tmo=1080 who= ;;
	dotu) wl=workload-dotu.sh ver=9p2000.u sub=dotu big=16 links=yes tmo=420 who= ;;
	# 9P2000 carries no numeric id: the kernel names the user by uname alone (default
	# "nobody"), and a --trust-uname server acts as the user named. The workloads run as root.
	9p2000) wl=workload-9p2000.sh ver=9p2000 sub=9p2000 big=16 links=no tmo=240 who=,uname=root ;;
	*) echo "kernel-test: unknown dialect $d" >&2; exit 2 ;;
	esac
	echo "kernel-test: ===== $d ($ver) ====="
	kill -0 "$server_pid" 2>/dev/null || { echo "kernel-test: server died; restarting"; start_server; }
	t0=$(date +%s)
	if "$here/run-guest.sh" --port "$port" --workload "$here/$wl" --timeout "$tmo" \
		--mount-opts "version=$ver,msize=$msize,cache=none$who$mount_tail" \
		--log "$work/logs/guest-$d.log" "${cache_args[@]}"; then
		g=PASS
	else
		g=FAIL
		GUEST_FAILED=$((GUEST_FAILED + 1))
	fi
	before=$HOST_FAILED
	host_checks "$sub" "$big" "$links"
	h=PASS
	[ "$HOST_FAILED" -eq "$before" ] || h=FAIL
	summary+=("$d: guest $g, host checks $h, $(($(date +%s) - t0))s")
done
stop_server

echo "kernel-test: ===== summary ====="
printf 'kernel-test: %s\n' "${summary[@]}"
if [ "$GUEST_FAILED" -eq 0 ] && [ "$HOST_FAILED" -eq 0 ]; then
	echo "kernel-test: PASS"
	exit 0
fi
echo "kernel-test: FAIL ($GUEST_FAILED guest run(s), $HOST_FAILED host check(s) failed; server log: $work/logs/server.log)"
[ -z "$keep" ] && tail -n 30 "$work/logs/server.log"
exit 1
