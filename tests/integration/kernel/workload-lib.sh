# SPDX-License-Identifier: MIT
# Shared helpers for the guest workloads (busybox sh; sourced, not executed).
# Installed in the guest as /lib/ninep/workload-lib.sh.
#
# TAP-like output: every check prints "ok N - name" or "not ok N - name"
# (optionally "ok N - name # SKIP reason"); tap_done exits non-zero if any
# check failed, which makes /init print NINEP-GUEST-RESULT: FAIL.

TAP_N=0
TAP_FAILED=0
TAP_FAILED_NAMES=

# check NAME CMD...: run CMD (usually a shell function) and record the result.
# The command's own output is indented so it cannot be mistaken for TAP lines.
check() {
	_name=$1
	shift
	TAP_N=$((TAP_N + 1))
	_t0=$(date +%s)
	if "$@" >/tmp/.check.out 2>&1; then
		_r=ok
	else
		_r="not ok"
		TAP_FAILED=$((TAP_FAILED + 1))
		TAP_FAILED_NAMES="$TAP_FAILED_NAMES $_name"
	fi
	_t1=$(date +%s)
	sed 's/^/    # /' /tmp/.check.out
	echo "$_r $TAP_N - $_name ($((_t1 - _t0))s)"
}

skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

tap_done() {
	echo "1..$TAP_N"
	if [ "$TAP_FAILED" -ne 0 ]; then
		echo "# $TAP_FAILED of $TAP_N checks failed:$TAP_FAILED_NAMES"
		exit 1
	fi
	echo "# all $TAP_N checks passed"
	exit 0
}

# fail MSG: print why and return non-zero (use as `... || fail "why"`).
fail() {
	echo "FAIL: $*"
	return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		return 0
	fi
	echo "FAIL: $1: got '$2', want '$3'"
	return 1
}

# ninep_mount DIR [EXTRA_OPTS]: mount the export on DIR with the harness's
# options (NINEP_OPTS from the kernel command line); EXTRA_OPTS come last and
# therefore win (v9fs parses options left to right), e.g. version=9p2000.u.
ninep_mount() {
	_dir=$1
	_extra=${2:-}
	mkdir -p "$_dir"
	_opts=$NINEP_OPTS
	[ -n "$_extra" ] && _opts="${_opts:+$_opts,}$_extra"
	if [ "$NINEP_TRANS" = virtio ]; then
		mount -t 9p -o "trans=virtio${_opts:+,$_opts}" "${NINEP_TAG:-ninep}" "$_dir"
	else
		mount -t 9p -o "trans=tcp,port=$NINEP_PORT${_opts:+,$_opts}" "$NINEP_SERVER" "$_dir"
	fi
}

have_helper() {
	command -v ninep-helper >/dev/null 2>&1
}

# wait_for FILE [TENTHS]: poll until FILE exists (default 10 s).
wait_for() {
	_i=0
	while [ ! -e "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt "${2:-100}" ] || return 1
		sleep 0.1
	done
}

# make_tree DIR: a small tree with nested dirs, assorted file sizes (empty,
# tiny, not block-aligned, bigger than one msize) and a relative symlink.
make_tree() {
	mkdir -p "$1/a/b/c" "$1/empty-dir" "$1/d e"
	: >"$1/empty"
	echo hello >"$1/a/hello.txt"
	dd if=/dev/urandom of="$1/a/b/odd.bin" bs=1 count=4097 2>/dev/null
	dd if=/dev/urandom of="$1/a/b/c/big.bin" bs=1024 count=1300 2>/dev/null
	seq 1 2000 >"$1/d e/numbers with spaces.txt"
	chmod 0750 "$1/a/b"
	chmod 0600 "$1/a/hello.txt"
	ln -s ../hello.txt "$1/a/b/link-to-hello"
}

# tree_listing DIR: type, mode, size and link target of everything under DIR,
# for comparing trees beyond what diff -r looks at.
tree_listing() {
	(cd "$1" && find . | LC_ALL=C sort | while IFS= read -r p; do
		if [ -L "$p" ]; then
			echo "$p L $(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "$p D $(stat -c %a "$p")"
		else
			echo "$p F $(stat -c '%a %s' "$p")"
		fi
	done)
}
