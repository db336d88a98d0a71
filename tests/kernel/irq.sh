#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# irq.sh - the IRQ Storm Detector against the kernel's own counters
# (/proc/softirqs, /proc/interrupts) under network, disk and timer load, and
# the time a pinned thread loses to softirqs steered onto its CPU.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))
OTHER=0

# snapshot FILE: /proc/softirqs and /proc/interrupts now
snapshot() { cat /proc/softirqs >"$1.soft"; cat /proc/interrupts >"$1.irq"; }

# soft_delta VECTOR CPU: /proc/softirqs difference between the snapshots
soft_delta() {
	a=$(awk -v v="$1:" -v c="$2" '$1 == v { print $(c + 2) }' "$TMP/a.soft")
	b=$(awk -v v="$1:" -v c="$2" '$1 == v { print $(c + 2) }' "$TMP/b.soft")
	echo $((b - a))
}

# irq_delta NAME CPU: /proc/interrupts difference for a row ("36:" or "LOC:")
irq_delta() {
	a=$(awk -v v="$1" -v c="$2" '$1 == v { print $(c + 2) }' "$TMP/a.irq")
	b=$(awk -v v="$1" -v c="$2" '$1 == v { print $(c + 2) }' "$TMP/b.irq")
	echo $(( ${b:-0} - ${a:-0} ))
}

# --- counts against /proc, load only in the middle of the window -------------
"$LS" -v --module irq --duration 5 --json -o "$TMP/all.json" 2>"$TMP/all.err" &
L=$!
bg_pids="$bg_pids $L"
wait_for "$TMP/all.err" "latencyscope: tracing CPUs" || diag "never attached"
snapshot "$TMP/a"
"$WL/udp" flood 1 "$OTHER" >/dev/null
dd if=/dev/zero of="$TMP/dd" bs=4k count=1000 oflag=direct 2>/dev/null
"$WL/sleeper" "$CPU" 1000 300 >/dev/null
wait_for "$TMP/all.err" "probes stopped" 15
snapshot "$TMP/b"
wait "$L"
rc=$?
ok "irq module runs on all CPUs (exit $rc)" [ "$rc" -le 2 ]

# softirqs: /proc/softirqs counts each run right before softirq_entry fires,
# so only the window edges (a few ms of background timers) may differ
bad=0
for v in TIMER NET_RX BLOCK SCHED RCU HRTIMER; do
	for c in $(seq 0 "$CPU"); do
		want=$(soft_delta "$v" "$c")
		got=$(jq_ "$TMP/all.json" "[.irq.softirqs[] | select(.vector == \"$v\" and .cpu == $c) | .count] | add // 0")
		tol=$(( want / 50 + 8 ))
		within "$got" "$want" "$tol" >/dev/null || { diag "softirq $v cpu$c: traced $got, /proc $want"; bad=$((bad + 1)); }
	done
done
ok "softirq counts per vector and CPU agree with /proc/softirqs" [ "$bad" -eq 0 ]
ok "the UDP flood shows up as NET_RX" \
	[ "$(jq_ "$TMP/all.json" '[.irq.softirqs[] | select(.vector == "NET_RX") | .count] | add // 0')" -gt 1000 ]

# hard IRQs: one irq_handler_entry per delivery for unshared lines
bad=0
for irq in $(jq_ "$TMP/all.json" '[.irq.hardirqs[].irq] | unique | .[]'); do
	for c in $(seq 0 "$CPU"); do
		want=$(irq_delta "$irq:" "$c")
		got=$(jq_ "$TMP/all.json" "[.irq.hardirqs[] | select(.irq == $irq and .cpu == $c) | .count] | add // 0")
		within "$got" "$want" $(( want / 50 + 3 )) >/dev/null || { diag "IRQ $irq cpu$c: traced $got, /proc $want"; bad=$((bad + 1)); }
	done
done
ok "hard IRQ counts per IRQ and CPU agree with /proc/interrupts" [ "$bad" -eq 0 ]
ok "the O_DIRECT writes show up as block device IRQs" \
	[ "$(jq_ "$TMP/all.json" '[.irq.hardirqs[] | select(.name | test("virtio|nvme|ahci|ata|sd")) | .count] | add // 0')" -ge 900 ]
