#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# noise.sh - the Kernel Noise module against witnesses outside it: a
# sleeper's own count of its nanosleeps (each ends in an hrtimer_wakeup
# callback on its CPU), writes to /proc/sys/vm/stat_refresh (each runs
# refresh_vm_stats once on every CPU through the system workqueue), a
# timerfd's reads (timerfd_tmrproc), an interval timer of 10 ms (it_real_fn,
# periodic), /proc/stat's idle time
# and /proc/softirqs' RCU count of the CPU over the tool's window (idle
# residency, rcu_core runs) and /proc/interrupts'
# LOC row (every tick is a local timer interrupt); the tuning audit after
# the section carries the run's evidence.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))
N=1000 W=50

# stat_sampler: CPU's /proc/stat line and /proc/softirqs' RCU row about
# every 10 ms, read between two readings of the wall clock, until $TMP/stop exists
stat_sampler() {
	while [ ! -e "$TMP/stop" ]; do
		echo "@ $(date +%s.%N) $(grep "^cpu$CPU " /proc/stat) $(grep RCU: /proc/softirqs) % $(date +%s.%N)"
		sleep 0.01
	done >"$TMP/stat"
}

# sample_range idle|rcu: the least and the most CPU's idle + iowait time
# (ms) or RCU softirqs can have grown over the tool's window ($S to $E),
# from the samples read wholly before or wholly after each edge
sample_range() {
	awk -v what="$1" -v cpu="$CPU" -v s="$S" -v e="$E" -v hz="$(getconf CLK_TCK)" '
		{ t1 = $2; t2 = $(NF)
		  if (what == "idle") v = ($7 + $8) * 1000 / hz
		  else for (i = 1; i <= NF; i++) if ($i == "RCU:") v = $(i + 1 + cpu)
		  if (t2 <= s) alo = v; if (t1 >= s && ahi == "") ahi = v
		  if (t2 <= e) blo = v; if (t1 >= e && bhi == "") bhi = v }
		END { print blo - ahi, bhi - alo }' "$TMP/stat"
}

grep LOC: /proc/interrupts >"$TMP/loc.a"
rm -f "$TMP/stop"
stat_sampler &
bg_pids="$bg_pids $!"
"$LS" -v -m noise --cpus "$CPU" -d 10 --json -o "$TMP/n.json" 2>"$TMP/n.err" &
L=$!
bg_pids="$bg_pids $L"
wait_for "$TMP/n.err" "latencyscope: tracing CPUs" 300 || diag "never attached: $(tail -3 "$TMP/n.err")"
"$WL/sleeper" "$CPU" 1000 "$N" >"$TMP/sleeper.out"
for _ in $(seq "$W"); do echo 1 >/proc/sys/vm/stat_refresh; done
"$WL/spinner" "$CPU" 1 >/dev/null
# a 10 ms periodic timerfd, 100 expirations: timerfd_tmrproc on CPU
"$WL/timer" "$CPU" 10000 100 >"$TMP/timer.out"
# a 10 ms interval timer for a second: it_real_fn on CPU, every 10 ms (few
# programs use setitimer, where every event loop has a timerfd)
python3 -c '
import os, signal, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
signal.signal(signal.SIGALRM, lambda *a: None)
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
end = time.monotonic() + 1
while time.monotonic() < end:
    signal.pause()
signal.setitimer(signal.ITIMER_REAL, 0)' "$CPU"
alive=false
kill -0 "$L" 2>/dev/null && ! grep -q "probes stopped" "$TMP/n.err" && alive=true
wait "$L"
rc=$?
touch "$TMP/stop"
grep LOC: /proc/interrupts >"$TMP/loc.b"
R="$TMP/n.json"
diag "noise: $(jq -c '{calls: .noise.total_calls, tick: .noise.tick, findings: [.noise.findings[].message]}' "$R")"
ok "the noise module reports (exit $rc)" [ "$rc" -le 2 ]
ok "timers[] and work[] rows have cpu, function, count, total_ns, max_ns" \
	[ "$(jq_ "$R" '[.noise.timers[0], .noise.work[0]] | all(has("cpu") and has("function") and has("count") and has("total_ns") and has("max_ns"))')" = true ]
ok "... only of the monitored CPU" \
	[ "$(jq_ "$R" "[.noise.timers[], .noise.work[], .noise.tick[] | select(.cpu != $CPU)] | length")" = 0 ]

# the sleeper slept N times inside the window, each ended by hrtimer_wakeup
# on its CPU; other tasks' sleeps there add theirs (hundreds on a busy host)
got=$(jq_ "$R" "[.noise.timers[] | select(.cpu == $CPU and .function == \"hrtimer_wakeup\") | .count] | add // 0")
ok "the sleeper ran inside the window" \
	[ "$(sed -n 's/.*wakeups=\([0-9]*\).*/\1/p' "$TMP/sleeper.out")" = "$N" -a "$alive" = true ]
ok "hrtimer_wakeup on CPU $CPU: the sleeper's $N nanosleeps, plus other sleepers' ($got)" \
	[ "$got" -ge "$N" ]

# each write to stat_refresh runs refresh_vm_stats on every online CPU
got=$(jq_ "$R" "[.noise.work[] | select(.cpu == $CPU and .function == \"refresh_vm_stats\") | .count] | add // 0")
ok "refresh_vm_stats on CPU $CPU: once per write to /proc/sys/vm/stat_refresh ($got of $W)" \
	[ "$got" = "$W" ]
