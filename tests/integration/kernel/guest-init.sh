#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the ninep kernel-client test guest (busybox sh, runs as PID 1).
#
# Loads the 9P and virtio modules, brings up the network that QEMU user
# networking provides, runs /workload.sh (appended to the initramfs per run by
# run-guest.sh) and prints exactly one sentinel line that the host greps for:
#   NINEP-GUEST-RESULT: PASS
#   NINEP-GUEST-RESULT: FAIL <reason>
# then powers the machine off. Whatever happens, PID 1 must never exit
# (that panics the kernel and hides the result), so everything funnels into
# finish().
#
# Parameters come from the kernel command line (ninep.NAME=VALUE):
#   ninep.server=IP      9P server address as seen from the guest (10.0.2.100)
#   ninep.port=N         9P TCP port on that address (564)
#   ninep.trans=tcp|virtio   transport; virtio is only for harness self-tests
#   ninep.opts=A,B,...   extra mount options (version=, msize=, cache=, aname=...)
#   ninep.timeout=SECS   in-guest watchdog for the workload

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

finish() {
	# The sentinel is printed on its own line, after a sync of the console.
	echo
	echo "NINEP-GUEST-RESULT: $*"
	sync
	poweroff -f
	# poweroff needs ACPI; reboot -f with qemu -no-reboot ends the VM too.
	reboot -f
	echo o >/proc/sysrq-trigger
	while :; do sleep 1; done
}

mkdir -p /proc /sys /dev /tmp /mnt /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
# Scratch space the workloads copy from/to: RAM-backed, never the export.
mount -t tmpfs -o size=512m tmpfs /tmp
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null

NINEP_SERVER=10.0.2.100
NINEP_PORT=564
NINEP_TRANS=tcp
NINEP_OPTS=
NINEP_TIMEOUT=600
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	ninep.server=*) NINEP_SERVER=${arg#ninep.server=} ;;
	ninep.port=*) NINEP_PORT=${arg#ninep.port=} ;;
	ninep.trans=*) NINEP_TRANS=${arg#ninep.trans=} ;;
	ninep.opts=*) NINEP_OPTS=${arg#ninep.opts=} ;;
	ninep.timeout=*) NINEP_TIMEOUT=${arg#ninep.timeout=} ;;
	esac
done
export NINEP_SERVER NINEP_PORT NINEP_TRANS NINEP_OPTS NINEP_TIMEOUT

# modules.order was computed from modules.dep at build time: dependencies first.
while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "/lib/modules/$mod" || finish "FAIL insmod $mod"
done </lib/modules/load-order

if [ "$NINEP_TRANS" = tcp ]; then
	# QEMU user networking: guest 10.0.2.15, gateway 10.0.2.2. The 9P server
	# is reachable only through the guestfwd rule on $NINEP_SERVER.
	ip link set lo up
	i=0
	while ! ip link show eth0 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || finish "FAIL no eth0"
		sleep 0.1
	done
	ip addr add 10.0.2.15/24 dev eth0 || finish "FAIL ip addr"
	ip link set eth0 up || finish "FAIL ip link up"
	ip route add default via 10.0.2.2 || finish "FAIL ip route"
fi

[ -f /workload.sh ] || finish "FAIL no /workload.sh in initramfs"

echo "ninep-guest: kernel $(uname -r), trans=$NINEP_TRANS server=$NINEP_SERVER:$NINEP_PORT opts=$NINEP_OPTS"
# The workload runs in a child shell so a syntax error or `exit` in it cannot
# take PID 1 down; busybox timeout is the in-guest watchdog (the host has its
# own hard timeout on top).
timeout "$NINEP_TIMEOUT" sh /workload.sh
rc=$?
if [ $rc -eq 0 ]; then
	finish "PASS"
elif [ $rc -eq 143 ] || [ $rc -eq 124 ]; then
	# Show what the check that hung had printed so far.
	[ -f /tmp/.check.out ] && sed 's/^/    # (hung check) /' /tmp/.check.out
	finish "FAIL workload timed out after ${NINEP_TIMEOUT}s"
else
	finish "FAIL workload exit status $rc"
fi
