#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# gating.sh - what a CI gate reads. --budget FILE: limits on the JSON
# report's values judged like verdicts; one run of a sleeper with a tight, a
# loose, a missing and a selected check, each check's value the one the same
# report gives at its path (read back with jq, which did not write it); a bad
# file is refused before any probe loads. -f junit: valid against the JUnit
# schema (xmllint), its cases and failures those of the JSON report of the
# same run (Python's xml.etree). --baseline OLD.json: ten quiet runs of a
# sleeper against one saved run raise no regression (the false alarms this
# VM gives, stated in the man page); three CPU hogs at nice -10 on its CPU
# are a regression of its runqueue latency, with the change and the
# confidence; a changed host is named as the likely cause.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))

cat >"$TMP/budget.json" <<'EOF'
{
  "isolation.runqueue_latency_ns.p99": { "max": "1ns" },
  "isolation.runqueue_latency_ns.count": { "min": 100, "max": 1000000000 },
  "isolation.no_such_histogram.p99": { "max": "10us" },
  "irq.softirqs[vector=TIMER].count": { "min": 1 }
}
EOF
bg "$WL/sleeper" "$CPU" 1000 1000000	# outlives the compile (slow under ASan); killed after
S=$BG
"$LS" -m isolation,irq --cpus "$CPU" --pid "$S" -d 2 --budget "$TMP/budget.json" --json \
	-o "$TMP/r.json" 2>"$TMP/r.err"
rc=$?
kill "$S" 2>/dev/null
# check KEY FIELD: a field of the budget row for KEY
check() { jq -r --arg k "$1" ".budget.checks[] | select(.key == \$k) | .$2" "$TMP/r.json"; }
diag "budget: $(jq -c '[.budget.checks[] | [.key, .value, .status]]' "$TMP/r.json")"
ok "a run with a budget writes its checks (exit $rc)" [ "$(jq '.budget.checks | length' "$TMP/r.json")" = 4 ]
ok "a tight limit on the sleeper's runqueue p99 fails" \
	[ "$(check isolation.runqueue_latency_ns.p99 status)" = fail ]
ok "... its value is the report's own p99 at that path" \
	[ "$(check isolation.runqueue_latency_ns.p99 value)" = "$(jq '.isolation.runqueue_latency_ns.p99 | round' "$TMP/r.json")" ]
ok "... and a breach is a violation (exit 2)" [ "$rc" = 2 ]
ok "... whose finding names the key and the file" \
	[ "$(jq --arg f "$TMP/budget.json" '[.budget.findings[] | select(.level == "fail" and (.message | contains("isolation.runqueue_latency_ns.p99") and contains($f)))] | length' "$TMP/r.json")" = 1 ]
r=false
[ "$(check isolation.runqueue_latency_ns.count status)" = pass ] &&
	[ "$(check isolation.runqueue_latency_ns.count value)" = "$(jq '.isolation.runqueue_latency_ns.count' "$TMP/r.json")" ] && r=true
ok "a loose limit (min and max) passes, with the report's count as its value" $r
r=false
[ "$(check isolation.no_such_histogram.p99 status)" = missing ] &&
	[ "$(jq '[.budget.findings[] | select(.level == "warn" and (.message | contains("no_such_histogram")))] | length' "$TMP/r.json")" = 1 ] && r=true
ok "a key the report lacks is a warning that names it" $r
want=$(jq '[.irq.softirqs[] | select(.vector == "TIMER") | .count] | min' "$TMP/r.json")
r=false
[ "$(check 'irq.softirqs[vector=TIMER].count' value)" = "$want" ] &&
	[ "$(check 'irq.softirqs[vector=TIMER].count' status)" = pass ] && r=true
ok "[vector=TIMER] picks every TIMER row and a min limit judges the least ($want)" $r
ok "the budget's verdict is a module's: fail" [ "$(jq -r .budget.verdict "$TMP/r.json")" = fail ]

# the text report has a BUDGET box
"$LS" -m isolation --cpus "$CPU" -d 0.5 --no-color --budget "$TMP/budget.json" >"$TMP/r.txt" 2>/dev/null
ok "the boxed report shows the BUDGET box" grep -q "BUDGET" "$TMP/r.txt"

