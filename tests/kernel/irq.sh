#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# irq.sh - the IRQ Storm Detector against the kernel's own counters
# (/proc/softirqs, /proc/interrupts) under network, disk and timer load, and
# the time a pinned thread loses to softirqs steered onto its CPU.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))
OTHER=0

# sampler OUT: /proc/softirqs and /proc/interrupts about every 10 ms, each
# read between two readings of the wall clock ("@ before", "% after": a fork
# takes milliseconds under load), until $TMP/stop exists
sampler() {
	while [ ! -e "$TMP/stop" ]; do
		echo "@ $(date +%s.%N)"
		cat /proc/softirqs /proc/interrupts
		echo "% $(date +%s.%N)"
		sleep 0.01
	done >"$1"
}

# window JSON: the tool's own window, "start end" in epoch seconds
window() {
	local s
	s=$(date -d "$(jq -r .run.started_at "$1")" +%s.%N)
	echo "$s $(echo "$s + $(jq -r .run.duration_s "$1")" | bc)"
}

# range ROW CPU: the least and the most a /proc row ("TIMER:", "LOC:", "36:")
# can have grown over the window ($S to $E), from the samples read wholly
# before or wholly after each edge
range() {
	awk -v r="$1" -v c="$2" -v s="$S" -v e="$E" '
		$1 == "@" { t1 = $2; next }
		$1 == r { v = $(c + 2); next }
		$1 == "%" { t2 = $2
			if (t2 <= s) alo = v; if (t1 >= s && ahi == "") ahi = v
			if (t2 <= e) blo = v; if (t1 >= e && bhi == "") bhi = v }
		END { if (alo == "") alo = ahi; if (ahi == "") ahi = alo
		      if (bhi == "") bhi = blo; if (blo == "") blo = bhi
		      print blo - ahi, bhi - alo }' "$TMP/samples"
}

# in_range GOT ROW CPU SLACK: GOT within the row's range over the window, +- SLACK
in_range() {
	set -- "$1" $(range "$2" "$3") "$4" "$2" "$3"
	[ "$1" -ge $(($2 - $4)) ] && [ "$1" -le $(($3 + $4)) ] && return 0
	diag "$5 cpu$6: traced $1, /proc grew $2 to $3 in the window"
	return 1
}

# --- counts against /proc, load only in the middle of the window -------------
"$LS" -v --module irq --duration 5 --json -o "$TMP/all.json" 2>"$TMP/all.err" &
L=$!
bg_pids="$bg_pids $L"
rm -f "$TMP/stop"
sampler "$TMP/samples" &
SAMPLER=$!
bg_pids="$bg_pids $SAMPLER"
wait_for "$TMP/all.err" "latencyscope: tracing CPUs" || diag "never attached"
"$WL/udp" flood 1 "$OTHER" >/dev/null
dd if=/dev/zero of="$TMP/dd" bs=4k count=1000 oflag=direct 2>/dev/null
"$WL/sleeper" "$CPU" 1000 300 >/dev/null
wait "$L"
rc=$?
touch "$TMP/stop"
wait "$SAMPLER"
read -r S E <<EOF2
$(window "$TMP/all.json")
EOF2
ok "irq module runs on all CPUs (exit $rc)" [ "$rc" -le 2 ]

# softirqs: /proc/softirqs counts each run right before softirq_entry fires;
# compared over the tool's own window (run.started_at + duration_s), between
# the samples that bracket its edges. Some kernels run a few softirqs without
# delivering the tracepoint to BPF (this host's, in idle on CPU 0): the tool
# must never count more than the kernel, must read the kernel's own count
# over its window (kernel_count), and must say when the two differ.
bad=0 unseen=0 total=0 noted=0
for v in HI TIMER NET_TX NET_RX BLOCK IRQ_POLL TASKLET SCHED HRTIMER RCU; do
	for c in $(seq 0 "$CPU"); do
		row="[.irq.softirqs[] | select(.vector == \"$v\" and .cpu == $c)]"
		got=$(jq_ "$TMP/all.json" "$row | map(.count) | add // 0")
		kern=$(jq_ "$TMP/all.json" "$row | map(.kernel_count) | add // 0")
		set -- $(range "$v:" "$c")
		if [ "$got" -gt $(($2 + 2)) ] || [ "$got" -gt $((kern + 1)) ]; then
			diag "$v cpu$c: traced $got, more than the kernel ran (/proc grew $1 to $2, kernel_count $kern)"
			bad=$((bad + 1))
		fi
		# no row: neither BPF nor the kernel (beyond an edge) saw one
		in_range "$kern" "$v:" "$c" 2 || bad=$((bad + 1))
		unseen=$((unseen + kern - got)) total=$((total + kern))
		[ $((kern - got)) -gt 1 ] && noted=$((noted + kern - got))
	done
