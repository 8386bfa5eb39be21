#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots a throwaway Linux guest whose only way out is a 9P server on the
# host's loopback, runs one workload script in it with the real kernel 9P
# client (v9fs), and exits 0 iff the guest reported NINEP-GUEST-RESULT: PASS.
#
# Usage: run-guest.sh --port PORT --workload SCRIPT [--timeout SECS]
#                     [--mount-opts OPTS] [--log FILE] [--cache-dir DIR]
#        run-guest.sh --virtfs DIR --workload SCRIPT ...   (harness self-test:
#                     QEMU's own virtio-9p server instead of a TCP server)
#
#   --port PORT        the 9P server's TCP port on 127.0.0.1
#   --workload SCRIPT  busybox-sh script run in the guest (see workload-lib.sh)
#   --timeout SECS     hard limit for the whole boot; qemu is killed after it
#                      (default 300)
#   --mount-opts OPTS  v9fs options besides trans/port, comma-separated
#                      (default version=9p2000.L,msize=262144,cache=none)
#   --log FILE         keep the guest console log here
#   --cache-dir DIR    where the cached initramfs lives
#                      (default ${TMPDIR:-/tmp}/ninep-kernel-guest)
#
# Network: QEMU user networking with restrict=on, so the guest reaches nothing
# except 10.0.2.100:564, which a guestfwd rule turns into a *new* socat
# connection to 127.0.0.1:PORT for every guest connection (the cmd: form; the
# tcp: form would connect once at startup and allow only one mount).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
port=
workload=
timeout_s=300
mount_opts=version=9p2000.L,msize=262144,cache=none
log=
virtfs=
cache_dir=${TMPDIR:-/tmp}/ninep-kernel-guest
mem=1024

usage() { sed -n '/^# Usage:/,/^# Network:/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--port) port=$2; shift 2 ;;
	--workload) workload=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--mount-opts) mount_opts=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--cache-dir) cache_dir=$2; shift 2 ;;
	--virtfs) virtfs=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run-guest: unknown argument $1" >&2; usage ;;
	esac
done
[ -n "$workload" ] && [ -f "$workload" ] || { echo "run-guest: --workload SCRIPT required" >&2; usage; }
[ -n "$port" ] || [ -n "$virtfs" ] || { echo "run-guest: --port PORT required" >&2; usage; }
case "$mount_opts" in *" "*) echo "run-guest: mount options must not contain spaces" >&2; exit 2 ;; esac
for tool in qemu-system-x86_64 cpio gzip; do
	command -v "$tool" >/dev/null || { echo "run-guest: $tool not found" >&2; exit 2; }
done
[ -n "$virtfs" ] || command -v socat >/dev/null || { echo "run-guest: socat not found" >&2; exit 2; }

"$here/make-initramfs.sh" "$cache_dir"

run=$(mktemp -d "${TMPDIR:-/tmp}/ninep-guest-run.XXXXXX")
qemu_pid=
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Per-run archive holding just the workload; appended to the cached base.
mkdir -p "$run/extra"
install -m 0755 "$workload" "$run/extra/workload.sh"
(cd "$run/extra" && echo workload.sh | cpio -o -H newc --quiet -R 0:0) >"$run/extra.cpio"
# The kernel only recognises an uncompressed cpio header at a 4-byte aligned
# offset (zero bytes between archives are skipped), so pad the gzip stream.
cp "$cache_dir/initramfs.cpio.gz" "$run/initrd"
size=$(stat -c %s "$run/initrd")
head -c $(((4 - size % 4) % 4)) /dev/zero >>"$run/initrd"
cat "$run/extra.cpio" >>"$run/initrd"

# The in-guest watchdog fires a little before the host's hard kill so a
# hung workload still produces a FAIL line with a reason.
guest_timeout=$((timeout_s > 30 ? timeout_s - 15 : timeout_s))
append="console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4 ninep.timeout=$guest_timeout ninep.opts=$mount_opts"

qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
	-accel tcg,thread=multi -cpu max -smp 2 -m "$mem"
	-serial stdio -monitor none)
# PVH boot of the raw vmlinux through qboot skips the bzImage decompression
# and SeaBIOS; fall back to the bzImage when either piece is missing.
if [ -f "$cache_dir/vmlinux" ] && [ -f /usr/share/qemu/qboot.rom ] && [ -z "${NINEP_GUEST_NO_PVH:-}" ]; then
	qemu+=(-machine q35 -bios /usr/share/qemu/qboot.rom -kernel "$cache_dir/vmlinux")
else
	qemu+=(-machine q35 -kernel "$cache_dir/bzImage")
fi
qemu+=(-initrd "$run/initrd")
if [ -n "$virtfs" ]; then
	qemu+=(-virtfs "local,path=$virtfs,mount_tag=ninep,security_model=passthrough,id=fs0")
	append+=" ninep.trans=virtio"
else
	qemu+=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:564-cmd:socat - TCP:127.0.0.1:$port"
		-device virtio-net-pci,netdev=n0)
	append+=" ninep.trans=tcp ninep.server=10.0.2.100 ninep.port=564"
fi
qemu+=(-append "$append")

logfile=$run/console.log
start=$(date +%s)
# stdin from /dev/null: no tty in CI, and qemu must not read the terminal.
"${qemu[@]}" </dev/null >"$logfile" 2>&1 &
qemu_pid=$!
timed_out=
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ $(($(date +%s) - start)) -ge "$timeout_s" ]; then
		timed_out=1
		kill -9 "$qemu_pid" 2>/dev/null || true
		break
	fi
	sleep 0.5
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
elapsed=$(($(date +%s) - start))
[ -n "$log" ] && cp "$logfile" "$log"

# The serial console uses CRLF; only a line that is exactly the sentinel counts.
result=$(tr -d '\r' <"$logfile" | grep -E '^NINEP-GUEST-RESULT: ' | tail -n 1 || true)
name=$(basename "$workload")
if [ "$result" = "NINEP-GUEST-RESULT: PASS" ] && [ -z "$timed_out" ]; then
	tr -d '\r' <"$logfile" | grep -E '^(ok|not ok) [0-9]+ |^# ' || true
	echo "run-guest: $name PASS in ${elapsed}s"
	exit 0
fi
echo "run-guest: ----- guest console log ($name) -----"
tr -d '\r' <"$logfile"
echo "run-guest: ----- end of guest console log -----"
if [ -n "$timed_out" ]; then
	echo "run-guest: $name FAIL: killed after hard timeout of ${timeout_s}s"
else
	echo "run-guest: $name FAIL: ${result:-no NINEP-GUEST-RESULT line} (${elapsed}s)"
fi
exit 1
