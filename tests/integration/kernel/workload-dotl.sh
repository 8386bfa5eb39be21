#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest workload for 9P2000.L (busybox sh, run by the guest's /init).
#
# Works in /mnt/dotl on the export (wiped first) and leaves dotl/keep/ behind
# for kernel-test.sh to verify from the host side: MANIFEST.sha256 (sha256sum
# format, paths relative to keep/), hello.txt, mode-640, link-to-hello,
# hard-a/hard-b, tree/.
#
# Note on `|| fail` everywhere: `set -e` is ignored inside functions called
# from an `if`, which is how check() runs them, so every step that can go wrong
# is tested explicitly; fail/expect_eq also mark the check as failed (see
# check() in workload-lib.sh). A check that cannot fail is worthless.
. /lib/ninep/workload-lib.sh

M=/mnt
W=$M/dotl
K=$W/keep

# ---------------------------------------------------------------- mount ----
t_mount() {
	ninep_mount $M || fail "mount" || return 1
	grep -q " $M 9p " /proc/mounts || fail "not in /proc/mounts" || return 1
	grep " $M 9p " /proc/mounts
	rm -rf $W || fail "wipe $W"
	mkdir -p $K || fail "mkdir $K"
}
check "mount 9p2000.L and prepare work dir" t_mount || true
if [ "$TAP_FAILED" -ne 0 ]; then
	tap_done
fi

# The second mount of the same export is a different 9P session: locks taken
# through it are arbitrated by the server, not by the guest's VFS.
t_mount2() {
	ninep_mount /mnt2 || fail "second mount"
	[ -d /mnt2/dotl/keep ] || fail "second mount does not show dotl/keep"
}
check "second mount of the same export (one connection per mount)" t_mount2

t_statfs() {
	# v9fs reports its own magic (0x01021997); blocks must be plausible.
	stat -f -c '%t %b %S' $M
	expect_eq "statfs type" "$(stat -f -c %t $M)" "1021997" || return 1
	[ "$(stat -f -c %b $M)" -gt 0 ] || fail "zero blocks"
}
check "statfs" t_statfs

# ------------------------------------------------------- create/read/write ----
t_basic_io() {
	echo "hello from the ninep kernel test" >$K/hello.txt || fail "create"
	expect_eq "read back" "$(cat $K/hello.txt)" "hello from the ninep kernel test" || return 1
	echo "second line" >>$K/hello.txt || fail "append"
	expect_eq "line count after O_APPEND" "$(wc -l <$K/hello.txt)" 2 || return 1
	printf 'abc' >$W/overwrite && printf 'X' | dd of=$W/overwrite bs=1 seek=1 conv=notrunc 2>/dev/null ||
		fail "write at offset"
	expect_eq "pwrite in the middle" "$(cat $W/overwrite)" "aXc"
}
check "create, read, append, write at offset" t_basic_io

t_mkdir_rmdir() {
	mkdir $W/d1 && mkdir -p $W/d1/d2/d3 || fail "mkdir"
	mkdir $W/d1 2>/dev/null && fail "mkdir of an existing dir succeeded"
	echo x >$W/d1/d2/f || fail "create in nested dir"
	rmdir $W/d1/d2 2>/dev/null && fail "rmdir of a non-empty dir succeeded"
	rm -rf $W/d1 || fail "rm -rf"
	[ ! -e $W/d1 ] || fail "d1 still exists after rm -rf"
}
check "mkdir, rmdir (ENOTEMPTY), rm -rf" t_mkdir_rmdir

# ------------------------------------------------------------ cp -a tree ----
t_cp_tree() {
	rm -rf /tmp/src && make_tree /tmp/src || fail "make tree in tmpfs"
	cp -a /tmp/src $K/tree || fail "cp -a to export"
	diff -r /tmp/src $K/tree || fail "diff -r differs"
	tree_listing /tmp/src >/tmp/l1 && tree_listing $K/tree >/tmp/l2 || fail "listing"
	diff /tmp/l1 /tmp/l2 || fail "types/modes/sizes/link targets differ"
	# cp -a keeps mtimes (whole seconds: v9fs drops sub-second parts).
	expect_eq "mtime kept" "$(stat -c %Y $K/tree/a/hello.txt)" "$(stat -c %Y /tmp/src/a/hello.txt)" || return 1
	# sums of the tmpfs originals, for the host-side check of the export
	tree_manifest /tmp/src tree >>$K/MANIFEST.sha256 || fail "manifest"
}
check "cp -a of a tree + diff -r" t_cp_tree

