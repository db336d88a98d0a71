#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# guest.sh - PID 1 of the test guest once init has switched to the host's
# root (read-only 9p under a tmpfs overlay): mount what the tool needs, make
# the kernel's own modules and headers visible where the tool looks for them
# (/lib/modules/VERSION/build), run the guest tests with TAP output into the
# results share, and power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
top=$(cd "$(dirname "$0")/../.." && pwd)
out=/ls-out

# /tmp and /run stay those of the overlay (writable, in its tmpfs): a tmpfs
# mounted over /tmp would hide a project cloned there
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
ip link set lo up 2>/dev/null

v=$(uname -r)
mkdir -p /usr/lib/modules
for d in "/ls-kernel/lib/modules/$v" "/ls-kernel/usr/lib/modules/$v"; do
	[ -d "$d" ] && ln -sfn "$d" "/usr/lib/modules/$v"
done
# absolute build links (bullseye, bookworm) point at /usr/src
for d in /ls-kernel/usr/src/* /ls-kernel/usr/lib/linux-kbuild-*; do
	[ -e "$d" ] || continue
	ln -sfn "$d" "${d#/ls-kernel}"
done

test=${ls_test:-$top/tests/vm/guest-tests.sh}
echo "guest: $v, running $test" > /dev/console
if ! cd "$top"; then
	echo "guest: cannot enter $top" > /dev/console
	echo o > /proc/sysrq-trigger
	sleep 10
fi
export LS_VM_ARTIFACTS=$out/artifacts
bash "$test" > "$out/tap" 2> "$out/stderr"
echo $? > "$out/rc"
sync
echo "guest: done" > /dev/console
echo o > /proc/sysrq-trigger
sleep 10
