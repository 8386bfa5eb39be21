#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the base initramfs of the kernel-client test guest:
#   OUTDIR/initramfs.cpio.gz   busybox-static, the 9P/virtio modules, /init,
#                              the workload library and ninep-helper
#   OUTDIR/vmlinux             uncompressed kernel for PVH boot with qboot
#                              (only when it can be extracted)
#   OUTDIR/bzImage             symlink to the kernel for the SeaBIOS fallback
# The per-run workload is NOT in here: run-guest.sh appends a second, tiny cpio
# (the kernel unpacks concatenated archives), so the base is built once.
#
# Concurrent runs (ctest -j) are safe: each writes its own temporary files and renames them.
# Usage: make-initramfs.sh OUTDIR
# Env:   NINEP_GUEST_KERNEL=/boot/vmlinuz-X  (default: newest in /boot)
#        CC                                   (default: cc) for ninep-helper
# Cached: does nothing when OUTDIR/stamp matches the hash of all inputs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-initramfs.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Newest installed kernel unless told otherwise; the host's running kernel is
# irrelevant (it has no 9p module on these machines).
kernel=${NINEP_GUEST_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -f "$kernel" ] || { echo "make-initramfs: no kernel in /boot (install linux-image-amd64)" >&2; exit 1; }
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || { echo "make-initramfs: $moddir/modules.dep missing" >&2; exit 1; }
busybox=${NINEP_GUEST_BUSYBOX:-/bin/busybox}
# The guest has no libc: only a static busybox works.
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "make-initramfs: need a static $busybox (apt-get install busybox-static)" >&2
	exit 1
fi

# Modules the guest needs; their dependencies come from modules.dep.
wanted=(9p 9pnet_fd 9pnet_virtio virtio_pci virtio_net)

inputs_hash() {
	{
		echo "$kernel $kver"
		sha256sum "$kernel" "$busybox" "$moddir/modules.dep" \
			"$here/make-initramfs.sh" "$here/guest-init.sh" \
			"$here/workload-lib.sh" "$here/guest-helper.c"
		echo "${wanted[*]}" "${CC:-cc}"
	} | sha256sum | cut -d' ' -f1
}
hash=$(inputs_hash)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$hash" ] && [ -f "$out/initramfs.cpio.gz" ]; then
	exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ninep-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules,lib/ninep,proc,sys,dev,tmp,mnt,run,etc}

# busybox and its applet links (relative symlinks so chroot-free layout works).
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
done

# Resolve modules.dep into a load order: dependencies before dependents.
declare -A dep_of path_of seen
while IFS= read -r line; do
	mod=${line%%:*}
	name=${mod##*/}
	name=${name%%.ko*}
	path_of[$name]=$mod
	dep_of[$name]=${line#*:}
done <"$moddir/modules.dep"
order=()
visit() {
	local name=$1 dep dname
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	[ -n "${path_of[$name]:-}" ] || { echo "make-initramfs: module $name not in modules.dep (built in?)" >&2; return 0; }
	for dep in ${dep_of[$name]}; do
		dname=${dep##*/}
		visit "${dname%%.ko*}"
	done
	order+=("$name")
}
for m in "${wanted[@]}"; do visit "$m"; done
: >"$stage/lib/modules/load-order"
for name in "${order[@]}"; do
	src=$moddir/${path_of[$name]}
	case "$src" in
	*.ko.xz) xz -dc "$src" >"$stage/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$src" >"$stage/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$src" >"$stage/lib/modules/$name.ko" ;;
	*) cp "$src" "$stage/lib/modules/$name.ko" ;;
	esac
	echo "$name.ko" >>"$stage/lib/modules/load-order"
done

install -m 0755 "$here/guest-init.sh" "$stage/init"
install -m 0644 "$here/workload-lib.sh" "$stage/lib/ninep/workload-lib.sh"

# ninep-helper: optional. Without a C compiler the checks that need it report
# "skip" instead of silently passing.
if "${CC:-cc}" -static -O2 -Wall -Wextra -o "$stage/bin/ninep-helper" "$here/guest-helper.c" 2>"$stage/cc.log"; then
	strip "$stage/bin/ninep-helper" 2>/dev/null || true
else
	echo "make-initramfs: warning: could not build ninep-helper statically; lock/unlinked checks will be skipped" >&2
	cat "$stage/cc.log" >&2
	rm -f "$stage/bin/ninep-helper"
fi
rm -f "$stage/cc.log"
echo "root:x:0:0:root:/:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out/initramfs.cpio.gz.tmp.$$"
mv "$out/initramfs.cpio.gz.tmp.$$" "$out/initramfs.cpio.gz"

# vmlinux for PVH boot: the bzImage payload is compressed; find the stream by
# its magic and decompress it. The result must be an ELF with a PVH note
# (CONFIG_PVH=y in Debian), else run-guest.sh falls back to the bzImage.
rm -f "$out/vmlinux" "$out/bzImage"
ln -s "$kernel" "$out/bzImage"
extract_vmlinux() {
	local magic decomp off
	for pair in "fd377a585a00:xz -dc" "1f8b0800:gzip -dc" "28b52ffd:zstd -qdc"; do
		magic=${pair%%:*}
		decomp=${pair#*:}
		# Byte offsets of the magic in the image (usually exactly one).
		for off in $(LC_ALL=C grep -obUaP "$(echo "$magic" | sed 's/../\\x&/g')" "$kernel" | cut -d: -f1); do
			if tail -c +$((off + 1)) "$kernel" | $decomp >"$out/vmlinux.tmp.$$" 2>/dev/null ||
				[ -s "$out/vmlinux.tmp.$$" ]; then
				if head -c 4 "$out/vmlinux.tmp.$$" | grep -q $'^\x7fELF'; then
					mv "$out/vmlinux.tmp.$$" "$out/vmlinux"
					return 0
				fi
			fi
		done
	done
	rm -f "$out/vmlinux.tmp.$$"
	return 1
}
if ! extract_vmlinux; then
	echo "make-initramfs: note: could not extract vmlinux; guests boot the bzImage" >&2
fi
echo "$hash" >"$out/stamp"
