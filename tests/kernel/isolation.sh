#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# isolation.sh - the Isolation Verifier against real workloads, with the
# kernel's own counters (/proc/<pid>/status) and the workloads' own clocks
# as oracles.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))

# run_ls OUT ARGS...: latencyscope in the background with -v; sets LSPID
run_ls() {
	local out=$1; shift
	"$LS" -v "$@" --json -o "$out" 2>"$out.err" &
	LSPID=$!
	bg_pids="$bg_pids $LSPID"
}

# --- a spinner and a competitor on one CPU ---------------------------------
bg "$WL/spinner" "$CPU" 0
T=$BG
bg "$WL/spinner" "$CPU" 0
C=$BG
sleep 0.3
run_ls "$TMP/comp.json" --module isolation --cpus "$CPU" --pid "$T" --duration 3
wait_for "$TMP/comp.json.err" "latencyscope: tracing CPUs" || diag "never attached"
v0=$(status_field "$T" voluntary_ctxt_switches)
n0=$(status_field "$T" nonvoluntary_ctxt_switches)
wait_for "$TMP/comp.json.err" "probes stopped" 10
v1=$(status_field "$T" voluntary_ctxt_switches)
n1=$(status_field "$T" nonvoluntary_ctxt_switches)
wait "$LSPID"
rc=$?
kill "$C" "$T" 2>/dev/null

ok "competitor on the CPU: exit code 2 (violation)" [ "$rc" -eq 2 ]
ok "isolation verdict is fail" [ "$(jq_ "$TMP/comp.json" .isolation.verdict)" = fail ]
ok "the competitor is named as the top culprit" \
	[ "$(jq_ "$TMP/comp.json" '.isolation.culprits[0].pid')" = "$C" ]
ok "the culprit held the CPU for most of the run" \
	[ "$(jq_ "$TMP/comp.json" '.isolation.culprits[0].time_ns > 1000000000')" = true ]
ok "a FAIL finding names the competitor's command and the fix" \
	sh -c 'jq -r ".isolation.findings[] | select(.level == \"fail\") | .message, .recommendation" "$0" |
		grep -q "taskset -acp .* $1"' "$TMP/comp.json" "$C"
inv=$(jq_ "$TMP/comp.json" ".isolation.targets[] | select(.tid == $T) | .involuntary_switches")
vol=$(jq_ "$TMP/comp.json" ".isolation.targets[] | select(.tid == $T) | .voluntary_switches")
diag "involuntary: traced $inv, /proc delta $((n1 - n0)); voluntary: traced $vol, /proc delta $((v1 - v0))"
ok "involuntary switches agree with /proc/<pid>/status" within "$inv" $((n1 - n0)) 8
ok "voluntary switches agree with /proc/<pid>/status" within "$vol" $((v1 - v0)) 3
ok "--pid excludes other processes from the targets" \
	[ "$(jq_ "$TMP/comp.json" "[.isolation.targets[] | select(.pid != $T)] | length")" = 0 ]
ok "--pid: every worst-latency victim is the target" \
	[ "$(jq_ "$TMP/comp.json" "[.isolation.worst[] | select(.victim.pid != $T)] | length")" = 0 ]
ok "runqueue latency was measured for the preempted target" \
	[ "$(jq_ "$TMP/comp.json" '.isolation.runqueue_latency_ns.count > 100')" = true ]
ok "p99_999_runqueue_ns is null below 100 000 samples" \
	[ "$(jq_ "$TMP/comp.json" '.isolation.p99_999_runqueue_ns')" = null ]
if [ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = 1 ]; then
	ok "statistics already on: the report carries the overhead of every event" \
		[ "$(jq_ "$TMP/comp.json" '.overhead.available and .overhead.sampled_fraction == 1')" = true ]
else
	ok "by default the overhead is not measured (no statistics switch), and the report says how" \
		[ "$(jq_ "$TMP/comp.json" '.overhead.available == false and (.overhead.reason | test("--self-cost full"))')" = true ]
fi
ok "the run ended by duration" [ "$(jq_ "$TMP/comp.json" .run.ended_by)" = duration ]