t_tar() {
	rm -rf /tmp/untar && mkdir /tmp/untar || fail "mkdir"
	(cd $K && tar cf - tree) | (cd /tmp/untar && tar xf -) || fail "tar pipe"
	diff -r /tmp/src /tmp/untar/tree || fail "diff -r after tar"
	tree_listing /tmp/untar/tree >/tmp/l3 || fail "listing"
	diff /tmp/l1 /tmp/l3 || fail "types/modes/sizes/link targets differ after tar"
	# and the other direction: tar x onto the export
	(cd /tmp/untar && tar cf - tree) | (cd $W && mkdir tarx && cd tarx && tar xf -) || fail "tar x to export"
	diff -r /tmp/src $W/tarx/tree || fail "diff -r after tar x to export"
}
check "tar round trip (export -> tmpfs, tmpfs -> export)" t_tar

# ----------------------------------------------------- rename/link/symlink ----
t_rename() {
	echo one >$W/r1 && echo two >$W/r2 && mkdir -p $W/rdir/sub || fail "setup"
	mv $W/r1 $W/r1b || fail "rename in dir"
	[ ! -e $W/r1 ] && expect_eq "renamed content" "$(cat $W/r1b)" one || fail "old name still there"
	mv $W/r1b $W/rdir/sub/r1c || fail "rename across dirs"
	expect_eq "moved content" "$(cat $W/rdir/sub/r1c)" one || return 1
	mv -f $W/r2 $W/rdir/sub/r1c || fail "rename over existing file"
	expect_eq "replaced content" "$(cat $W/rdir/sub/r1c)" two || return 1
	[ ! -e $W/r2 ] || fail "source of replacing rename still exists"
	mv $W/rdir $W/rdir2 || fail "rename directory"
	expect_eq "content under renamed dir" "$(cat $W/rdir2/sub/r1c)" two || return 1
	# an open file survives the rename of its name
	exec 5<$W/rdir2/sub/r1c && mv $W/rdir2/sub/r1c $W/rdir2/sub/r1d || fail "rename while open"
	expect_eq "read after rename while open" "$(cat <&5)" two || return 1
	exec 5<&-
}
check "rename (file, across dirs, over existing, dir, while open)" t_rename

t_hardlink() {
	echo "linked" >$K/hard-a && ln $K/hard-a $K/hard-b || fail "ln"
	expect_eq "nlink of a" "$(stat -c %h $K/hard-a)" 2 || return 1
	expect_eq "nlink of b" "$(stat -c %h $K/hard-b)" 2 || return 1
	expect_eq "same inode" "$(stat -c %i $K/hard-a)" "$(stat -c %i $K/hard-b)" || return 1
	echo "via b" >>$K/hard-b || fail "append via b"
	expect_eq "write via b seen via a" "$(tail -n 1 $K/hard-a)" "via b" || return 1
	ln $K/hard-a $W/hard-c && rm $W/hard-c || fail "third link"
	expect_eq "nlink after unlink of third" "$(stat -c %h $K/hard-a)" 2
}
check "hard link (nlink via stat, shared data)" t_hardlink

t_symlink() {
	ln -s hello.txt $K/link-to-hello || fail "ln -s"
	expect_eq "readlink" "$(readlink $K/link-to-hello)" hello.txt || return 1
	[ -L $K/link-to-hello ] || fail "not a symlink (lstat)"
	expect_eq "lstat type" "$(stat -c %F $K/link-to-hello)" "symbolic link" || return 1
	expect_eq "read through symlink" "$(head -n 1 $K/link-to-hello)" "hello from the ninep kernel test" || return 1
	ln -s /nonexistent/target $W/dangling || fail "dangling symlink"
	expect_eq "readlink dangling" "$(readlink $W/dangling)" /nonexistent/target || return 1
	[ ! -e $W/dangling ] || fail "dangling symlink resolves"
	long=$(printf '%0200d' 0)
	ln -s "$long" $W/longlink && expect_eq "200-byte target" "$(readlink $W/longlink)" "$long"
}
check "symlink, readlink, lstat, dangling" t_symlink

