#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# html.sh - -f html, one page that opens offline: well-formed (xmllint reads it
# as XML, and its HTML parser finds nothing wrong but the HTML5 and SVG element
# names it predates), a section per module that ran, nothing referenced over a
# network, and every number it shows (data-key, data-value) equal to the JSON
# report of the same run (--bill-of-health). A histogram's bars add up to its
# sample count, with the --budget limit drawn; the wallclock module's flame
# graph adds up to the threads' running and blocked time; the timeline's
# interference is a flame graph and a strip of the worst interruptions.

. "$(dirname "$0")/lib.sh"
require_kernel
CPU=$(( $(nproc) - 1 ))

cat >"$TMP/budget.json" <<'EOF'
{ "isolation.runqueue_latency_ns.p99": { "max": "50us" } }
EOF
bg "$WL/sleeper" "$CPU" 1000 1000000	# naps on the traced CPU: waits, syscalls, oversleeps
S=$BG
"$LS" -m isolation,irq,syscall --cpus "$CPU" -d 2 --trace-threshold 0 --budget "$TMP/budget.json" \
	-o "$TMP/r.html" --bill-of-health "$TMP/r.json" 2>"$TMP/r.err"
rc=$?
kill "$S" 2>/dev/null
ok "-o FILE.html writes the page (exit $rc)" [ "$rc" -le 2 -a -s "$TMP/r.html" ]

# --- well-formed, self-contained ---------------------------------------------------
xmllint --noout "$TMP/r.html" 2>"$TMP/xml.err"
ok "it is well-formed XML (xmllint)" [ $? = 0 ]
xmllint --html --noout "$TMP/r.html" 2>"$TMP/html.err"
grep "parser error" "$TMP/html.err" | grep -v "Tag [a-z]* invalid" >"$TMP/html.bad"
ok "xmllint's HTML parser finds nothing wrong (element names aside: $(grep -c "Tag" "$TMP/html.err"))" \
	[ ! -s "$TMP/html.bad" ]
[ -s "$TMP/html.bad" ] && diag "$(head -3 "$TMP/html.bad")"
for m in isolation irq syscall; do
	ok "a section for $m, with its verdict" \
		grep -q "<section class=\"module\" id=\"$m\" .*<span class=\"badge $(jq_ "$TMP/r.json" .report.$m.verdict)\">" \
		"$TMP/r.html"
done
ok "... and one per module that ran, no other module's" \
	[ "$(grep -o '<section class="module" id="[a-z_]*"' "$TMP/r.html" | grep -cv 'id="\(alpha\|timeline\|budget\)"')" = 3 ]
ok "nothing is fetched: no src, href, url() or @import with a network address, no link element" \
	sh -c '! grep -Eiq "(src|href|action|poster)=\"?(https?:|//)|url\(|@import|<link|<iframe|<img" "$0"' \
	"$TMP/r.html"

# --- every number shown is the JSON report's -----------------------------------------
grep -o 'data-key="[^"]*" data-value="[^"]*"' "$TMP/r.html" |
	sed 's/data-key="\([^"]*\)" data-value="\([^"]*\)"/\1\t\2/' >"$TMP/pairs.tsv"