# --- a sleeper measures its own oversleep -----------------------------------
COUNT=1500
mkfifo "$TMP/go"
"$WL/sleeper" "$CPU" 1000 "$COUNT" "$TMP/go" >"$TMP/sleeper.out" &
S=$!
bg_pids="$bg_pids $S"
run_ls "$TMP/sleep.json" --module isolation --cpus "$CPU" --pid "$S" --duration 30
wait_for "$TMP/sleep.json.err" "latencyscope: tracing CPUs" || diag "never attached"
echo go >"$TMP/go"
wait "$S"
kill -INT "$LSPID"
wait "$LSPID"
rc=$?
diag "sleeper: $(cat "$TMP/sleeper.out")"
self_max=$(sed 's/.*max_ns=\([0-9]*\).*/\1/' "$TMP/sleeper.out")
self_mean=$(sed 's/.*mean_ns=\([0-9]*\).*/\1/' "$TMP/sleeper.out")
samples=$(jq_ "$TMP/sleep.json" .isolation.runqueue_latency_ns.count)
wakeups=$(jq_ "$TMP/sleep.json" .isolation.wakeups)
diag "runqueue samples $samples, wakeups $wakeups, max $(jq_ "$TMP/sleep.json" .isolation.runqueue_latency_ns.max) ns"
ok "SIGINT mid-run still writes the report (exit $rc)" [ "$rc" -le 2 ]
ok "run.ended_by is SIGINT" [ "$(jq_ "$TMP/sleep.json" .run.ended_by)" = SIGINT ]
ok "every sleep gave one runqueue sample" within "$samples" "$COUNT" 5
ok "every wakeup was counted" within "$wakeups" "$COUNT" 5
ok "no runqueue latency exceeds the sleeper's own worst oversleep" \
	[ "$(jq_ "$TMP/sleep.json" ".isolation.runqueue_latency_ns.max <= $self_max + 1000")" = true ]
ok "mean runqueue latency is below the sleeper's mean oversleep" \
	[ "$(jq_ "$TMP/sleep.json" ".isolation.runqueue_latency_ns.mean <= $self_mean + 1000")" = true ]
ok "the worst table lists the sleeper" \
	[ "$(jq_ "$TMP/sleep.json" ".isolation.worst[0].victim.pid")" = "$S" ]
ok "worst latencies are sorted and carry wall-clock times" \
	[ "$(jq_ "$TMP/sleep.json" '[.isolation.worst[].latency_ns] as $l | ($l == ($l | sort | reverse)) and (.isolation.worst[0].time | test("^20[0-9-]+T"))')" = true ]
ok "the sleeper alone on its CPU is never preempted" \
	[ "$(jq_ "$TMP/sleep.json" ".isolation.targets[0].involuntary_switches")" -le 2 ]

# --- CPU mode (no --pid): preemptions are warnings with culprits ------------
bg "$WL/spinner" "$CPU" 0
A=$BG
bg "$WL/spinner" "$CPU" 0
B=$BG
"$LS" --module isolation --cpus "$CPU" --duration 1.5 --json >"$TMP/cpu.json" 2>"$TMP/cpu.err"
rc=$?
kill "$A" "$B" 2>/dev/null
ok "CPU mode: preemptions warn (exit $rc)" [ "$rc" -eq 1 ]
ok "CPU mode: both spinners appear among the culprits" \
	[ "$(jq_ "$TMP/cpu.json" "[.isolation.culprits[].pid] | (index($A) != null) and (index($B) != null)")" = true ]
ok "CPU mode: per-CPU table covers only the monitored CPU" \
	[ "$(jq_ "$TMP/cpu.json" "[.isolation.per_cpu[].cpu] | unique == [$CPU]")" = true ]

# --- the perf-buffer event path of kernels before 5.8 -------------------------
bg "$WL/spinner" "$CPU" 0
A=$BG
bg "$WL/spinner" "$CPU" 0
LATENCYSCOPE_EVENTS=perf "$LS" -v --module isolation --cpus "$CPU" --pid "$A" --duration 1.5 --json \
	>"$TMP/perf.json" 2>"$TMP/perf.err"
kill "$A" "$BG" 2>/dev/null
ok "with perf buffers instead of a ring buffer the worst latencies still arrive" \
	[ "$(jq_ "$TMP/perf.json" "[.isolation.worst[] | select(.victim.pid == $A)] | length > 0")" = true ]
ok "... and the probe was built without the ring buffer" sh -c '! grep -q LS_HAVE_RINGBUF "$0"' "$TMP/perf.err"

# --- the probes' own cost: sampled statistics scale to the whole run ---------
# A pipe ping-pong makes a context switch and a wakeup per voluntary switch
# its two processes count in /proc/<pid>/status: twice their sum is a floor
# for the program runs in the window (other tasks add a little).
selfcost() {	# selfcost MODE OUT: run the isolation module over a ping-pong; sets VOL
	taskset -c "$CPU" "$WL/pingpong" 100000000 >/dev/null &
	local pp=$! child
	bg_pids="$bg_pids $pp"
	sleep 0.2
	child=$(pgrep -P "$pp")
	run_ls "$2" --module isolation --cpus "$CPU" --duration 3 --self-cost "$1"
	wait_for "$2.err" "latencyscope: tracing CPUs" || diag "never attached"
	local a0 b0
	a0=$(status_field "$pp" voluntary_ctxt_switches)
	b0=$(status_field "$child" voluntary_ctxt_switches)
	wait_for "$2.err" "probes stopped" 10
	VOL=$(( $(status_field "$pp" voluntary_ctxt_switches) - a0 +
		$(status_field "$child" voluntary_ctxt_switches) - b0 ))
	wait "$LSPID"
	kill "$child" "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
}
stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
selfcost full "$TMP/full.json"
full_cnt=$(jq_ "$TMP/full.json" .overhead.run_cnt)
diag "full: $full_cnt program runs for $VOL voluntary switches"
ok "--self-cost full counts every program run (at least two per switch)" \
	[ "$(jq_ "$TMP/full.json" ".overhead.sampled_fraction == 1 and .overhead.run_cnt >= 2 * $VOL")" = true ]
