#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest workload for 9P2000.u (busybox sh, run by the guest's /init; the
# harness passes version=9p2000.u in the mount options).
#
# 9P2000.u is 9P2000 plus numeric ids, symlinks/devices/hard links encoded in
# Tcreate's extension string and errno in Rerror. No locks, no xattrs, no
# renameat: what it supports is exercised here with smaller sizes than the .L
# run, which already covers the heavy lifting. Leaves dotu/keep/ behind for
# kernel-test.sh (MANIFEST.sha256, hello.txt, mode-640, link-to-hello,
# hard-a/hard-b, tree/).
. /lib/ninep/workload-lib.sh

W=/mnt/dotu
K=$W/keep

check "mount (expecting 9p2000.u) and prepare work dir" c_mount || true
if [ "$TAP_FAILED" -ne 0 ]; then
	tap_done
fi
t_symlink_ok() {
	# Symlinks need .u or .L; if the client refuses one, the mount fell back
	# to plain 9P2000 and this run would be testing the wrong dialect.
	ln -s x $W/probe-link && rm $W/probe-link || fail "symlink refused: not a 9p2000.u mount"
}
check "dialect really is 9P2000.u (symlink accepted)" t_symlink_ok
check "create, read, append, write at offset, O_TRUNC" c_basic_io
check "mkdir, rmdir (ENOTEMPTY), rm, rm -rf" c_mkdir_rm
check "rename (in dir, over existing, across dirs, dir)" c_rename
check "listing a directory of 500 entries" c_listing 500
check "cp -a of a tree with a symlink + diff -r + tar back" c_cp_tree yes
check "16 MiB file: write, read back, sha256" c_bigfile 16
check "truncate (shrink, grow with zeros)" c_truncate
check "chmod (verified via stat)" c_chmod
check "mtime via touch -t" c_mtime
check "fsync" c_fsync
check "symlink, readlink, lstat" c_symlink
check "hard link (nlink, shared data)" c_hardlink
check "read an open file after unlink" c_unlinked_read
check "umount, remount, manifest still matches" c_remount
tap_done