jq -n -r --rawfile p "$TMP/pairs.tsv" --slurpfile j "$TMP/r.json" '
	$j[0].report as $r
	| [$p | split("\n")[] | select(length > 0) | split("\t")
	   | {k: .[0], v: (.[1] | tonumber)}
	   | (.k | [scan("[^.\\[\\]]+")] | map(tonumber? // .)) as $path
	   | . + {json: ($r | getpath($path))}]
	| [length, (map(select(.json != .v)) | length), (map(select(.json != .v)) | .[:3] | tostring)]
	| @tsv' >"$TMP/cmp.tsv"
IFS='	' read -r shown differ sample <"$TMP/cmp.tsv"
diag "numbers on the page: $shown; different from the JSON report: $differ $sample"
ok "every number the page shows equals the JSON report's ($shown of them)" \
	[ "${shown:-0}" -gt 100 -a "${differ:-1}" = 0 ]

# --- plots ----------------------------------------------------------------------------
plot=$(grep -o 'aria-labelledby="isolation.runqueue_latency_ns.plot-t".*' "$TMP/r.html" | sed 's#</svg>.*##')
bars=$(echo "$plot" | grep -o 'class="bar"[^>]*><title>[^<]*: [0-9]*</title>' |
	sed 's/.*: \([0-9]*\)<\/title>/\1/' | awk '{ s += $1 } END { print s + 0 }')
count=$(jq_ "$TMP/r.json" .report.isolation.runqueue_latency_ns.count)
ok "the runqueue histogram is a plot whose bars add up to its samples ($bars of $count)" \
	[ "$count" -gt 0 -a "$bars" = "$count" ]
pcts=$(jq_ "$TMP/r.json" '[.report.isolation.runqueue_latency_ns | .p50, .p90, .p99, .p99_9, .p99_99, .p99_999 | select(. != null)] | length')
ok "... with a line for each of its $pcts percentiles" \
	[ "$(echo "$plot" | grep -o '<line class="pct"' | wc -l)" = "$pcts" ]
ok "... and the --budget limit (p99 max 50us)" sh -c 'echo "$0" | grep -q "class=\"budget\".*budget: p99 max 50us"' "$plot"
ok "a per-CPU table is also drawn as bars" grep -q "<title>[^<]* per CPU</title>" "$TMP/r.html"

# --- the timeline: interference flame graph and the worst interruptions ---------------
flame_json() { sed -n "s#.*<script type=\"application/json\" id=\"$2\">\([^<]*\)</script>.*#\1#p" "$1"; }
flame_json "$TMP/r.html" flame-1 >"$TMP/alpha.json"
ok "the interference flame graph is there, its data readable" \
	sh -c 'grep -q "<section class=\"module\" id=\"alpha\"" "$0" && jq -e ".root[1] > 0" "$1" >/dev/null' \
	"$TMP/r.html" "$TMP/alpha.json"
ok "... every frame worth the sum of its children (module;kind;culprit)" \
	[ "$(jq 'def sums: length < 3 or ((.[1] == ([.[2][][1]] | add)) and all(.[2][]; sums)); .root | sums' "$TMP/alpha.json")" = true ]
ok "the worst interruptions are drawn per CPU" \
	sh -c 'grep -o "<section class=\"module\" id=\"timeline\".*" "$0" | grep -q "<rect class=\"ev"' "$TMP/r.html"

# --- the wallclock module: a flame graph of running and blocked time --------------------
"$WL/wallclock" 30 60 >"$TMP/w.out" &
W=$!
bg_pids="$bg_pids $W"
wait_for "$TMP/w.out" "pid=" 5
W=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$TMP/w.out")
"$LS" -m wallclock --pid "$W" -d 2 -f html -o "$TMP/w.html" --bill-of-health "$TMP/w.json" 2>"$TMP/w.err"
rc=$?
kill "$W" 2>/dev/null
flame_json "$TMP/w.html" flame-1 >"$TMP/wf.json"
want=$(jq_ "$TMP/w.json" '[.report.wallclock.threads[] | .on_cpu_ns + .off_cpu_ns] | add')
got=$(jq_ "$TMP/wf.json" '.root[1]')
ok "-f html with the wallclock module: a flame graph (exit $rc)" \
	sh -c 'grep -q "<div class=\"flame\" data-flame=\"flame-1\"" "$0"' "$TMP/w.html"
ok "... whose whole is the threads' running plus blocked time ($got ns, JSON $want ns)" \
	[ -n "$want" -a "$got" = "$want" ]
ok "... one child per thread, each its running plus blocked time" \
	[ "$(jq -n --slurpfile f "$TMP/wf.json" --slurpfile j "$TMP/w.json" \
		'($f[0] | [.root[2][][1]] | sort) == ([$j[0].report.wallclock.threads[] | .on_cpu_ns + .off_cpu_ns] | sort)')" = true ]

ok "-f html on the command line, not the file name, writes the page too" \
	sh -c '"$0" -m irq -d 0.2 -f html -o "$1" 2>/dev/null; head -c 15 "$1" | grep -q "<!DOCTYPE html>"' \
	"$LS" "$TMP/x.out"
ok "no BPF program is left attached" no_programs_left
done_testing
