#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# interval.sh - --interval and --count: one complete report per interval
# (JSON Lines), whose counts add up to the kernel's own (/proc/PID/status
# over the tool's window: nothing lost or counted twice where intervals
# meet), a workload that runs in one interval only shows there, the exit
# code is the worst verdict seen, and -f prometheus is rewritten every
# interval with counters that only grow.

. "$(dirname "$0")/lib.sh"
require_kernel
require_cmd promtool "apt-get install prometheus"

CPU=$(( $(nproc) - 1 ))
N=3

# --- two sleepers: one throughout, one only in interval 2 --------------------
# S sleeps 5 ms at a time for the whole run (the oracle: its /proc/PID/status
# over the tool's window); L waits on a FIFO, so it is a --pid target before
# it runs, then sleeps 1 ms 1000 times (about 1.1 s) from 2.5 s into a run
# of three 2 s intervals, and exits
bg "$WL/sleeper" "$CPU" 5000 100000
S=$BG
mkfifo "$TMP/go"
bg "$WL/sleeper" "$CPU" 1000 1000 "$TMP/go"
L=$BG
sleep 0.2
grep LOC: /proc/interrupts >"$TMP/loc.a"
"$LS" -v -m isolation,irq,syscall,noise --cpus "$CPU" --pid "$S,$L" --interval 2 --count "$N" --json \
	>"$TMP/iv.jsonl" 2>"$TMP/iv.err" &
LSPID=$!
bg_pids="$bg_pids $LSPID"
wait_for "$TMP/iv.err" "latencyscope: tracing CPUs" || diag "never attached"
v0=$(status_field "$S" voluntary_ctxt_switches)
n0=$(status_field "$S" nonvoluntary_ctxt_switches)
sleep 2.5
echo go >"$TMP/go"	# L starts
wait_for "$TMP/iv.err" "probes stopped" 20
v1=$(status_field "$S" voluntary_ctxt_switches)
n1=$(status_field "$S" nonvoluntary_ctxt_switches)
wait "$LSPID"
rc=$?
grep LOC: /proc/interrupts >"$TMP/loc.b"
kill "$S" 2>/dev/null
wait "$L"
J="$TMP/iv.jsonl"

ok "--interval 2 --count $N --json: exactly $N lines (exit $rc)" [ "$(wc -l <"$J")" -eq "$N" ]
ok "... each a complete report: every module, a verdict each, the summary" \
	[ "$(jq -s '[.[] | select(.isolation.verdict and .irq.verdict and .syscall.verdict and
		.noise.verdict and .summary.exit_code != null and
		([.run.modules[] | select(. != "audit")] | length) == 4)] | length' "$J")" = "$N" ]
ok "... numbered 1 to $N, each starting where the one before ended" \
	[ "$(jq -s '. as $a | ([range(1; length) as $i | $a[$i].run.interval |
		(.start_s - $a[$i - 1].run.interval.end_s | fabs) < 1e-6 and .index == $i + 1] | all) and
		$a[0].run.interval.index == 1' "$J")" = true ]
ok "... each about 2 s long" \
	[ "$(jq -s '[.[].run.duration_s | . > 1.9 and . < 2.3] | all' "$J")" = true ]
ok "... and only the last one ended by the duration" \
	[ "$(jq -rs '[.[].run.ended_by] | join(",")' "$J")" = "interval,interval,duration" ]

# per TID FIELD: the target thread's FIELD in each interval, as [a,b,c]
per() { jq -s "[.[] | [.isolation.targets[] | select(.tid == $1) | .$2] | add // 0]" "$J" | tr -d ' \n'; }
vol=$(per "$S" voluntary_switches)
inv=$(per "$S" involuntary_switches)
lvol=$(per "$L" voluntary_switches)
diag "S's switches per interval: voluntary $vol, involuntary $inv;" \
	"/proc over the window: voluntary $((v1 - v0)), involuntary $((n1 - n0)); L's voluntary: $lvol"
sum() { echo "$1" | tr -d '[]' | tr ',' '\n' | awk '{ s += $1 } END { print s + 0 }'; }
ok "the intervals' voluntary switches add up to /proc/PID/status's over the window" \
	within "$(sum "$vol")" $((v1 - v0)) 5
ok "... and so do the involuntary ones" within "$(sum "$inv")" $((n1 - n0)) 5
ok "a workload that ran in interval 2 only shows there" sh -c '
	set -- $(echo "$0" | tr -d "[]" | tr "," " ")
	[ "$1" -le 1 ] && [ "$2" -ge 1000 ] && [ "$2" -le 1003 ] && [ "$3" = 0 ]' "$lvol"
ok "... and so do its runqueue waits (the interval's own distribution)" \
	[ "$(jq -s '.[1].isolation.runqueue_latency_ns.count >= .[0].isolation.runqueue_latency_ns.count + 900' "$J")" = true ]