ok "hard IRQ names come from the tracepoint" \
	[ "$(jq_ "$TMP/all.json" '[.irq.hardirqs[] | select(.name == "" or .name == null)] | length')" = 0 ]

# the local timer: LOC counts every tick; the window edges differ by a few
bad=0
for c in $(seq 0 "$CPU"); do
	want=$(irq_delta "LOC:" "$c")
	got=$(jq_ "$TMP/all.json" "[.irq.vectors[] | select(.name == \"local_timer\" and .cpu == $c) | .count] | add // 0")
	within "$got" "$want" $(( want / 10 + 10 )) >/dev/null || { diag "LOC cpu$c: traced $got, /proc $want"; bad=$((bad + 1)); }
done
ok "local timer interrupts agree with /proc/interrupts LOC" [ "$bad" -eq 0 ]
ok "without --pid the longest interruptions of any task are listed" \
	[ "$(jq_ "$TMP/all.json" '[.irq.worst[] | select(.victim.pid > 0 and .duration_ns > 0)] | length > 0')" = true ]
# the flood's softirqs run in its own context, ~1 us apart: each is its own
# interruption, not one chain the length of the flood. A NET_RX run itself may
# take milliseconds (net_rx_action's time budget), so the bound is the
# longest single NET_RX on that CPU plus what may chain onto it.
ok "back-to-back softirqs a task runs itself are not one endless interruption" \
	[ "$(jq_ "$TMP/all.json" '.irq as $i | [$i.worst[] | select(.source | test("^softirq:NET_RX")) |
		. as $w | ([$i.softirqs[] | select(.vector == "NET_RX" and .cpu == $w.cpu) | .duration_ns.max] | max // 0) as $m |
		select(.duration_ns > $m + 200000)] | length')" = 0 ]
ok "every interruption has a length within the run" \
	[ "$(jq_ "$TMP/all.json" '[.irq.worst[] | select(.duration_ns <= 0 or .duration_ns > 5000000000)] | length')" = 0 ]
ok "durations come with percentiles where the counts allow" \
	[ "$(jq_ "$TMP/all.json" '[.irq.softirqs[] | select(.count >= 100 and .duration_ns.p99 == null)] | length')" = 0 ]

# --- time stolen from a pinned thread by softirqs steered onto its CPU -------
rps=/sys/class/net/lo/queues/rx-0/rps_cpus
if [ -w "$rps" ]; then
	old_rps=$(cat "$rps")
	RESTORE="echo $old_rps >$rps"
	printf '%x\n' $((1 << CPU)) >"$rps"
	bg "$WL/spinner" "$CPU" 0
	T=$BG
	sleep 0.2
	"$LS" -v --module irq --cpus "$CPU" --pid "$T" --duration 3 --json -o "$TMP/st.json" 2>"$TMP/st.err" &
	L=$!
	bg_pids="$bg_pids $L"
	wait_for "$TMP/st.err" "latencyscope: tracing CPUs" || diag "never attached"
	"$WL/udp" flood 1.5 "$OTHER" >/dev/null
	wait "$L"
	rc=$?
	kill "$T"
	echo "$old_rps" >"$rps"
	diag "stolen: $(jq -c '[.irq.stolen_from_targets[] | {source, count, time_ns}][0:3]' "$TMP/st.json")"
	ok "a pinned thread under steered packets loses time to NET_RX" \
		[ "$(jq_ "$TMP/st.json" "[.irq.stolen_from_targets[] | select(.tid == $T and .source == \"softirq:NET_RX\" and .time_ns > 0)] | length")" = 1 ]
	ok "only the monitored thread is charged" \
		[ "$(jq_ "$TMP/st.json" "[.irq.stolen_from_targets[] | select(.tid != $T)] | length")" = 0 ]
	ok "the worst interruptions name the victim and the source" \
		[ "$(jq_ "$TMP/st.json" "[.irq.worst[] | select(.victim.pid == $T and (.source | test(\"^(hardirq|softirq|vector):\")))] | length > 0")" = true ]
	ok "the verdict is a violation (exit $rc)" [ "$rc" -eq 2 ]
else
	ok "RPS on loopback is configurable" false
fi

ok "no BPF program is left attached" no_programs_left
done_testing