selfcost sampled "$TMP/sampled.json"
diag "sampled: fraction $(jq_ "$TMP/sampled.json" .overhead.sampled_fraction), estimated $(jq_ "$TMP/sampled.json" .overhead.run_cnt) runs for $VOL switches"
ok "--self-cost sampled: the statistics are on for 50 ms of every second" \
	[ "$(jq_ "$TMP/sampled.json" ".overhead.sampled_fraction > 0.03 and .overhead.sampled_fraction < 0.1")" = true ]
ok "... and the estimate scales to the whole run (within 2x of two runs per switch)" \
	[ "$(jq_ "$TMP/sampled.json" ".overhead.run_cnt > $VOL and .overhead.run_cnt < 8 * $VOL")" = true ]
ok "... the mean per event comes from the sampled windows" \
	[ "$(jq_ "$TMP/sampled.json" '.overhead.mean_ns > 0')" = true ]
ok "... and the report counts the switches made during the run (two a second)" \
	[ "$(jq_ "$TMP/sampled.json" '.overhead.switches >= 4 and .overhead.switches <= 8')" = true ]
ok "the statistics switch is back as it was" [ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = "$stats_before" ]

# Switching the statistics patches kernel code and interrupts every CPU: the
# default run must send no IPI of its own, --self-cost sampled does (which
# shows the oracle, the memory module's IPI senders, sees ours). The IPIs
# are told by sender and callsite (on_each_cpu_cond_mask: text patching).
if [ "$stats_before" = 1 ]; then	# someone keeps them on: nothing would be switched
	echo 0 >/proc/sys/kernel/bpf_stats_enabled
	RESTORE="${RESTORE:-}; echo 1 >/proc/sys/kernel/bpf_stats_enabled"
fi
own_ipis() {	# own_ipis JSON: IPIs latencyscope's own process sent by a cross-CPU call
	jq_ "$1" '[.memory.tlb.senders[] | select(.comm == "latencyscope" and
		(.callsite | startswith("on_each_cpu"))) | .count] | add // 0'
}
"$LS" -m memory -d 2 --json -o "$TMP/ipi-auto.json" 2>"$TMP/ipi-auto.err"
"$LS" -m memory -d 2 --self-cost sampled --json -o "$TMP/ipi-sampled.json" 2>"$TMP/ipi-sampled.err"
diag "IPIs from latencyscope's cross-CPU calls: default $(own_ipis "$TMP/ipi-auto.json"), sampled $(own_ipis "$TMP/ipi-sampled.json") ($(jq_ "$TMP/ipi-sampled.json" .overhead.switches) switches)"
ok "--self-cost sampled: its statistics switches interrupt the monitored CPUs (the oracle sees them)" \
	[ "$(own_ipis "$TMP/ipi-sampled.json")" -gt 0 ]
ok "the default run sends no IPI of its own to the monitored CPUs" \
	[ "$(own_ipis "$TMP/ipi-auto.json")" = 0 ]
"$LS" -m memory -d 1 --self-cost full --json -o "$TMP/ipi-full.json" 2>"$TMP/ipi-full.err"
full_quiet() { [ "$(own_ipis "$TMP/ipi-full.json")" = 0 ] && [ "$(jq_ "$TMP/ipi-full.json" .overhead.available)" = true ]; }
ok "--self-cost full switches before the gates open and after they close: no IPI inside the run" full_quiet
if [ "$stats_before" = 1 ]; then
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
fi
"$LS" -m isolation -d 0.3 --self-cost off --json -o "$TMP/off.json" 2>/dev/null
ok "--self-cost off: the overhead is not measured, and the report says why" \
	[ "$(jq_ "$TMP/off.json" '.overhead.available == false and (.overhead.reason | test("self-cost off"))')" = true ]

# --- SIGTERM -----------------------------------------------------------------
run_ls "$TMP/term.json" --module isolation --duration 60
wait_for "$TMP/term.json.err" "latencyscope: tracing CPUs" || diag "never attached"
sleep 0.3
kill -TERM "$LSPID"
wait "$LSPID"
ok "SIGTERM ends the run with a report" [ "$(jq_ "$TMP/term.json" .run.ended_by)" = SIGTERM ]
ok "the default text report has the summary line" sh -c \
	'"$0" -m isolation -d 0.3 --no-color 2>/dev/null | grep -q "^SUMMARY: [0-9]* violations, [0-9]* warnings | Exit code: [0-2]$"' "$LS"
ok "no BPF program is left attached" no_programs_left
done_testing
