# SPDX-License-Identifier: MIT
# Helpers for the nbdkit plugin tests: a 9P server (ninep serve over tcp or a unix socket, or
# diod) and nbdkit with the plugin from the build tree, each on a fresh address.
# Needs: NINEP (the ninep CLI), PLUGIN (nbdkit-ninep-plugin.so), WORK (a scratch directory).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
	done
}

# A sanitizer-built plugin needs its runtime loaded before nbdkit's own libraries.
plugin_env=()
# (ldd's output is kept first: `ldd | grep -q` under pipefail fails whenever grep exits before
# ldd has written everything.)
plugin_libs=$(ldd "$PLUGIN")
if grep -q libasan <<<"$plugin_libs"; then
	preload=$(awk '/libasan|libubsan/ {print $3}' <<<"$plugin_libs" | tr '\n' ' ')
	plugin_env=(env "LD_PRELOAD=$preload" "ASAN_OPTIONS=detect_leaks=0")
fi

# start_9p KIND: starts the 9P server exporting $WORK/export and sets P9_ADDR, P9_ANAME, P9_PID.
# KIND: ninep-tcp, ninep-unix or diod. restart_9p starts it again on the same address.
start_9p() {
	P9_KIND=$1
	mkdir -p "$WORK/export"
	case $P9_KIND in
		ninep-tcp)
			P9_PORT=${P9_PORT:-$(free_port)}
			P9_ADDR="tcp!127.0.0.1!$P9_PORT"
			P9_ANAME=
			"$NINEP" serve --no-auth --anonymous-user root --log-level error \
				--listen "$P9_ADDR" "$WORK/export" &
			P9_PID=$!
			wait_port "$P9_PORT" || fail "ninep serve did not listen on $P9_ADDR"
			;;
		ninep-unix)
			P9_ADDR="unix!$WORK/9p.sock"
			P9_ANAME=
			"$NINEP" serve --log-level error --listen "$P9_ADDR" "$WORK/export" &
			P9_PID=$!
			for _ in $(seq 100); do [ -S "$WORK/9p.sock" ] && break; sleep 0.1; done
			[ -S "$WORK/9p.sock" ] || fail "ninep serve did not listen on $P9_ADDR"
			;;
		diod)
			[ -x /usr/sbin/diod ] && [ "$(id -u)" = 0 ] || { echo "SKIP: needs diod and root"; exit 77; }
			P9_PORT=${P9_PORT:-$(free_port)}
			P9_ADDR="tcp!127.0.0.1!$P9_PORT"
			P9_ANAME=$WORK/export
			/usr/sbin/diod -f -n -l "127.0.0.1:$P9_PORT" -e "$WORK/export" -L /dev/null &
			P9_PID=$!
			wait_port "$P9_PORT" || fail "diod did not listen on $P9_ADDR"
			;;
	esac
}
restart_9p() { rm -f "$WORK/9p.sock"; start_9p "$P9_KIND"; }
kill_9p() {
	[ -n "${P9_PID:-}" ] || return 0
	kill -"${1:-TERM}" "$P9_PID" 2>/dev/null || true
	wait "$P9_PID" 2>/dev/null || true
	P9_PID=
}

# start_nbdkit ARGS...: nbdkit in the foreground of a background job, serving the plugin with
# address= and aname= of the 9P server plus ARGS, on a fresh unix socket. Sets NBD_URI and
# NBD_PID; nbdkit's log (-v) is $WORK/nbdkit.log.
start_nbdkit() {
	NBD_SOCK=$WORK/nbd.$RANDOM.sock
	NBD_URI="nbd+unix:///?socket=$NBD_SOCK"
	local aname=()
	[ -n "$P9_ANAME" ] && aname=("aname=$P9_ANAME" uname=root)
	"${plugin_env[@]}" nbdkit -v -f -U "$NBD_SOCK" "$PLUGIN" "address=$P9_ADDR" "${aname[@]}" "$@" \
		2>"$WORK/nbdkit.log" &
	NBD_PID=$!
	for _ in $(seq 200); do
		[ -S "$NBD_SOCK" ] && return 0
		kill -0 "$NBD_PID" 2>/dev/null || { echo "nbdkit died (${plugin_env[*]})" >&2; return 1; }
		sleep 0.05
	done
	return 1
}
# stop_nbdkit: SIGTERM; nbdkit must exit with status 0. Under ASan (a debug build's plugin, the
# runtime preloaded) nbdkit's exit can deadlock in libp11-kit's destructor after everything of
# nbdkit's and ours has finished (nbdkit's own file plugin does the same): there, nbdkit's last
# word before exit ("unload plugin", after our cleanup returned) counts, and the stuck process
# is killed.
stop_nbdkit() {
	[ -n "${NBD_PID:-}" ] || return 0
	kill -TERM "$NBD_PID" 2>/dev/null || true
	local rc=
	for _ in $(seq 600); do
		if ! kill -0 "$NBD_PID" 2>/dev/null; then
			rc=0
			wait "$NBD_PID" || rc=$?
			break
		fi
		if [ ${#plugin_env[@]} -gt 0 ] && grep -q "ninep: unload plugin" "$WORK/nbdkit.log"; then
			sleep 2
			kill -0 "$NBD_PID" 2>/dev/null || continue
			echo "note: nbdkit under ASan stuck in exit after unloading the plugin; killed"
			kill -9 "$NBD_PID"
			wait "$NBD_PID" 2>/dev/null || true
			rc=0
			break
		fi
		sleep 0.05
	done
	NBD_PID=
	[ "$rc" = 0 ] || { echo "nbdkit exit status $rc: $(tail -5 "$WORK/nbdkit.log")" >&2; return 1; }
}

cleanup() {
	stop_nbdkit || true
	kill_9p KILL
	rm -rf "$WORK"
}
