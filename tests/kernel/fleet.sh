#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fleet.sh - what contrib/ ships for a fleet: the systemd unit is one
# systemd accepts and its command line runs (two intervals, not sixty
# seconds each) and writes an exposition promtool accepts; every query of
# the Grafana dashboard is PromQL that promtool accepts and reads a family
# latencyscope writes.

. "$(dirname "$0")/lib.sh"
require_kernel
require_cmd promtool "apt-get install prometheus"
require_cmd systemd-analyze "apt-get install systemd"

UNIT="$top_srcdir/contrib/latencyscope.service"
DASH="$top_srcdir/contrib/grafana-dashboard.json"

# --- the unit -------------------------------------------------------------
sed "s|^ExecStart=[^ ]*|ExecStart=$LS|" "$UNIT" >"$TMP/latencyscope.service"
systemd-analyze verify --man=no "$TMP/latencyscope.service" >"$TMP/verify.out" 2>&1
rc=$?
ok "systemd-analyze verifies the unit without a complaint (exit $rc: $(head -c 300 "$TMP/verify.out"))" \
	[ "$rc" = 0 -a ! -s "$TMP/verify.out" ]
cmd=$(sed -n 's/^ExecStart=[^ ]* //p' "$UNIT")
ok "the unit runs --interval 60 -f prometheus into node_exporter's textfile directory" \
	sh -c 'case "$0" in *"--interval 60 "*"--format prometheus --output /var/lib/prometheus/node-exporter/"*.prom*) ;; *) exit 1 ;; esac' "$cmd"
mkdir -p "$TMP/textfile"
P="$TMP/textfile/latencyscope.prom"
# the unit's own arguments, with one-second intervals, two of them, into $TMP
args=$(echo "$cmd" | sed -e 's/--interval 60/--interval 1 --count 2/' \
	-e "s|--output [^ ]*|--output $P|")
# shellcheck disable=SC2086
"$LS" $args 2>"$TMP/unit.err"
rc=$?
ok "its command line runs (exit $rc: $(head -c 200 "$TMP/unit.err"))" [ "$rc" -le 2 ]
ok "... and writes an exposition promtool accepts" sh -c 'promtool check metrics <"$0"' "$P"
ok "... of two seconds" \
	awk '$1 == "latencyscope_run_duration_seconds" { d = $2 } END { exit !(d > 1.9 && d < 2.5) }' "$P"

# --- the dashboard ----------------------------------------------------------
ok "the dashboard is JSON with panels that query Prometheus" \
	[ "$(jq '[.panels[].targets[].expr] | length' "$DASH")" -ge 10 ]
# as recording rules, Grafana's variables given values: promtool parses each query
jq -r '.panels[].targets[].expr' "$DASH" | sed -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g' |
	awk 'BEGIN { print "groups:\n- name: dashboard\n  rules:" }
		{ gsub(/\047/, "\047\047"); printf "  - record: dashboard:q%d\n    expr: \047%s\047\n", NR, $0 }' \
	>"$TMP/rules.yml"
promtool check rules "$TMP/rules.yml" >"$TMP/rules.out" 2>&1
ok "promtool accepts every dashboard query ($(grep -c record "$TMP/rules.yml") of them)" \
	sh -c 'grep -q "SUCCESS" "$0"' "$TMP/rules.out" || cat "$TMP/rules.out" | sed 's/^/# /'
# every family a query reads is one latencyscope writes (the probes' cost
# only with --self-cost, so one run has it on)
"$LS" -m isolation,irq,syscall,memory -d 1 --self-cost full -f prometheus -o "$TMP/all.prom" 2>/dev/null
fams=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$TMP/all.prom" | sort -u | tr '\n' ' ')
missing=
for m in $(jq -r '.panels[].targets[].expr' "$DASH" | grep -o 'latencyscope_[a-z_]*' |
	sed 's/_\(bucket\|sum\|count\)$//' | sort -u); do
	case " $fams " in *" $m "*) ;; *) missing="$missing $m" ;; esac
done
ok "every family the dashboard reads is written by latencyscope (missing:${missing:- none})" [ -z "$missing" ]
ok "no BPF program is left attached" no_programs_left
done_testing
