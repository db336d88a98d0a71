#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# guest-tests.sh - run inside a test guest (tests/vm/boot): a Debian kernel
# with CPU 1 isolated (isolcpus, nohz_full, rcu_nocbs, irqaffinity=0), its
# own headers at /lib/modules/$(uname -r)/build. Every module on a truly
# isolated CPU against the kernel's own counters (/proc/interrupts,
# /proc/softirqs, /proc/PID/status) and workloads that count for themselves.
# Under emulation time means nothing: only counts and verdicts are checked.

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
. "$top_srcdir/tests/kernel/lib.sh"
require_kernel

CPU=1
RT=0
[ "$(cat /sys/kernel/realtime 2>/dev/null)" = 1 ] && RT=1
diag "kernel $(uname -r), PREEMPT_RT=$RT, isolated: $(cat /sys/devices/system/cpu/isolated)," \
	"nohz_full: $(cat /sys/devices/system/cpu/nohz_full)"

# field FILE KEY: KEY=value from a workload's own report
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1"; }
# col ROW FILE CPU: a /proc/interrupts or /proc/softirqs count ("LOC:", "NET_RX:")
col() { awk -v r="$1" -v c="$3" '$1 == r { print $(c + 2) }' "$2"; }

# sampler PID OUT: a thread's nonvoluntary_ctxt_switches about every 10 ms,
# with the wall clock, in bash builtins alone (a fork per sample is slow
# under emulation; `read -t` on a FIFO nobody writes is the sleep)
sampler() {
	local k v _
	mkfifo "$TMP/tick.$1"
	exec 9<> "$TMP/tick.$1"
	while [ -e "/proc/$1/status" ]; do
		while IFS=$': \t' read -r k v _; do
			[ "$k" = nonvoluntary_ctxt_switches ] && echo "$EPOCHREALTIME $v"
		done < "/proc/$1/status"
		read -r -t 0.01 -u 9 _
	done > "$2"
}
# bracket OUT T0 T1: the least and the most the count can have grown from T0
# to T1, from the samples on either side of each edge
bracket() {
	awk -v a="$2" -v b="$3" '
		$1 <= a { a_lo = $2 } $1 >= a && a_hi == "" { a_hi = $2 }
		$1 <= b { b_lo = $2 } $1 >= b && b_hi == "" { b_hi = $2 }
		END { if (a_hi == "") a_hi = a_lo; if (b_hi == "") b_hi = b_lo; print b_lo - a_hi, b_hi - a_lo }' "$1"
}
# window JSON: the tool's own window, "start end" in epoch seconds
window() {
	local s d
	s=$(date -d "$(jq -r .run.started_at "$1")" +%s.%N)
	d=$(jq -r .run.duration_s "$1")
	echo "$s $(echo "$s + $d" | bc)"
}

# --- nohz_full: the evidence the tick-related checks build on (no tool) -------
NOHZ=0
[ -e /sys/devices/system/cpu/nohz_full ] && grep -qw "$CPU" /sys/devices/system/cpu/nohz_full && NOHZ=1
bg "$WL/spinner" "$CPU" 0
A=$BG
sleep 1
cat /proc/interrupts > "$TMP/loc.a"; sleep 2; cat /proc/interrupts > "$TMP/loc.b"
one=$(( $(col LOC: "$TMP/loc.b" $CPU) - $(col LOC: "$TMP/loc.a" $CPU) ))
bg "$WL/spinner" "$CPU" 0
B=$BG
sleep 1
cat /proc/interrupts > "$TMP/loc.a"; sleep 2; cat /proc/interrupts > "$TMP/loc.b"
two=$(( $(col LOC: "$TMP/loc.b" $CPU) - $(col LOC: "$TMP/loc.a" $CPU) ))
kill "$A" "$B" 2>/dev/null
diag "local timer interrupts on CPU $CPU in 2 s: $one with one task, $two with two"
if [ "$NOHZ" = 1 ]; then
	ok "nohz_full: one busy task on CPU $CPU stops the tick (LOC +$one in 2 s)" [ "$one" -le 20 ]
	r=false; [ "$two" -ge 100 ] && [ "$two" -gt $((one * 5)) ] && r=true
	ok "nohz_full: two tasks keep it running (LOC +$two in 2 s)" $r