# ---------------------------------------------------------- big directory ----
t_bigdir() {
	mkdir $W/many || fail "mkdir" || return 1
	t0=$(date +%s)
	create_files $W/many 5000 || return 1
	echo "created 5000 files in $(($(date +%s) - t0))s"
	ls $W/many >/tmp/many.ls || fail "ls"
	echo "listed in $(($(date +%s) - t0))s"
	expect_eq "ls | wc -l" "$(wc -l </tmp/many.ls)" 5000 || return 1
	# every name exactly once (readdir offsets must resume correctly)
	expect_eq "unique names" "$(sort -u /tmp/many.ls | wc -l)" 5000 || return 1
	grep -qx f4999 /tmp/many.ls || fail "f4999 missing" || return 1
	delete_files $W/many
	echo "deleted in $(($(date +%s) - t0))s"
	expect_eq "entries after delete" "$(ls -A $W/many | wc -l)" 0 || return 1
	rmdir $W/many || fail "rmdir many"
}
check "directory with 5000 entries (create, ls | wc -l, delete)" t_bigdir

# --------------------------------------------------------------- big file ----
t_bigfile() {
	t0=$(date +%s)
	dd if=/dev/urandom of=/tmp/big.bin bs=1M count=64 2>/dev/null || fail "dd urandom"
	sum=$(sha256sum </tmp/big.bin | cut -d' ' -f1)
	echo "generated in $(($(date +%s) - t0))s"
	# dd with 1 MiB blocks, not cp: busybox cp writes 4 KiB at a time, and
	# with cache=none every write(2) is a Twrite, 16384 of them at TCG speed
	# (~50 s); 1 MiB writes become msize-sized Twrites.
	dd if=/tmp/big.bin of=$K/big.bin bs=1M 2>/dev/null || fail "dd to export"
	echo "written in $(($(date +%s) - t0))s"
	rm -f /tmp/big.bin
	expect_eq "size" "$(stat -c %s $K/big.bin)" 67108864 || return 1
	# cache=none: the read goes to the server, not the page cache; drop
	# caches anyway in case the harness mounts with a cache mode.
	sync && echo 3 >/proc/sys/vm/drop_caches
	back=$(sha256sum <$K/big.bin | cut -d' ' -f1)
	echo "read back in $(($(date +%s) - t0))s"
	expect_eq "sha256 after read back" "$back" "$sum" || return 1
	echo "$sum  big.bin" >>$K/MANIFEST.sha256
}
check "64 MiB file: write, read back, sha256" t_bigfile

# --------------------------------------------------------- setattr family ----
t_truncate() {
	dd if=/dev/urandom of=/tmp/t.bin bs=4097 count=1 2>/dev/null && cp /tmp/t.bin $W/t.bin || fail "setup"
	truncate -s 1000 $W/t.bin || fail "truncate shrink"
	expect_eq "size after shrink" "$(stat -c %s $W/t.bin)" 1000 || return 1
	head -c 1000 /tmp/t.bin | cmp - $W/t.bin || fail "content after shrink"
	truncate -s 1048576 $W/t.bin || fail "truncate grow"
	expect_eq "size after grow" "$(stat -c %s $W/t.bin)" 1048576 || return 1
	expect_eq "grown tail reads as zeros" "$(tail -c 1047576 $W/t.bin | tr -d '\0' | wc -c)" 0 || return 1
	truncate -s 0 $W/t.bin && expect_eq "size after truncate to 0" "$(stat -c %s $W/t.bin)" 0 || return 1
	# O_TRUNC on open
	echo abc >$W/t.bin && echo d >$W/t.bin && expect_eq "O_TRUNC" "$(cat $W/t.bin)" d
}
check "truncate (shrink, grow with zeros, to 0, O_TRUNC)" t_truncate

t_chmod() {
	echo mode >$K/mode-640 || fail "create"
	chmod 0640 $K/mode-640 && expect_eq "mode 640" "$(stat -c %a $K/mode-640)" 640 || return 1
	chmod 0755 $W/t.bin && expect_eq "mode 755" "$(stat -c %a $W/t.bin)" 755 || return 1
	chmod u-x,g=,o= $W/t.bin && expect_eq "symbolic chmod" "$(stat -c %a $W/t.bin)" 600 || return 1
	mkdir $W/mdir && chmod 0711 $W/mdir && expect_eq "dir mode 711" "$(stat -c %a $W/mdir)" 711 || return 1
	chmod 1777 $W/mdir && expect_eq "sticky dir" "$(stat -c %a $W/mdir)" 1777
}
check "chmod (verified via stat)" t_chmod

t_times() {
	touch -t 202001020304.05 $W/t.bin || fail "touch -t"
	# 2020-01-02 03:04:05 UTC (the guest has no TZ, so UTC)
	expect_eq "mtime set explicitly" "$(stat -c %Y $W/t.bin)" 1577934245 || return 1
	touch $W/t.bin || fail "touch now"
	now=$(date +%s)
	m=$(stat -c %Y $W/t.bin)
	[ $((now - m)) -lt 120 ] && [ $((m - now)) -lt 120 ] || fail "mtime 'now' is $m, guest clock $now"
}
check "utimes (touch -t, touch now)" t_times

