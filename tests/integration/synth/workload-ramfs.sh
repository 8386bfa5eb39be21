#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest workload for examples/ramfs (busybox sh, run by the kernel harness's /init; see
# run-synth-guest.sh). Copies a tree in and out, renames, truncates, removes, and reads the
# ctl tree under aname "ctl".
. /lib/ninep/workload-lib.sh

M=/mnt
S=/tmp/src

t_mount() {
	ninep_mount $M || fail "mount" || return 1
	grep " $M 9p " /proc/mounts || fail "not in /proc/mounts"
}
check "mount ramfs" t_mount || true
[ "$TAP_FAILED" -ne 0 ] && tap_done

t_copy() {
	mkdir -p $S/a/b/c $S/empty || return 1
	echo hello >$S/hello.txt
	dd if=/dev/urandom of=$S/a/random bs=1k count=300 2>/dev/null || fail "dd"
	dd if=/dev/urandom of=$S/a/b/c/deep bs=1 count=12345 2>/dev/null || fail "dd"
	chmod 640 $S/hello.txt
	cp -a $S $M/copy || fail "cp -a" || return 1
	diff -r $S $M/copy || fail "diff -r after cp -a" || return 1
	expect_eq "mode kept" "$(stat -c %a $M/copy/hello.txt)" 640
}
check "cp -a a tree in, diff -r" t_copy

t_rename() {
	mv $M/copy/a $M/moved || fail "mv dir" || return 1
	[ ! -e $M/copy/a ] || fail "old name still there"
	cmp $S/a/random $M/moved/random || fail "content after mv"
	mv $M/copy/hello.txt $M/moved/b/ || fail "mv file across dirs"
	expect_eq "file after mv" "$(cat $M/moved/b/hello.txt)" hello
}
check "rename files and directories" t_rename

t_truncate() {
	f=$M/moved/random
	truncate -s 1000 $f 2>/dev/null || dd if=/dev/null of=$f bs=1 seek=1000 2>/dev/null || fail "truncate"
	expect_eq "size after truncate" "$(stat -c %s $f)" 1000 || return 1
	head -c 1000 $S/a/random | cmp - $f || fail "content after truncate"
	echo new >$f || fail "O_TRUNC write"
	expect_eq "after O_TRUNC" "$(cat $f)" new
	echo more >>$f
	expect_eq "after append" "$(cat $f)" "$(printf 'new\nmore')"
}
check "truncate, O_TRUNC, O_APPEND" t_truncate

t_remove() {
	rm -r $M/copy $M/moved || fail "rm -r" || return 1
	expect_eq "empty root" "$(ls -A $M)" ""
	mkdir $M/d && rmdir $M/d || fail "mkdir/rmdir"
}
check "remove everything" t_remove

t_ctl() {
	ninep_mount /ctl aname=ctl || fail "mount aname=ctl" || return 1
	ls /ctl
	expect_eq "null reads nothing" "$(cat /ctl/null | wc -c)" 0 || return 1
	echo discarded >/ctl/null || fail "write null"
	expect_eq "zero" "$(head -c 100 /ctl/zero | tr -d '\0' | wc -c)" 0 || return 1
	r=$(cat /ctl/requests)
	[ "$r" -gt 10 ] || fail "requests $r"
	expect_eq "loglevel" "$(cat /ctl/loglevel)" info
	echo debug >/ctl/loglevel || fail "set loglevel"
	expect_eq "loglevel after write" "$(cat /ctl/loglevel)" debug
	echo info >/ctl/loglevel
}
check "ctl tree (aname ctl)" t_ctl

tap_done