else
	# built without CONFIG_NO_HZ_FULL (Debian 11): the tick never stops, which the
	# isolation checks below must then report rather than pass
	ok "no nohz_full in this kernel: the tick runs under one task too (LOC +$one in 2 s)" [ "$one" -ge 100 ]
fi

# --- the default run, as a new user types it -----------------------------------
# every default module on the isolated CPU, with a sleeper, a page toucher and
# a UDP ping-pong on it; the JSON report comes from --bill-of-health
"$LS" -v -d 25 -o "$TMP/default.txt" --bill-of-health "$TMP/default.json" 2>"$TMP/default.err" &
L=$!
bg_pids="$bg_pids $L"
wait_for "$TMP/default.err" "latencyscope: tracing CPUs" 900 || diag "never attached: $(tail -5 "$TMP/default.err")"
cat /proc/softirqs > "$TMP/soft.a"
cat /proc/interrupts > "$TMP/int.a"
N=2000
"$WL/sleeper" "$CPU" 100 "$N" > "$TMP/sleeper.out" &
S=$!
wait "$S"
# each write runs refresh_vm_stats once on every online CPU, isolated ones too
for _ in $(seq 20); do echo 1 >/proc/sys/vm/stat_refresh; done
# forked and exec'd on CPU 1 (a taskset would fault on its own CPU first)
taskset -c "$CPU" sh -c "\"$WL/memory\" touch 20000 > \"$TMP/touch.out\"; \"$WL/udp\" pingpong $N > \"$TMP/udp.out\""
# a thread kept on CPU 1 while CPU 0 maps and unmaps: each unmap flushes CPU 1 by IPI
"$WL/memory" shootdown 1 0 "$CPU" > "$TMP/sd.out"
wait_for "$TMP/default.err" "probes stopped" 120
cat /proc/softirqs > "$TMP/soft.b"
cat /proc/interrupts > "$TMP/int.b"
wait "$L"
rc=$?
R="$TMP/default.json"
diag "$(head -3 "$TMP/default.txt")"
ok "the default run reports (exit $rc)" [ "$rc" -le 2 ]
ok "the default run picks the isolated CPU and says so in the header" \
	grep -q "^target: CPUs $CPU (isolated)" "$TMP/default.txt"
ok "the kernel's own headers are used (no header warning)" \
	sh -c '! grep -qi "headers" "$0"' "$TMP/default.err"
for m in isolation irq syscall memory network noise; do
	v=$(jq_ "$R" ".report.$m.verdict")
	ok "$m loads, attaches and gives a verdict ($v)" sh -c '[ "$0" = pass ] || [ "$0" = warn ] || [ "$0" = fail ]' "$v"
done
ok "the sleeper ran inside the window" [ "$(field "$TMP/sleeper.out" wakeups)" = "$N" ]

# irq: /proc/softirqs counts each run right before softirq_entry fires. The
# tool reads it as its gates open and close (kernel_count); this test's own
# reads bracket that window from outside (under emulation a poll is slow, so
# the bracket holds a second or more beyond the window), and the traced
# count must match the kernel's over the window itself
bad=0
for v in TIMER NET_RX NET_TX BLOCK SCHED RCU HRTIMER; do
	want=$(( $(col "$v:" "$TMP/soft.b" $CPU) - $(col "$v:" "$TMP/soft.a" $CPU) ))
	got=$(jq_ "$R" "[.report.irq.softirqs[] | select(.vector == \"$v\" and .cpu == $CPU) | .count] | add // 0")
	kern=$(jq_ "$R" "[.report.irq.softirqs[] | select(.vector == \"$v\" and .cpu == $CPU) | .kernel_count // .count] | add // 0")
	{ [ "$kern" -le $((want + 2)) ] && within "$got" "$kern" $(( kern / 50 + 2 )) > /dev/null; } ||
		{ diag "softirq $v on CPU $CPU: traced $got, the kernel over the window $kern, /proc/softirqs around it $want"; bad=$((bad + 1)); }
