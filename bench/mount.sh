#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One directory served three ways on this host, the same workload on each, side by side:
#   ninep   `ninep mount` -> `ninep serve` over loopback TCP
#   sshfs   sshfs -> OpenSSH's sftp-server, on a loopback sshd started here with a throwaway host
#           key and user key (Debian sshfs, openssh-server)
#   local   the directory itself (the ceiling)
# Rows: create, stat and unlink 10,000 files; find -ls of a 20,000-entry tree; du -s; a
# sequential write (dd bs=1M conv=fsync) and read (page cache dropped first) of SIZE MiB; untar
# of a source tree (/usr/include). Prints seconds per row and per target, the speed of ninep
# relative to sshfs (sshfs time / ninep time: above 1 is faster) and the fraction of local
# speed (local time / ninep time). One run; the machine is shared, so read the ratios.
#
# Usage: bench/mount.sh [--quick] [--size MIB]    (root: sshd, drop_caches)
#   NINEP=path/to/ninep (default: build/release, else build/debug)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ninep=${NINEP:-$root/build/release/tools/ninep/ninep}
[ -x "$ninep" ] || ninep=$root/build/debug/tools/ninep/ninep
size_mib=1024
files=10000
tree_dirs=20
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) size_mib=128; files=2000; tree_dirs=4; shift ;;
	--size) size_mib=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--size MIB]" >&2; exit 2 ;;
	esac
done
for t in sshfs /usr/sbin/sshd ssh-keygen fusermount3 python3; do
	command -v $t >/dev/null || { echo "bench: $t not found (apt-get install sshfs openssh-server fuse3)" >&2; exit 2; }
done
[ -x "$ninep" ] || { echo "bench: no ninep binary (build it, or set NINEP)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench: run as root (sshd on loopback, drop_caches)" >&2; exit 2; }

work=$(mktemp -d /var/tmp/ninep-mount-bench.XXXXXX)
pids=()
mounts=()
cleanup() {
	for m in "${mounts[@]}"; do fusermount3 -u -z "$m" 2>/dev/null || true; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# The source tree to untar, and the 20,000-entry tree for find and du.
tar -C /usr -cf "$work/src.tar" include
mk_tree() {
	python3 - "$1" "$tree_dirs" <<'EOF'
import os, sys
top, dirs = sys.argv[1], int(sys.argv[2])
for d in range(dirs):
    p = os.path.join(top, f"d{d:02d}")
    os.makedirs(p)
    for i in range(999):
        with open(os.path.join(p, f"f{i:03d}"), "w") as f: f.write("x" * (i % 200))
EOF
}
for t in ninep sshfs local; do
	mkdir -p "$work/$t.export/tree" "$work/$t.mnt"
	mk_tree "$work/$t.export/tree"
done

# ninep
nport=$(free_port)
"$ninep" serve --no-auth --anonymous-user "$(id -un)" --log-level warn \
	--listen "tcp!127.0.0.1!$nport" "$work/ninep.export" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$ninep" ls "tcp!127.0.0.1!$nport" / >/dev/null 2>&1 && break; sleep 0.1; done
"$ninep" mount "tcp!127.0.0.1!$nport" "$work/ninep.mnt"
mounts+=("$work/ninep.mnt")

# sshfs through a throwaway sshd
sport=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$work/userkey"
cp "$work/userkey.pub" "$work/authorized_keys"
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f /dev/null -p "$sport" -o ListenAddress=127.0.0.1 \
	-o HostKey="$work/hostkey" -o AuthorizedKeysFile="$work/authorized_keys" \
	-o PermitRootLogin=yes -o PasswordAuthentication=no -o StrictModes=no -o PidFile=none \
	-o "Subsystem=sftp /usr/lib/openssh/sftp-server" 2>"$work/sshd.log" &
pids+=($!)
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $sport)).close()" 2>/dev/null && break; sleep 0.1; done
sshfs -p "$sport" -o IdentityFile="$work/userkey" -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@127.0.0.1:$work/sshfs.export" "$work/sshfs.mnt"
mounts+=("$work/sshfs.mnt")
ln -s "$work/local.export" "$work/local.dir"

dir_of() { case $1 in local) echo "$work/local.export" ;; *) echo "$work/$1.mnt" ;; esac; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

declare -A secs
rows=(create stat unlink find du write read untar)
run_row() {  # run_row ROW TARGET
	local d; d=$(dir_of "$2")
	local t0 t1
	case $1 in
	create) t0=$(now); python3 -c "
import os, sys
d = sys.argv[1]; os.mkdir(d)
for i in range(int(sys.argv[2])): open(os.path.join(d, f'f{i}'), 'w').close()" "$d/small" "$files"; t1=$(now) ;;
	stat) t0=$(now); python3 -c "
import os, sys
for i in range(int(sys.argv[2])): os.stat(os.path.join(sys.argv[1], f'f{i}'))" "$d/small" "$files"; t1=$(now) ;;
	unlink) t0=$(now); python3 -c "
import os, sys
for i in range(int(sys.argv[2])): os.unlink(os.path.join(sys.argv[1], f'f{i}'))" "$d/small" "$files"; t1=$(now) ;;
	find) drop; t0=$(now); find "$d/tree" -ls >/dev/null; t1=$(now) ;;
	du) drop; t0=$(now); du -s "$d/tree" >/dev/null; t1=$(now) ;;
	write) t0=$(now); dd if=/dev/zero of="$d/big" bs=1M count="$size_mib" conv=fsync status=none; t1=$(now) ;;
	read) drop; t0=$(now); dd if="$d/big" of=/dev/null bs=1M status=none; t1=$(now) ;;
	# sshfs cannot set the times or owner of a symlink whose target is not there (sftp
	# follows links): tar says so and fails; the files are all written, so it is timed anyway.
	untar) mkdir -p "$d/untar"; t0=$(now); tar -C "$d/untar" -xf "$work/src.tar" 2>"$work/tar.$2.err" || echo "bench: tar on $2: $(grep -c Cannot "$work/tar.$2.err") complaints (symlinks)" >&2; t1=$(now) ;;
	esac
	secs[$1.$2]=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
}
for r in "${rows[@]}"; do
	for t in ninep sshfs local; do run_row "$r" "$t"; done
done

echo "bench/mount.sh: $files small files, find/du over $((tree_dirs * 1000)) entries, ${size_mib} MiB dd, untar of /usr/include ($(du -sm "$work/src.tar" | cut -f1) MB)"
printf '%-8s %10s %10s %10s %14s %14s\n' row "ninep s" "sshfs s" "local s" "ninep/sshfs" "of local"
for r in "${rows[@]}"; do
	python3 - "$r" "${secs[$r.ninep]}" "${secs[$r.sshfs]}" "${secs[$r.local]}" <<'EOF'
import sys
r, n, s, l = sys.argv[1], *map(float, sys.argv[2:])
print(f"{r:<8} {n:10.3f} {s:10.3f} {l:10.3f} {s / n:13.2f}x {l / n:13.2f}")
EOF
done
echo "(ninep/sshfs: sshfs time over ninep time, above 1 is faster than sshfs; of local: local time over ninep time)"
