#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# prometheus.sh - -f prometheus read by the tools a fleet runs: promtool
# accepts the exposition, node_exporter (started here on 127.0.0.1 with its
# textfile collector) serves it without a scrape error, and every value is
# the JSON report's of the same run (its bill of health, read with jq).

. "$(dirname "$0")/lib.sh"
require_kernel
require_cmd promtool "apt-get install prometheus"
require_cmd prometheus-node-exporter "apt-get install prometheus-node-exporter"
require_cmd curl "apt-get install curl"

CPU=$(( $(nproc) - 1 ))
D="$TMP/textfile"
mkdir -p "$D"

bg "$WL/sleeper" "$CPU" 200 100000000
S=$BG
"$LS" -m isolation,irq,syscall,memory --cpus "$CPU" -d 2 -o "$D/latencyscope.prom" \
	--bill-of-health "$TMP/boh.json" 2>"$TMP/p.err"
rc=$?
kill "$S" 2>/dev/null
J="$TMP/boh.json"
P="$D/latencyscope.prom"
ok "a run with -o FILE.prom writes the exposition (exit $rc)" [ "$rc" -le 2 -a -s "$P" ]
ok "... and nothing else in the collector's directory (written beside, then renamed)" \
	[ "$(ls -A "$D")" = latencyscope.prom ]
promtool check metrics <"$P" >"$TMP/promtool.out" 2>&1
ok "promtool check metrics accepts it ($(head -c 200 "$TMP/promtool.out"))" [ $? = 0 ]
fams=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$P" | sort | tr '\n' ' ')
diag "families: $fams"
for f in latencyscope_info latencyscope_verdict latencyscope_lost_events_total \
	latencyscope_runqueue_latency_seconds latencyscope_context_switches_total \
	latencyscope_irq_seconds_total latencyscope_softirq_seconds_total \
	latencyscope_page_faults_total latencyscope_futex_wait_seconds; do
	case " $fams " in *" $f "*) r=true ;; *) r=false ;; esac
	ok "family $f is there with HELP and TYPE" sh -c "$r && grep -q '^# HELP $f ' '$P'"
done

# val NAME{LABELS}: the sample's value in the exposition
val() { awk -v k="$1" '$1 == k { print $2 }' "$P"; }
n=$(jq_ "$J" '.report.isolation.runqueue_latency_ns.count')
ok "the runqueue histogram's _count is the JSON report's sample count ($n)" \
	[ "$(val latencyscope_runqueue_latency_seconds_count)" = "$n" -a "$n" -gt 1000 ]
ok "... and its +Inf bucket too" [ "$(val 'latencyscope_runqueue_latency_seconds_bucket{le="+Inf"}')" = "$n" ]
mean=$(jq_ "$J" '.report.isolation.runqueue_latency_ns.mean')
ok "... its _sum / _count is the report's mean (+-1 ns)" awk -v s="$(val latencyscope_runqueue_latency_seconds_sum)" \
	-v n="$n" -v m="$mean" 'BEGIN { d = s * 1e9 / n - m; exit !(d < 1 && d > -1) }'
# a bucket bound 2^k - 1 ns: the report's buckets at or below it, summed by jq
le=1.6383e-05
want=$(jq_ "$J" '[.report.isolation.runqueue_latency_ns.buckets[] | select(.[0] <= 16383) | .[1]] | add // 0')
ok "the le=\"$le\" bucket counts the report's buckets up to 16383 ns ($want)" \
	[ "$(val "latencyscope_runqueue_latency_seconds_bucket{le=\"$le\"}")" = "$want" ]
ok "cumulative buckets never decrease" sh -c "grep '^latencyscope_runqueue_latency_seconds_bucket' '$P' |
	awk '{ if (\$2 < p) bad = 1; p = \$2 } END { exit bad }'"
fw=$(jq_ "$J" '.report.syscall.futex.wait_ns.count')
ok "the futex wait histogram's _count is the report's ($fw)" [ "$(val latencyscope_futex_wait_seconds_count)" = "$fw" ]
inv=$(jq_ "$J" ".report.isolation.per_cpu[] | select(.cpu == $CPU) | .involuntary")
ok "involuntary context switches on CPU $CPU are the report's ($inv)" \
	[ "$(val "latencyscope_context_switches_total{cpu=\"$CPU\",kind=\"involuntary\"}")" = "$inv" ]
t=$(jq_ "$J" ".report.irq.softirqs[] | select(.vector == \"TIMER\" and .cpu == $CPU) | .count")
ok "TIMER softirqs on CPU $CPU are the report's ($t)" \
	[ "$(val "latencyscope_softirqs_total{cpu=\"$CPU\",vector=\"TIMER\"}")" = "$t" ]
mi=$(jq_ "$J" '.report.memory.page_faults.minor')
ok "minor page faults are the report's ($mi)" [ "$(val 'latencyscope_page_faults_total{kind="minor"}')" = "$mi" ]
bad=0
for m in isolation irq syscall memory; do
	v=$(jq_ "$J" ".report.$m.verdict")
	want=$(case $v in pass) echo 0 ;; warn) echo 1 ;; fail) echo 2 ;; *) echo 3 ;; esac)
	[ "$(val "latencyscope_verdict{module=\"$m\"}")" = "$want" ] || bad=$((bad + 1))
done
ok "each module's verdict gauge is its JSON verdict (0 pass, 1 warn, 2 fail)" [ "$bad" = 0 ]

# --- node_exporter serves it ------------------------------------------------
port=$(( 20000 + $$ % 20000 ))
bg prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$D"
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/scrape.txt" 2>/dev/null && break
	sleep 0.1
done
ok "node_exporter's textfile collector reads it without an error" \
	grep -q '^node_textfile_scrape_error 0' "$TMP/scrape.txt"
ok "... and serves the runqueue histogram with the same count" \
	[ "$(awk '$1 == "latencyscope_runqueue_latency_seconds_count" { print $2 }' "$TMP/scrape.txt")" = "$n" ]
ok "... and the verdicts" grep -q '^latencyscope_verdict{module="isolation"}' "$TMP/scrape.txt"
kill "$BG" 2>/dev/null

"$LS" -m isolation -d 0.5 -f prometheus >"$TMP/stdout.prom" 2>/dev/null
ok "-f prometheus without --output writes to stdout" grep -q '^latencyscope_info{' "$TMP/stdout.prom"
ok "no BPF program is left attached" no_programs_left
done_testing