t_fsync() {
	echo data >$W/fs.txt || fail "create"
	# busybox `sync FILE` is fsync(2) (`sync -d` fdatasync, `sync -f` syncfs)
	sync $W/fs.txt || fail "sync FILE (fsync)"
	sync -d $W/fs.txt || fail "sync -d FILE (fdatasync)"
	dd if=/dev/zero of=$W/fs2.bin bs=64k count=4 conv=fsync 2>/dev/null || fail "dd conv=fsync"
	sync -f $W/fs.txt || fail "sync -f (syncfs)"
	if have_helper; then ninep-helper fsync $W/fs.txt || fail "helper fsync/fdatasync"; fi
}
check "fsync / fdatasync / syncfs" t_fsync

# ------------------------------------------------------------------ locks ----
# hold_lock KIND ARGS...: start ninep-helper KIND-hold in the background and
# wait until it holds the lock; sets HOLDER.
hold_lock() {
	rm -f /tmp/ready
	ninep-helper "$@" /tmp/ready &
	HOLDER=$!
	wait_for /tmp/ready || { kill $HOLDER; fail "holder never got the lock"; }
}
release_lock() {
	kill $HOLDER 2>/dev/null
	wait $HOLDER 2>/dev/null
	return 0
}

t_flock_local() {
	: >$W/flock-file
	hold_lock flock-hold $W/flock-file || return 1
	ninep-helper flock-try $W/flock-file
	rc=$?
	release_lock
	expect_eq "flock -n from another process, same mount (1 = EWOULDBLOCK)" $rc 1 || return 1
	ninep-helper flock-try $W/flock-file || fail "flock after holder exited"
}
t_flock_remote() {
	: >$W/flock-file2
	hold_lock flock-hold $W/flock-file2 || return 1
	ninep-helper flock-try /mnt2/dotl/flock-file2
	rc=$?
	release_lock
	expect_eq "flock -n through the second mount (1 = EWOULDBLOCK)" $rc 1 || return 1
	ninep-helper flock-try /mnt2/dotl/flock-file2 || fail "flock through second mount after release"
}
# One scenario, reported as separate checks so a server that only gets part
# of POSIX record locking right shows exactly which part.
# Mount 1 holds a write lock on bytes [0,10); mount 2 (another 9P session,
# so only the server can see the conflict) then probes.
lock_scenario() {
	: >$W/range-file
	hold_lock lock-hold $W/range-file 0 10 || return 1
	ninep-helper lock-try /mnt2/dotl/range-file 5 10
	LK_OVERLAP=$?
	ninep-helper lock-try /mnt2/dotl/range-file 100 10
	LK_DISJOINT=$?
	ninep-helper lock-test /mnt2/dotl/range-file 0 1
	LK_GETLK=$?
	release_lock
	ninep-helper lock-try /mnt2/dotl/range-file 0 10
	LK_AFTER=$?
}
t_lk_overlap() { expect_eq "lock-try [5,15) while [0,10) held (1 = refused)" $LK_OVERLAP 1; }
t_lk_disjoint() { expect_eq "lock-try [100,110) while [0,10) held (0 = granted)" $LK_DISJOINT 0; }
t_lk_getlk() { expect_eq "F_GETLK on [0,1) while [0,10) held (1 = holder reported)" $LK_GETLK 1; }
t_lk_after() { expect_eq "lock-try [0,10) after the holder exited (0 = granted)" $LK_AFTER 0; }
if have_helper; then
	check "flock: second process gets EWOULDBLOCK (same mount)" t_flock_local
	check "flock: second session gets EWOULDBLOCK (server-side)" t_flock_remote
	LK_OVERLAP=x LK_DISJOINT=x LK_GETLK=x LK_AFTER=x
	lock_scenario >/tmp/lock.out 2>&1
	sed 's/^/    # /' /tmp/lock.out
	check "fcntl lock: overlapping range refused across sessions" t_lk_overlap
	check "fcntl lock: disjoint byte range granted across sessions" t_lk_disjoint
	check "fcntl lock: F_GETLK reports the other session's lock" t_lk_getlk
	check "fcntl lock: released when the holder exits" t_lk_after
else
	skip "flock: second process gets EWOULDBLOCK (same mount)" "no ninep-helper"
	skip "flock: second session gets EWOULDBLOCK (server-side)" "no ninep-helper"
	for n in "overlapping range refused" "disjoint byte range granted" "F_GETLK reports the other session's lock" "released when the holder exits"; do
		skip "fcntl lock: $n" "no ninep-helper"
	done
