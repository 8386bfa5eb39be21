#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest workload for plain 9P2000 (busybox sh, run by the guest's /init; the
# harness passes version=9p2000 in the mount options).
#
# Plain 9P2000 has no symlinks, hard links, numeric ids or locks, and renames
# only within a directory (Twstat of the name). Checked here: create, read,
# write, mkdir, rename, rm, ls, truncate/chmod/mtime through Twstat, a tree
# copy without symlinks, a 16 MiB file. Leaves 9p2000/keep/ behind for
# kernel-test.sh (MANIFEST.sha256, hello.txt, mode-640, tree/).
. /lib/ninep/workload-lib.sh

W=/mnt/9p2000
K=$W/keep

check "mount (expecting 9p2000) and prepare work dir" c_mount || true
if [ "$TAP_FAILED" -ne 0 ]; then
	tap_done
fi
t_no_symlink() {
	# The client refuses symlinks without .u/.L; if this "works", the mount
	# is not plain 9P2000 and the run is testing the wrong dialect.
	ln -s x $W/should-not-exist 2>/dev/null && fail "symlink worked: not a plain 9P2000 mount"
	return 0
}
check "dialect really is 9P2000 (symlink refused by the client)" t_no_symlink
check "create, read, append, write at offset, O_TRUNC" c_basic_io
check "mkdir, rmdir (ENOTEMPTY), rm, rm -rf" c_mkdir_rm
check "rename (in dir, over existing refused per stat(5), across dirs, dir)" c_rename noreplace
check "listing a directory of 500 entries" c_listing 500
check "cp -a of a tree (no symlink) + diff -r + tar back" c_cp_tree no
check "16 MiB file: write, read back, sha256" c_bigfile 16
check "truncate (shrink, grow with zeros)" c_truncate
check "chmod (verified via stat)" c_chmod
check "mtime via touch -t" c_mtime
check "fsync" c_fsync
check "read an open file after unlink" c_unlinked_read
check "umount, remount, manifest still matches" c_remount
tap_done