ok "... each timed from its start to its end" \
	[ "$(jq_ "$R" "[.noise.work[] | select(.cpu == $CPU and .function == \"refresh_vm_stats\")][0] | .timed == .count and .max_ns > 0 and .total_ns >= .max_ns")" = true ]

ok "... queued on the system workqueue, named \"events\" (on kernels that name it)" \
	[ "$(jq_ "$R" "[.noise.work[] | select(.cpu == $CPU and .function == \"refresh_vm_stats\")][0].workqueue | . == \"events\" or . == null")" = true ]

# the timerfd: a callback before each of its reads (the read arms it again);
# other programs' timerfds on the CPU add theirs (2 in a CI run)
n=$(jq_ "$R" "[.noise.timers[] | select(.cpu == $CPU and .function == \"timerfd_tmrproc\")][0] | .count // 0")
reads=$(sed -n 's/.*reads=\([0-9]*\).*/\1/p' "$TMP/timer.out")
ok "timerfd_tmrproc on CPU $CPU: a call for each read of the timerfd ($n calls, $reads reads)" \
	[ "$n" -ge "$reads" -a "$n" -lt $((2 * reads)) -a "$reads" -gt 50 ]
# the interval timer: its callback's period is the 10 ms it was set to
per=$(jq_ "$R" "[.noise.timers[] | select(.cpu == $CPU and .function == \"it_real_fn\")][0] | .period_ns // 0")
n=$(jq_ "$R" "[.noise.timers[] | select(.cpu == $CPU and .function == \"it_real_fn\")][0] | .count // 0")
ok "it_real_fn on CPU $CPU: ~100 calls, periodic every 10 ms (+-5 %) ($n, $per ns)" \
	[ "$n" -ge 90 -a "$n" -le 102 -a "$per" -ge 9500000 -a "$per" -le 10500000 ]
# ... where hrtimer_wakeup's calls came in a burst (the sleeper's) amid other
# sleepers' at unrelated times: their gaps spread too far for a period
ok "... but hrtimer_wakeup, a burst amid unrelated calls, has none" \
	[ "$(jq_ "$R" "[.noise.timers[] | select(.cpu == $CPU and .function == \"hrtimer_wakeup\")][0].period_ns")" = null ]

# idle residency: the CPU's time in idle states = /proc/stat's idle over the window
S=$(date -d "$(jq_ "$R" .run.started_at)" +%s.%N)
E=$(echo "$S + $(jq_ "$R" .run.duration_s)" | bc)
idle=$(jq_ "$R" "[.noise.idle[] | select(.cpu == $CPU) | .residency_ns] | add // 0 | . / 1000000 | floor")
set -- $(sample_range idle)
diag "idle on CPU $CPU: traced $idle ms, /proc/stat $1 to $2 ms over the window"
ok "idle residency on CPU $CPU is /proc/stat's idle time over the window (+-5 % + 30 ms)" \
	[ "$idle" -ge $(($1 - $1 / 20 - 30)) -a "$idle" -le $(($2 + $2 / 20 + 30)) ]

# RCU core processing runs once per RCU softirq (rcu_core_si) on kernels
# that use the softirq (not PREEMPT_RT, where rcuc threads run it)
got=$(jq_ "$R" "[.noise.rcu[]? | select(.cpu == $CPU) | .count] | add // 0")
set -- $(sample_range rcu)
diag "RCU core on CPU $CPU: traced $got, /proc/softirqs RCU $1 to $2 over the window"
ok "rcu_core runs on CPU $CPU = its RCU softirqs over the window (+-2)" \
	[ "$got" -ge $(($1 - 2)) -a "$got" -le $(($2 + 2)) ]

# the tick: each is a local timer interrupt, and with a spinner it runs at HZ
loc=$(( $(awk -v c="$CPU" '{print $(c + 2)}' "$TMP/loc.b") - $(awk -v c="$CPU" '{print $(c + 2)}' "$TMP/loc.a") ))
ticks=$(jq_ "$R" ".noise.tick[] | select(.cpu == $CPU) | .ticks")
ok "ticks on CPU $CPU ($ticks) are local timer interrupts (/proc/interrupts LOC +$loc around the run)" \
	[ "$ticks" -gt 0 -a "$ticks" -le "$loc" ]
# an idle CPU stops its tick (NO_HZ_IDLE); one kept busy never tries
ok "... and the tick's attempts to stop are counted when the CPU idled (${idle} ms)" \
	[ "$(jq_ "$R" ".noise.tick[] | select(.cpu == $CPU) | (.stopped + .kept) > 0 or $idle < 1000")" = true ]

# the audit follows, with this run's evidence
ok "the tuning audit follows the section, with its checks" \
	[ "$(jq_ "$R" '.audit.checks | length')" -ge 19 ]
ev=$(jq_ "$R" '.audit.checks[] | select(.id == "sysctl.vm.stat_interval") | .evidence')
vm=$(jq_ "$R" "[.noise.work[] | select(.function == \"vmstat_update\") | .count] | add // 0")
ok "sysctl.vm.stat_interval's evidence is the run's vmstat_update count ($ev)" \
	sh -c 'echo "$0" | grep -q "^vmstat_update ran $1 times"' "$ev" "$vm"

# a limit every callback breaks: a warning naming the function and the limit
"$LS" -m noise --cpus "$CPU" -d 1 -t noise.max=1ns --json -o "$TMP/t.json" 2>/dev/null
ok "-t noise.max=1ns: a warning naming the longest callback and the limit" \
	[ "$(jq_ "$TMP/t.json" '[.noise.findings[] | select(.level == "warn" and (.message | test("ran for .* limit 1 ns \\(noise.max\\)")))] | length')" = 1 ]
ok "no BPF program is left attached" no_programs_left
done_testing