done
diag "e.g. TIMER cpu$CPU: traced $(jq_ "$TMP/all.json" "[.irq.softirqs[] | select(.vector == \"TIMER\" and .cpu == $CPU) | .count] | add // 0"), /proc grew $(range TIMER: "$CPU" | sed 's/ / to /') in the window ($(grep -c '^%' "$TMP/samples") samples)"
diag "softirqs the kernel ran in the window and BPF did not see: $unseen of $total"
ok "softirq counts per vector and CPU agree with /proc/softirqs" [ "$bad" -eq 0 ]
ok "softirqs the tracepoints missed are few (at most 2 %)" [ $((unseen * 50)) -le "$total" ]
note=$(jq_ "$TMP/all.json" '[.irq.notes[] | select(test("softirqs more than its softirq tracepoints"))] | length')
if [ "$noted" -gt 0 ]; then
	ok "... and the report says how many ($noted)" \
		[ "$(jq_ "$TMP/all.json" ".irq.notes | any(test(\"ran $noted softirqs more than\"))")" = true ]
else
	ok "... and the report says nothing of them when they are edge effects" [ "$note" = 0 ]
fi
ok "the UDP flood shows up as NET_RX" \
	[ "$(jq_ "$TMP/all.json" '[.irq.softirqs[] | select(.vector == "NET_RX") | .count] | add // 0')" -gt 1000 ]

# hard IRQs: one irq_handler_entry per delivery for unshared lines. Never more
# than the kernel counted; a few may go untraced (CI saw 978 of 1001 block
# IRQs under ASan, and 980 of 1002 here after wallclock.sh, with no run that
# the kernel says it skipped: the cause is not known), so up to 3 % fewer
bad=0 short=0
for irq in $(jq_ "$TMP/all.json" '[.irq.hardirqs[].irq] | unique | .[]'); do
	for c in $(seq 0 "$CPU"); do
		got=$(jq_ "$TMP/all.json" "[.irq.hardirqs[] | select(.irq == $irq and .cpu == $c) | .count] | add // 0")
		set -- $(range "$irq:" "$c")
		if [ "$got" -gt $(($2 + 2)) ] || [ "$got" -lt $(($1 - 2 - $1 * 3 / 100)) ]; then
			diag "$irq: cpu$c: traced $got, /proc grew $1 to $2 in the window"
			bad=$((bad + 1))
		elif [ "$got" -lt $(($1 - 2)) ]; then
			diag "$irq: cpu$c: traced $got, /proc grew $1 to $2 in the window"
			short=$((short + $1 - 2 - got))
		fi
	done
done
missed=$(jq_ "$TMP/all.json" '.irq.missed_events // 0')
diag "hard IRQs short of /proc beyond the window's edges: $short; runs the kernel skipped: $missed"
ok "hard IRQ counts per IRQ and CPU agree with /proc/interrupts (never more, at most 3 % fewer)" [ "$bad" -eq 0 ]
if [ "$missed" -gt 0 ]; then
	ok "... and the report says the kernel skipped $missed runs" \
		[ "$(jq_ "$TMP/all.json" ".irq.notes | any(test(\"skipped this module's programs $missed times\"))")" = true ]
fi
ok "the O_DIRECT writes show up as block device IRQs" \
	[ "$(jq_ "$TMP/all.json" '[.irq.hardirqs[] | select(.name | test("virtio|nvme|ahci|ata|sd")) | .count] | add // 0')" -ge 900 ]
ok "hard IRQ names come from the tracepoint" \
	[ "$(jq_ "$TMP/all.json" '[.irq.hardirqs[] | select(.name == "" or .name == null)] | length')" = 0 ]

# the local timer: LOC counts every tick
bad=0
for c in $(seq 0 "$CPU"); do
	got=$(jq_ "$TMP/all.json" "[.irq.vectors[] | select(.name == \"local_timer\" and .cpu == $c) | .count] | add // 0")
	in_range "$got" "LOC:" "$c" 3 || bad=$((bad + 1))
done
ok "local timer interrupts agree with /proc/interrupts LOC" [ "$bad" -eq 0 ]
ok "without --pid the longest interruptions of any task are listed" \
	[ "$(jq_ "$TMP/all.json" '[.irq.worst[] | select(.victim.pid > 0 and .duration_ns > 0)] | length > 0')" = true ]
# the flood's softirqs run in its own context, ~1 us apart: each is its own
# interruption, not one chain the length of the flood. A NET_RX run itself may
# take milliseconds (net_rx_action's time budget), so the bound is the
# longest single NET_RX on that CPU plus what may chain onto it.
long=$(jq -c '.irq as $i | [$i.worst[] | select(.source | test("^softirq:NET_RX")) |
		. as $w | ([$i.softirqs[] | select(.vector == "NET_RX" and .cpu == $w.cpu) | .duration_ns.max] | max // 0) as $m |
		select(.duration_ns > $m + 200000) | {cpu, duration_ns, source, longest_net_rx: $m}]' "$TMP/all.json")
[ "$long" = "[]" ] || diag "chains longer than a NET_RX run: $long"
ok "back-to-back softirqs a task runs itself are not one endless interruption" [ "$long" = "[]" ]
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