ok "... and its syscalls in the rates table" \
	[ "$(jq -s "[.[] | [.syscall.rates[] | select(.tid == $L) | .syscalls] | add // 0] |
		.[1] >= 1000 and .[0] < 10 and .[2] < 10" "$J")" = true ]
# every tick is a local timer interrupt: the intervals' ticks, added up, are
# at most /proc/interrupts' LOC around the run; and intervals 1 and 3 carry
# the same load (S alone), so their ticks agree (one that held the run so
# far would have three times the first's)
loc=$(( $(awk -v c="$CPU" '{print $(c + 2)}' "$TMP/loc.b") - $(awk -v c="$CPU" '{print $(c + 2)}' "$TMP/loc.a") ))
ticks=$(jq -s "[.[] | .noise.tick[] | select(.cpu == $CPU) | .ticks] | add // 0" "$J")
ok "the intervals' ticks on CPU $CPU ($ticks) add up to at most its local timer interrupts ($loc)" \
	[ "$ticks" -gt 0 -a "$ticks" -le "$loc" ]
t13=$(jq -rs "[.[0], .[2] | [.noise.tick[] | select(.cpu == $CPU) | .ticks] | add // 0] | join(\" \")" "$J")
ok "... and intervals 1 and 3, under the same load, have as many ticks within 50 % ($t13)" \
	sh -c 'set -- $0; [ "$2" -le $(( $1 * 3 / 2 + 20 )) ] && [ "$1" -le $(( $2 * 3 / 2 + 20 )) ]' "$t13"
worst=$(jq -s '[.[].summary.exit_code] | max' "$J")
ok "the exit code is the worst verdict of any interval ($rc, worst $worst)" [ "$rc" = "$worst" ]
ok "an interval's worst list holds only that interval's events" \
	[ "$(jq -s '[.[] | .run.interval as $iv | .isolation.worst[] |
		(.time | sub("\\.[0-9]+Z$"; "Z") | fromdate) as $t |
		$t >= ($iv.start | sub("\\.[0-9]+Z$"; "Z") | fromdate) - 1 and
		$t <= ($iv.end | sub("\\.[0-9]+Z$"; "Z") | fromdate) + 1] | all' "$J")" = true ]

# --- text: a compact table per interval, then the whole run's boxes ----------
"$LS" -m isolation --cpus "$CPU" --interval 1 --count 2 --ascii >"$TMP/iv.txt" 2>"$TMP/iv.txt.err"
rc=$?
ok "text: a heading per interval (exit $rc)" [ "$(grep -c '^-- interval [12]: ' "$TMP/iv.txt")" = 2 ]
ok "... each with a line per monitored CPU" \
	[ "$(grep -cE "^ +$CPU +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" "$TMP/iv.txt")" = 2 ]
ok "... then the whole run's report" grep -q 'ISOLATION VERIFIER' "$TMP/iv.txt"

# --- a thread that exits leaves the per-thread tables after its last interval -----
# (a run of hours would otherwise list every thread since it began, until
# the maps are full and new threads go unseen)
"$LS" -v -m syscall --cpus "$CPU" --interval 1 --count 3 --ascii >"$TMP/ex.txt" 2>"$TMP/ex.err" &
LSPID=$!
bg_pids="$bg_pids $LSPID"
wait_for "$TMP/ex.err" "latencyscope: tracing CPUs" || diag "never attached"
"$WL/sleeper" "$CPU" 1000 200 >/dev/null	# 0.2 s of sleeps, then it exits
wait "$LSPID"
ok "an exited thread's entries are removed after an interval reports them" \
	grep -qE "syscall: [1-9][0-9]* entries of exited threads removed" "$TMP/ex.err"
ok "... and the whole run's report says how many it removed" \
	sh -c 'tr -s " |\n" " " <"$0" | grep -qE "[1-9][0-9]* map entries of threads that exited were removed"' "$TMP/ex.txt"

# --- prometheus: the run so far, rewritten every interval ---------------------
mkdir -p "$TMP/prom"
P="$TMP/prom/ls.prom"
"$LS" -m isolation --cpus "$CPU" --interval 2 --count 2 -o "$P" 2>"$TMP/p.err" &
LSPID=$!
bg_pids="$bg_pids $LSPID"
wait_for "$TMP/p.err" "latencyscope: tracing CPUs" || diag "never attached"
sleep 3	# the first interval written (at 2 s, slower under a sanitizer), not the second
first=$(awk '$1 == "latencyscope_run_duration_seconds" { print $2 }' "$P" 2>/dev/null)
c1=$(awk '/^latencyscope_context_switches_total/ { s += $2 } END { print s + 0 }' "$P" 2>/dev/null)
wait "$LSPID"
last=$(awk '$1 == "latencyscope_run_duration_seconds" { print $2 }' "$P")
c3=$(awk '/^latencyscope_context_switches_total/ { s += $2 } END { print s + 0 }' "$P")
diag "run duration in the file: ${first:-none} s after the first interval, $last s at the end;" \
	"context switches $c1 then $c3"
ok "-f prometheus --interval: the file is there after the first interval, covering it" \
	awk -v d="${first:-0}" 'BEGIN { exit !(d > 1.9 && d < 2.6) }'
ok "... and at the end covers the whole run, its counters grown" \
	awk -v d="$last" -v a="$c1" -v b="$c3" 'BEGIN { exit !(d > 3.9 && b > a) }'
ok "... promtool accepts it" promtool check metrics <"$P"
ok "... and no temporary is left beside it" [ "$(ls -A "$TMP/prom")" = ls.prom ]

# --- refused ---------------------------------------------------------------------
"$LS" --interval 1 -f html -o "$TMP/x.html" 2>"$TMP/r.err"
rc=$?
ok "--interval with -f html: exit 3 naming why" sh -c '[ "$1" = 3 ] && grep -q "covers one whole run" "$0"' "$TMP/r.err" "$rc"
"$LS" --count 3 2>"$TMP/r2.err"
rc=$?
ok "--count without --interval: exit 3 and the fix" sh -c '[ "$1" = 3 ] && grep -q "needs --interval" "$0"' "$TMP/r2.err" "$rc"
ok "no BPF program is left attached" no_programs_left
done_testing
