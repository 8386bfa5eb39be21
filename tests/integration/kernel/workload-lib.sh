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
# A check fails if CMD returns non-zero OR if anything inside it called fail
# or expect_eq unsuccessfully: `set -e` does not work inside a function that
# runs as an `if` condition, so a step written as `cmd || fail "why"` would
# otherwise be forgotten as soon as a later step succeeded. The marker is a
# file so that fail works from subshells and pipelines too.
# The command's own output is indented so it cannot be mistaken for TAP lines.
check() {
	_name=$1
	shift
	TAP_N=$((TAP_N + 1))
	_t0=$(date +%s)
	echo "running: $_name" >/tmp/.check.out
	rm -f /tmp/.check.failed
	if "$@" >>/tmp/.check.out 2>&1 && [ ! -e /tmp/.check.failed ]; then
		_r=ok
	else
		_r="not ok"
		TAP_FAILED=$((TAP_FAILED + 1))
		TAP_FAILED_NAMES="$TAP_FAILED_NAMES
#   $_name"
	fi
	_t1=$(date +%s)
	sed '1d; s/^/    # /' /tmp/.check.out
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

# fail MSG: print why, mark the running check as failed, return non-zero
# (use as `step || fail "why"`, or `step || fail "why" || return 1` to stop).
fail() {
	echo "FAIL: $*"
	: >/tmp/.check.failed
	return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		return 0
	fi
	fail "$1: got '$2', want '$3'"
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

# create_files DIR N: create empty files DIR/f0 .. DIR/f$((N-1)).
# Sequential on purpose: under TCG the guest is CPU-bound, and 4 parallel
# creators measured 60% slower than one.
create_files() {
	_i=0
	while [ $_i -lt "$2" ]; do
		# `: >` is a shell builtin: no fork per file
		: >"$1/f$_i" || fail "create $1/f$_i" || return 1
		_i=$((_i + 1))
	done
}

# delete_files DIR: rm -f DIR/f* (one rm, lstat + unlinkat per name).
delete_files() {
	rm -f "$1"/f* || fail "rm -f $1/f*"
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

# tree_manifest DIR PREFIX: sha256sum lines for every regular file under DIR,
# named PREFIX/relative/path (busybox find has no -printf; names may contain
# spaces, hence -exec per file rather than xargs).
tree_manifest() {
	(cd "$1" && find . -type f -exec sha256sum {} \; | sed "s|  \./|  $2/|")
}

# ---------------------------------------------------------------------------
# Checks shared by the 9P2000.u and 9P2000 workloads. They use $W (work dir on
# the export, wiped first) and $K ($W/keep, left behind for kernel-test.sh's
# host-side verification). The .L workload has its own, stricter versions.

c_mount() {
	ninep_mount /mnt || fail "mount" || return 1
	grep " /mnt 9p " /proc/mounts || fail "not in /proc/mounts" || return 1
	rm -rf "$W" || fail "wipe $W"
	mkdir -p "$K" || fail "mkdir $K"
}

c_basic_io() {
	echo "hello from the ninep kernel test" >$K/hello.txt || fail "create"
	expect_eq "read back" "$(cat $K/hello.txt)" "hello from the ninep kernel test" || return 1
	echo "second line" >>$K/hello.txt || fail "append"
	expect_eq "line count after append" "$(wc -l <$K/hello.txt)" 2 || return 1
	printf 'abc' >$W/overwrite && printf 'X' | dd of=$W/overwrite bs=1 seek=1 conv=notrunc 2>/dev/null ||
		fail "write at offset"
	expect_eq "write in the middle" "$(cat $W/overwrite)" "aXc" || return 1
	echo abc >$W/otrunc && echo d >$W/otrunc && expect_eq "O_TRUNC" "$(cat $W/otrunc)" d || return 1
	echo "$(sha256sum <$K/hello.txt | cut -d' ' -f1)  hello.txt" >>$K/MANIFEST.sha256
}

c_mkdir_rm() {
	mkdir $W/d1 && mkdir -p $W/d1/d2/d3 || fail "mkdir"
	mkdir $W/d1 2>/dev/null && fail "mkdir of an existing dir succeeded"
	echo x >$W/d1/d2/f || fail "create in nested dir"
	rmdir $W/d1/d2 2>/dev/null && fail "rmdir of a non-empty dir succeeded"
	rm $W/d1/d2/f && [ ! -e $W/d1/d2/f ] || fail "rm file"
	rmdir $W/d1/d2/d3 || fail "rmdir empty dir"
	rm -rf $W/d1 || fail "rm -rf"
	[ ! -e $W/d1 ] || fail "d1 still exists after rm -rf"
}

# c_rename [noreplace]: noreplace for plain 9P2000, where renaming onto a name must fail.
c_rename() {
	echo one >$W/r1 && echo two >$W/r2 && mkdir -p $W/rdir/sub || fail "setup"
	mv $W/r1 $W/r1b || fail "rename in dir"
	[ ! -e $W/r1 ] || fail "old name still there"
	expect_eq "renamed content" "$(cat $W/r1b)" one || return 1
	if [ "${1:-}" = noreplace ]; then
		# Plain 9P2000 (stat(5)): renaming onto an existing name is an error; both stay.
		mv -f $W/r2 $W/r1b 2>/dev/null && fail "rename over existing file succeeded"
		expect_eq "existing file kept" "$(cat $W/r1b)" one || return 1
		expect_eq "source kept" "$(cat $W/r2)" two || return 1
		rm $W/r1b && mv $W/r2 $W/r1b || fail "rename onto a freed name"
	else
		mv -f $W/r2 $W/r1b || fail "rename over existing file"
	fi
	expect_eq "replaced content" "$(cat $W/r1b)" two || return 1
	[ ! -e $W/r2 ] || fail "source of replacing rename still exists"
	# Across directories (busybox mv falls back to copy+unlink on EXDEV,
	# which is what v9fs returns for non-.L dialects: wstat renames only
	# within a directory).
	mv $W/r1b $W/rdir/sub/r1c || fail "move across dirs"
	expect_eq "moved content" "$(cat $W/rdir/sub/r1c)" two || return 1
	mv $W/rdir $W/rdir2 || fail "rename directory"
	expect_eq "content under renamed dir" "$(cat $W/rdir2/sub/r1c)" two
}

# c_listing N: create N files, list them (each exactly once), delete them.
c_listing() {
	mkdir $W/many || fail "mkdir" || return 1
	create_files $W/many "$1" || return 1
	ls $W/many >/tmp/many.ls || fail "ls"
	expect_eq "ls | wc -l" "$(wc -l </tmp/many.ls)" "$1" || return 1
	expect_eq "unique names" "$(sort -u /tmp/many.ls | wc -l)" "$1" || return 1
	delete_files $W/many
	expect_eq "entries after delete" "$(ls -A $W/many | wc -l)" 0 || return 1
	rmdir $W/many || fail "rmdir"
}

# c_cp_tree yes|no: cp -a of a tree (with or without a symlink), diff -r,
# then tar it back out into tmpfs and compare again.
c_cp_tree() {
	rm -rf /tmp/src && make_tree /tmp/src || fail "make tree"
	[ "$1" = yes ] || rm /tmp/src/a/b/link-to-hello
	cp -a /tmp/src $K/tree || fail "cp -a to export"
	diff -r /tmp/src $K/tree || fail "diff -r differs"
	tree_listing /tmp/src >/tmp/l1 && tree_listing $K/tree >/tmp/l2 || fail "listing"
	diff /tmp/l1 /tmp/l2 || fail "types/modes/sizes/link targets differ"
	rm -rf /tmp/untar && mkdir /tmp/untar || fail "mkdir"
	(cd $K && tar cf - tree) | (cd /tmp/untar && tar xf -) || fail "tar pipe"
	diff -r /tmp/src /tmp/untar/tree || fail "diff -r after tar"
	tree_manifest /tmp/src tree >>$K/MANIFEST.sha256 || fail "manifest"
}

# c_bigfile MIB: write a random file of MIB MiB, read it back, compare sums.
c_bigfile() {
	dd if=/dev/urandom of=/tmp/big.bin bs=1M count="$1" 2>/dev/null || fail "dd urandom"
	sum=$(sha256sum </tmp/big.bin | cut -d' ' -f1)
	# 1 MiB writes: busybox cp's 4 KiB writes are one RPC each with cache=none
	dd if=/tmp/big.bin of=$K/big.bin bs=1M 2>/dev/null || fail "dd to export"
	rm -f /tmp/big.bin
	expect_eq "size" "$(stat -c %s $K/big.bin)" $(($1 * 1048576)) || return 1
	sync && echo 3 >/proc/sys/vm/drop_caches
	expect_eq "sha256 after read back" "$(sha256sum <$K/big.bin | cut -d' ' -f1)" "$sum" || return 1
	echo "$sum  big.bin" >>$K/MANIFEST.sha256
}

c_truncate() {
	dd if=/dev/urandom of=/tmp/t.bin bs=4097 count=1 2>/dev/null && cp /tmp/t.bin $W/t.bin || fail "setup"
	truncate -s 1000 $W/t.bin || fail "truncate shrink"
	expect_eq "size after shrink" "$(stat -c %s $W/t.bin)" 1000 || return 1
	head -c 1000 /tmp/t.bin | cmp - $W/t.bin || fail "content after shrink"
	truncate -s 65536 $W/t.bin || fail "truncate grow"
	expect_eq "size after grow" "$(stat -c %s $W/t.bin)" 65536 || return 1
	expect_eq "grown tail reads as zeros" "$(tail -c 64536 $W/t.bin | tr -d '\0' | wc -c)" 0
}

c_chmod() {
	echo mode >$K/mode-640 || fail "create"
	chmod 0640 $K/mode-640 && expect_eq "mode 640" "$(stat -c %a $K/mode-640)" 640 || return 1
	chmod 0755 $W/t.bin && expect_eq "mode 755" "$(stat -c %a $W/t.bin)" 755 || return 1
	mkdir $W/mdir && chmod 0711 $W/mdir && expect_eq "dir mode 711" "$(stat -c %a $W/mdir)" 711
}

c_mtime() {
	touch -t 202001020304.05 $W/t.bin || fail "touch -t"
	expect_eq "mtime set explicitly" "$(stat -c %Y $W/t.bin)" 1577934245
}

c_fsync() {
	echo data >$W/fs.txt || fail "create"
	# Without .L, fsync is a Twstat with every field "don't touch"; a server
	# that never answers it would hang the run, hence the timeouts.
	timeout 10 sync $W/fs.txt || fail "sync FILE (fsync)"
	timeout 10 dd if=/dev/zero of=$W/fs2.bin bs=64k count=2 conv=fsync 2>/dev/null || fail "dd conv=fsync"
}

c_symlink() {
	ln -s hello.txt $K/link-to-hello || fail "ln -s"
	expect_eq "readlink" "$(readlink $K/link-to-hello)" hello.txt || return 1
	expect_eq "lstat type" "$(stat -c %F $K/link-to-hello)" "symbolic link" || return 1
	expect_eq "read through symlink" "$(head -n 1 $K/link-to-hello)" "hello from the ninep kernel test" || return 1
	ln -s /nonexistent/target $W/dangling && expect_eq "readlink dangling" "$(readlink $W/dangling)" /nonexistent/target
}

c_hardlink() {
	echo "linked" >$K/hard-a && ln $K/hard-a $K/hard-b || fail "ln"
	expect_eq "nlink" "$(stat -c %h $K/hard-a)" 2 || return 1
	expect_eq "same inode" "$(stat -c %i $K/hard-a)" "$(stat -c %i $K/hard-b)" || return 1
	echo "via b" >>$K/hard-b && expect_eq "write via b seen via a" "$(tail -n 1 $K/hard-a)" "via b"
}

c_unlinked_read() {
	echo "still here" >$W/ul1 || fail "create"
	exec 3<$W/ul1 || fail "open"
	rm $W/ul1 || fail "rm"
	got=$(cat <&3)
	exec 3<&-
	expect_eq "read via fd after unlink" "$got" "still here"
}

c_remount() {
	umount /mnt || fail "umount"
	ninep_mount /mnt || fail "remount"
	(cd $K && sha256sum -c MANIFEST.sha256) || fail "manifest check after remount"
	umount /mnt || fail "final umount"
}