fi

# ------------------------------------------------------ open after unlink ----
t_unlinked_read() {
	echo "still here" >$W/ul1 || fail "create"
	exec 3<$W/ul1 || fail "open"
	rm $W/ul1 || fail "rm"
	[ ! -e $W/ul1 ] || fail "name still exists"
	got=$(cat <&3)
	exec 3<&-
	expect_eq "read via fd after unlink" "$got" "still here"
}
check "read an open file after unlink" t_unlinked_read

t_unlinked_rw_stat() {
	echo "before" >$W/ul2 || fail "create"
	exec 4<>$W/ul2 || fail "open rw"
	rm $W/ul2 || fail "rm"
	echo "0123456789" >&4 || fail "write via fd after unlink"
	# busybox stat (a child process, which inherits fd 4) follows the
	# /proc/self/fd link to the unlinked inode: Tgetattr on the open fid.
	size=$(stat -L -c %s /proc/self/fd/4)
	src=$?
	exec 4<&-
	[ $src -eq 0 ] || fail "stat -L /proc/self/fd/4 failed" || return 1
	expect_eq "size via /proc/self/fd after write" "$size" 11
}
check "write + fstat an open file after unlink (/proc/self/fd)" t_unlinked_rw_stat

if have_helper; then
	check "fstat/pwrite/pread/ftruncate/fchmod after unlink (helper)" ninep-helper unlinked $W/ul3
else
	skip "fstat/pwrite/pread/ftruncate/fchmod after unlink (helper)" "no ninep-helper"
fi

# ---------------------------------------------------------- special files ----
# The server never opens a FIFO or device node (issue 10): v9fs handles them on the client
# side, so they work as on a local filesystem. mknod of a device needs `serve --allow-devices`.
t_special_files() {
	mkfifo $W/fifo || fail "mkfifo" || return 1
	[ -p $W/fifo ] || fail "mkfifo made no FIFO" || return 1
	(echo "through the fifo" >$W/fifo) &
	got=$(timeout 30 cat $W/fifo)
	wait
	expect_eq "data from one process to another through the FIFO" "$got" "through the fifo" ||
		return 1
	mknod $W/null c 1 3 || fail "mknod c 1 3" || return 1
	[ -c $W/null ] || fail "mknod made no character device" || return 1
	echo discarded >$W/null || fail "write to the device node (the guest's null)" || return 1
	expect_eq "read from the device node" "$(wc -c <$W/null)" 0 || return 1
	rm $W/fifo $W/null || fail "rm"
}
check "mkfifo + FIFO between two processes, mknod c 1 3 (client-side special files)" t_special_files

# removexattr is a zero-size Txattrcreate with XATTR_REPLACE then Tclunk (issue 11).
t_xattr_remove() {
	echo x >$W/xa || fail "create" || return 1
	ninep-helper xattr-set $W/xa user.x 1 || fail "setxattr user.x" || return 1
	expect_eq "getxattr user.x" "$(ninep-helper xattr-get $W/xa user.x)" 1 || return 1
	ninep-helper xattr-remove $W/xa user.x || fail "removexattr user.x" || return 1
	ninep-helper xattr-get $W/xa user.x
	expect_eq "getxattr after removexattr (exit 1: ENODATA)" "$?" 1
}
if have_helper && ninep-helper xattr-set $W/keep user.probe 1; then
	ninep-helper xattr-remove $W/keep user.probe
	check "setxattr, getxattr, removexattr: the attribute is gone" t_xattr_remove
else
	skip "setxattr, getxattr, removexattr: the attribute is gone" "no ninep-helper or no user xattrs"
fi

# ---------------------------------------------------------- persistence ----
t_remount() {
	echo "$(sha256sum <$K/hello.txt | cut -d' ' -f1)  hello.txt" >>$K/MANIFEST.sha256 || fail "manifest"
	umount /mnt2 || fail "umount second mount"
	umount $M || fail "umount"
	ninep_mount $M || fail "remount"
	# (big.bin was read back already; re-reading 64 MiB costs ~15 s)
	(cd $K && grep -v big.bin MANIFEST.sha256 | sha256sum -c) || fail "manifest check after remount"
	expect_eq "symlink after remount" "$(readlink $K/link-to-hello)" hello.txt || return 1
	diff -r /tmp/src $K/tree || fail "tree after remount"
	umount $M || fail "final umount"
}
check "umount, remount, data still there" t_remount

tap_done