# --- JUnit: the same verdicts, in the file CI servers show -------------------------
bg "$WL/sleeper" "$CPU" 1000 1000000	# outlives the compile (slow under ASan); killed after
S=$BG
"$LS" -m isolation,irq --cpus "$CPU" --pid "$S" -d 2 --budget "$TMP/budget.json" -o "$TMP/r.xml" \
	--bill-of-health "$TMP/r.boh.json" 2>"$TMP/x.err"
rc=$?
kill "$S" 2>/dev/null
ok "-o FILE.xml writes JUnit (exit $rc)" grep -q "<testsuites" "$TMP/r.xml"
xmllint --noout --schema "$top_srcdir/tests/xml/junit.xsd" "$TMP/r.xml" 2>"$TMP/xsd.err"
ok "it is valid against the JUnit schema (xmllint --schema)" [ $? = 0 ]
# Python's parser counts the cases; jq counts the verdicts of the same run
got=$(python3 -c '
import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot().find("testsuite")
cs = s.findall("testcase")
print(len(cs), sum(c.find("failure") is not None for c in cs), sum(c.find("skipped") is not None for c in cs),
      s.get("tests"), s.get("failures"), int("SUMMARY:" in (s.findtext("system-out") or "")))' "$TMP/r.xml")
want=$(jq -r '.report as $r | [$r.run.modules[] | select(. != "budget")] as $m |
	"\($m | length + ($r.budget.checks | length)) \(([$m[] | $r[.].verdict | select(. == "fail")] | length) + ([$r.budget.checks[] | select(.status == "fail")] | length)) \(([$m[] | $r[.].verdict | select(. == "not_measured")] | length) + ([$r.budget.checks[] | select(.status == "missing")] | length))"' "$TMP/r.boh.json")
diag "junit: cases failures skipped tests= failures= box: $got; from the JSON: $want"
set -- $got
ok "a test case per module and per budget check, a failure per FAIL, as the JSON report's" \
	[ "$1 $2 $3" = "$want" ]
ok "... and the suite's counts say the same" [ "$4 $5" = "$1 $2" ]
ok "... with the boxed report in <system-out>" [ "$6" = 1 ]
ok "the budget breach is a <failure> of its own case" \
	python3 -c '
import sys, xml.etree.ElementTree as E
c = [c for c in E.parse(sys.argv[1]).iter("testcase") if c.get("name") == "isolation.runqueue_latency_ns.p99"]
sys.exit(0 if len(c) == 1 and c[0].find("failure") is not None else 1)' "$TMP/r.xml"

# a malformed file: exit 3 naming line and column, before anything loads
printf '{\n  "lost_events": {"max": 0},\n  "isolation.runqueue_latency_ns.p99" {"max": "50us"}\n}\n' >"$TMP/bad.json"
"$LS" -m isolation -d 1 --budget "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"
rc=$?
diag "$(grep error "$TMP/bad.err")"
ok "a malformed budget exits 3 (rc $rc)" [ "$rc" = 3 ]
ok "... and names the file, line and column" grep -q "budget.*bad.json: line 3, column [0-9]*" "$TMP/bad.err"
echo '{"isolation.runqueue_latency_ns.p99": {"max": "50 parsecs"}}' >"$TMP/unit.json"
"$LS" -m isolation -d 1 --budget "$TMP/unit.json" >/dev/null 2>"$TMP/unit.err"
rc=$?
r=false
[ "$rc" = 3 ] && grep -q "use ns, us, ms or s" "$TMP/unit.err" && r=true
ok "a limit with an unknown unit exits 3 and says which units work" $r
# --- --baseline ---------------------------------------------------------------
# sleepy OUT [ARGS...]: the isolation module on a sleeper waking every 100 us
sleepy() {
	local out=$1 s
	shift
	bg "$WL/sleeper" "$CPU" 100 100000000
	s=$BG
	"$LS" -m isolation --cpus "$CPU" --pid "$s" -d 3 --json -o "$out" "$@" 2>"$out.err"
	rc=$?
	kill "$s" 2>/dev/null
}
sleepy "$TMP/base.json"
n=$(jq_ "$TMP/base.json" '.isolation.runqueue_latency_ns.count')
sum=$(jq_ "$TMP/base.json" '[.isolation.runqueue_latency_ns.buckets[][1]] | add')
ok "a histogram's buckets add up to its count ($sum of $n)" [ "$sum" = "$n" -a "$n" -gt 1000 ]
# ten runs; four under ASan (make check-sanitizers), which checks the same
# code for memory errors, not the false-alarm rate again
runs=10; [ -n "${LS_SANITIZERS:-}" ] && runs=4
alarms=0 keys=""
for i in $(seq "$runs"); do
	sleepy "$TMP/quiet$i.json" --baseline "$TMP/base.json"
	r=$(jq_ "$TMP/quiet$i.json" '[.baseline.regressions[].key] | join(" ")')
	[ -n "$r" ] && { alarms=$((alarms + 1)); keys="$keys $r"; }
done
diag "false alarms: $alarms of $runs quiet runs against one baseline ($(jq_ "$TMP/quiet1.json" .baseline.comparisons) comparisons each)${keys:+:$keys}"
ok "$runs quiet runs of the same workload: no regression" [ "$alarms" = 0 ]
ok "... and the report says it compared" \
	[ "$(jq_ "$TMP/quiet1.json" '.baseline.findings[0].message | test("no regression against")')" = true ]

hogs=""
for _ in 1 2 3; do
	bg nice -n -10 "$WL/spinner" "$CPU" 30
	hogs="$hogs $BG"
done
sleep 0.2
sleepy "$TMP/hog.json" --baseline "$TMP/base.json"
hog_rc=$rc
jq_ "$TMP/base.json" '.host.kernel = "5.10.0-0-old"' >"$TMP/oldkernel.json"
sleepy "$TMP/hog2.json" --baseline "$TMP/oldkernel.json" --fail-on-regression
kill $hogs 2>/dev/null
reg=$(jq -c '[.baseline.regressions[] | select(.key | startswith("isolation.runqueue_latency_ns."))][0]' "$TMP/hog.json")
diag "with three hogs: $reg"
ok "CPU hogs on its CPU: a regression of the runqueue latency" [ "$reg" != null ]
ok "... with the change (at least +200 %) and the confidence (over 99.9 %)" \
	[ "$(echo "$reg" | jq '.change >= 2 and .confidence > 0.999 and .now > .baseline')" = true ]
ok "... a warning (exit 1, got $hog_rc) by default" [ "$hog_rc" = 1 ]
ok "... a violation (exit 2, got $rc) with --fail-on-regression" [ "$rc" = 2 ]
ok "a changed kernel is listed and named as the likely cause" sh -c \
	'jq -e ".baseline.host_changes[] | select(.key == \"host.kernel\")" "$0" >/dev/null &&
	 jq -e ".baseline.findings[] | select(.level == \"fail\") | .recommendation | test(\"kernel.*likely cause\")" "$0" >/dev/null' \
	"$TMP/hog2.json"

printf '{"run": {"modules": ["isolation"],\n  "duration_s": 3,,}}\n' >"$TMP/badbase.json"
"$LS" -m isolation -d 1 --baseline "$TMP/badbase.json" 2>"$TMP/badbase.err" >/dev/null
rc=$?
ok "a malformed baseline exits 3 naming line and column (rc $rc)" \
	sh -c '[ "$0" = 3 ] && grep -q "baseline.*badbase.json: line 2, column [0-9]*" "$1"' "$rc" "$TMP/badbase.err"
"$LS" -m irq -d 1 --baseline "$TMP/base.json" 2>"$TMP/other.err" >/dev/null
rc=$?
ok "a baseline of other modules exits 3 and says to compare the same modules" \
	sh -c '[ "$0" = 3 ] && grep -q "same --module list" "$1"' "$rc" "$TMP/other.err"

ok "no BPF program is left attached" no_programs_left

done_testing