done
ok "irq: softirq counts per vector on CPU $CPU agree with /proc/softirqs" [ "$bad" -eq 0 ]
ok "irq: the UDP ping-pong's NET_RX softirqs are named" \
	[ "$(jq_ "$R" "[.report.irq.softirqs[] | select(.vector == \"NET_RX\" and .cpu == $CPU) | .count] | add // 0")" -gt 0 ]
if [ "$RT" = 1 ]; then
	ok "irq on PREEMPT_RT: the report says how threaded handlers are shown" \
		[ "$(jq_ "$R" '[.report.irq.notes[] | select(test("PREEMPT_RT"))] | length')" -gt 0 ]
	diag "handler threads among the isolation culprits: $(jq -c '[.report.isolation.culprits[]? | select(.comm | test("^(ksoftirqd|irq/|ktimers|rcuc)")) | .comm]' "$R")"
fi

T=$(field "$TMP/touch.out" pid)
got=$(jq_ "$R" "[.report.memory.page_faults.per_pid[] | select(.pid == $T) | .minor] | add // 0")
want=$(field "$TMP/touch.out" minflt)
diag "memory: traced $got minor faults, the toucher's minflt $want"
ok "memory: minor faults agree with the workload's /proc/self/stat minflt" within "$got" "$want" 20

# memory: /proc/interrupts' TLB row counts the shootdowns CPU 1 received
want=$(( $(col TLB: "$TMP/int.b" $CPU) - $(col TLB: "$TMP/int.a" $CPU) ))
got=$(jq_ "$R" "[.report.memory.tlb.flushes[] | select(.reason == \"remote shootdown\" and .cpu == $CPU) | .count] | add // 0")
diag "memory: $(field "$TMP/sd.out" unmaps) unmaps on CPU 0; TLB shootdowns on CPU $CPU: traced $got, /proc/interrupts $want"
ok "memory: the unmaps flushed CPU $CPU by IPI, hundreds of times" [ "$want" -ge 100 ]
ok "memory: remote TLB shootdowns on CPU $CPU agree with /proc/interrupts" within "$got" "$want" $(( want / 50 + 8 ))
if [ -d /sys/kernel/tracing/events/ipi/ipi_send_cpumask ] || [ -d /sys/kernel/debug/tracing/events/ipi/ipi_send_cpumask ]; then
	W=$(field "$TMP/sd.out" pid)
	ok "memory: the top IPI sender is the unmapping workload on CPU 0" \
		[ "$(jq_ "$R" ".report.memory.tlb.senders[0] | .pid == $W and .cpu == 0 and (.callsite | test(\"^[a-z_]+\"))")" = true ]
else
	ok "memory: a kernel without IPI tracepoints: the report says senders are not measured" \
		[ "$(jq_ "$R" '(.report.memory.tlb.ipis_received == null) and ([.report.memory.notes[] | select(test("who sends IPIs is not measured"))] | length == 1)')" = true ]
fi

got=$(jq_ "$R" "[.report.syscall.sleeps[] | select(.tid == $S) | .count] | add // 0")
ok "syscall: all $N nanosleeps are seen ($got)" [ "$got" = "$N" ]

# noise: the work the writes to stat_refresh queued on the isolated CPU (the
# sleeper's timers are no oracle here: nohz_full moves some to CPU 0)
got=$(jq_ "$R" "[.report.noise.work[] | select(.cpu == $CPU and .function == \"refresh_vm_stats\") | .count] | add // 0")
ok "noise: 20 writes to vm/stat_refresh ran refresh_vm_stats 20 times on CPU $CPU ($got)" [ "$got" = 20 ]
ok "noise: the tick's attempts to stop on CPU $CPU are counted, and the audit follows" \
	[ "$(jq_ "$R" "(.report.noise.tick[] | select(.cpu == $CPU) | .stopped + .kept > 0) and (.report.audit.checks | length > 0)")" = true ]
if [ "$NOHZ" = 1 ]; then
	ok "the audit after noise passes this isolated CPU's command line (isolcpus, nohz_full, rcu_nocbs)" \
		[ "$(jq_ "$R" '[.report.audit.checks[] | select(.id == "cmdline.isolcpus" or .id == "cmdline.nohz_full" or .id == "cmdline.rcu_nocbs") | .status] == ["pass", "pass", "pass"]')" = true ]
fi

got=$(jq_ "$R" '.report.network.delivery_ns.count // 0')
ok "network: the UDP ping-pong gives delivery samples ($got for $N rounds)" [ "$got" -ge $((2 * N)) ]
ok "no program of ours is left after the default run" no_programs_left

# --- the probe cache on this kernel's verifier ------------------------------------
# cached [ARGS]: the syscall module on CPU $CPU until a sleeper has napped 500
# times there (none if "quick"); stderr in $TMP/cache.err, naps seen in $got
cached() {
	local l s
	"$LS" -v -m syscall --cpus "$CPU" -d 120 --json -o "$TMP/cache.json" 2>"$TMP/cache.err" &
	l=$!
	bg_pids="$bg_pids $l"
	wait_for "$TMP/cache.err" "latencyscope: tracing CPUs" 300 || diag "never attached: $(tail -3 "$TMP/cache.err")"
	if [ "${1:-}" != quick ]; then
		"$WL/sleeper" "$CPU" 100 500 >/dev/null &
		s=$!
		wait "$s"
	fi
	kill -INT "$l"
	wait "$l"
	got=$(jq_ "$TMP/cache.json" "[.syscall.sleeps[] | select(.tid == ${s:-0}) | .count] | add // 0")
}
cached quick	# compiles and keeps it (unless the default run already did)
diag "cache: $(grep -o "syscall: [a-z ]* the cache" "$TMP/cache.err")"
cached
ok "cache: the next run loads it without compiling (maps made, programs loaded by this verifier)" \
	grep -q "syscall: loaded the compiled probe from the cache" "$TMP/cache.err"
ok "cache: ... and sees all 500 nanosleeps ($got)" [ "$got" = 500 ]

# --- isolation: a spinner alone on the isolated CPU ----------------------------
bg "$WL/spinner" "$CPU" 0
A=$BG
sampler "$A" "$TMP/alone.samples" &
"$LS" -v -m isolation,wallclock,noise --cpus "$CPU" --pid "$A" -d 4 --json -o "$TMP/alone.json" 2>"$TMP/alone.err"
rc=$?
kill "$A" 2>/dev/null
read -r w0 w1 <<< "$(window "$TMP/alone.json")"
read -r lo hi <<< "$(bracket "$TMP/alone.samples" "$w0" "$w1")"
inv=$(jq_ "$TMP/alone.json" ".isolation.targets[] | select(.tid == $A) | .involuntary_switches")
diag "the lone spinner's involuntary switches in the tool's window: traced $inv, /proc/$A/status between $lo and $hi"
if [ "$NOHZ" = 1 ]; then
	# nothing else runs there, but the kernel's own deferred work (vmstat_update,
	# a delayed work item) may still preempt it now and then: /proc says when
	if [ "$hi" = 0 ]; then
		ok "a spinner alone on nohz_full CPU $CPU, never preempted (/proc): isolation passes (exit $rc)" \
			[ "$(jq_ "$TMP/alone.json" .isolation.verdict)" = pass ]
	else
		diag "culprits: $(jq -c '[.isolation.culprits[] | {comm, pid, kernel_thread}]' "$TMP/alone.json")"
		r=false; [ "${inv:-0}" -ge "$lo" ] && [ "${inv:-0}" -le "$hi" ] &&
			[ "$(jq_ "$TMP/alone.json" '[.isolation.culprits[] | .kernel_thread] | all')" = true ] && r=true
		ok "a spinner alone on nohz_full CPU $CPU, preempted by the kernel $lo-$hi times (/proc): isolation counts them and names kernel threads only" $r
	fi
	ticks=$(jq_ "$TMP/alone.json" ".noise.tick[] | select(.cpu == $CPU) | .ticks")
	ok "noise: ... and its tick has stopped ($ticks ticks in 4 s)" [ "$ticks" -le 20 ]
else
	# the tick and per-CPU kernel threads still run there: each preemption is
	# a FAIL naming a kernel thread, and the fix says the kernel lacks nohz_full
	ok "a spinner alone without nohz_full: its preemptions by kernel threads fail, and the fix names the kernel's missing NO_HZ_FULL" \
		[ "$(jq_ "$TMP/alone.json" '.isolation.verdict == "fail" and .isolation.culprits[0].kernel_thread and
			([.isolation.findings[] | select(.level == "fail") | .recommendation | test("CONFIG_NO_HZ_FULL")] | any)')" = true ]
fi
ok "wallclock loads, attaches and profiles the spinner" \
	[ "$(jq_ "$TMP/alone.json" ".wallclock.verdict != \"not_measured\" and (.wallclock.threads | length) > 0")" = true ]

# --- isolation: a pinned competitor fails, named, counts as /proc says ---------
# (and noise: on a nohz_full CPU, the second task is what keeps the tick)
bg "$WL/spinner" "$CPU" 0
T=$BG
bg "$WL/spinner" "$CPU" 0
C=$BG
sampler "$T" "$TMP/inv.samples" &
"$LS" -m isolation,noise --cpus "$CPU" --pid "$T" -d 4 --json -o "$TMP/comp.json" 2>"$TMP/comp.err"
rc=$?
kill "$T" "$C" 2>/dev/null
r=false; [ "$rc" -eq 2 ] && [ "$(jq_ "$TMP/comp.json" .isolation.verdict)" = fail ] && r=true
ok "a pinned competitor: isolation fails (exit $rc)" $r
ok "the competitor is named as the top culprit" \
	[ "$(jq_ "$TMP/comp.json" '.isolation.culprits[0].pid')" = "$C" ]
read -r w0 w1 <<< "$(window "$TMP/comp.json")"
read -r lo hi <<< "$(bracket "$TMP/inv.samples" "$w0" "$w1")"
inv=$(jq_ "$TMP/comp.json" ".isolation.targets[] | select(.tid == $T) | .involuntary_switches")
diag "involuntary switches in the tool's window: traced $inv, /proc/$T/status between $lo and $hi" \
	"($(wc -l < "$TMP/inv.samples") samples)"
r=false; [ "${inv:-0}" -ge $((lo - 2)) ] && [ "${inv:-0}" -le $((hi + 2)) ] && r=true
ok "isolation: the victim's involuntary switches agree with /proc/PID/status over the tool's window" $r
if [ "$NOHZ" = 1 ]; then
	diag "noise: the tick on CPU $CPU: $(jq -c ".noise.tick[] | select(.cpu == $CPU)" "$TMP/comp.json")"
	msg=$(jq -r "[.noise.findings[].message | select(test(\"tick did not stop on CPU $CPU\"))][0] // \"\"" "$TMP/comp.json")
	diag "noise: $msg"
	r=false
	case $msg in *SCHED*"spinner ($T)"*|*SCHED*"spinner ($C)"*) case $msg in *"spinner ($T)"*"spinner ($C)"*|*"spinner ($C)"*"spinner ($T)"*) r=true ;; esac ;; esac
	ok "noise: two tasks on nohz_full CPU $CPU: the tick was kept by SCHED, a finding names both" $r
fi
ok "no program of ours is left" no_programs_left

# the reports and logs, for a failure's diagnosis on the host
if [ -n "${LS_VM_ARTIFACTS:-}" ]; then
	mkdir -p "$LS_VM_ARTIFACTS"
	cp "$TMP"/*.json "$TMP"/*.txt "$TMP"/*.err "$TMP"/*.out "$LS_VM_ARTIFACTS"/ 2>/dev/null
fi
done_testing
