#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# audit.sh - --audit against the files it reads, read here by other means
# (cat, the shell's own hex arithmetic): each value is the kernel's, a
# setting changed by the test changes the check's status, and it runs
# without root and without BPF.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))

# audit OUT: --audit --json for CPU $CPU into OUT
audit() { "$LS" --audit --cpus "$CPU" --json -o "$1" 2>"$1.err"; }
# field OUT ID KEY: one check's field
field() { jq -r ".audit.checks[] | select(.id == \"$2\") | .$3" "$1"; }

audit "$TMP/a.json"
rc=$?
ok "--audit runs and reports (exit $rc)" [ "$rc" -le 2 -a -s "$TMP/a.json" ]
bad=""
for id in cmdline.isolcpus cmdline.nohz_full cmdline.rcu_nocbs cmdline.irqaffinity \
	sysctl.kernel.timer_migration sysctl.vm.stat_interval sysctl.kernel.numa_balancing \
	sysctl.kernel.sched_rt_runtime_us sysctl.kernel.watchdog sysctl.kernel.nmi_watchdog \
	sysctl.vm.swappiness thp.enabled thp.defrag workqueue.cpumask cpufreq.governor \
	cpuidle.states clocksource irqbalance ksm.run; do
	[ "$(field "$TMP/a.json" "$id" status)" = "" ] && bad="$bad $id"
done
ok "every check the man page lists is there${bad:+ (missing:$bad)}" [ -z "$bad" ]
ok "each check has id, value, recommended, status, evidence and fix" \
	[ "$(jq '[.audit.checks[] | keys == ["evidence", "fix", "id", "recommended", "status", "value"]] | all' "$TMP/a.json")" = true ]
worst=$(jq -r '[.audit.checks[].status] | if index("fail") then 2 elif index("warn") then 1 else 0 end' "$TMP/a.json")
ok "the exit code is the worst check's ($worst)" [ "$rc" = "$worst" ]

# values: as the kernel shows them
bad=""
for s in kernel.timer_migration vm.stat_interval vm.swappiness kernel.sched_rt_runtime_us kernel.watchdog; do
	f=/proc/sys/$(echo "$s" | tr . /)
	[ -r "$f" ] && [ "$(field "$TMP/a.json" "sysctl.$s" value)" != "$(cat "$f")" ] && bad="$bad $s"
done
ok "sysctl values are /proc/sys's${bad:+ (differ:$bad)}" [ -z "$bad" ]
mask=$(tr -d ',\n' </sys/devices/virtual/workqueue/cpumask)
n=$((0x$mask)) list="" c=0
while [ "$n" -gt 0 ]; do
	[ $((n & 1)) = 1 ] && list="$list${list:+,}$c"
	n=$((n >> 1)) c=$((c + 1))
done
got=$(field "$TMP/a.json" workqueue.cpumask value | awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); for (c = r[1]; c <= r[n]; c++) printf "%s%d", (o++ ? "," : ""), c } }')
ok "the workqueue cpumask is sysfs' hex mask ($mask = CPUs $list)" [ "$got" = "$list" ]
inmask=$(( (0x$mask >> CPU) & 1 ))
want=pass; [ "$inmask" = 1 ] && want=warn
ok "... a warning when it includes CPU $CPU ($want)" [ "$(field "$TMP/a.json" workqueue.cpumask status)" = "$want" ]
thp=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)
ok "thp.enabled is the selected mode ($thp)" [ "$(field "$TMP/a.json" thp.enabled value)" = "$thp" ]
grep -qw nohz_full /proc/cmdline && want=pass || want=warn
ok "cmdline.nohz_full follows /proc/cmdline ($want)" [ "$(field "$TMP/a.json" cmdline.nohz_full status)" = "$want" ]

# statuses: a setting changed here changes the check
old=$(cat /proc/sys/vm/stat_interval)
echo 10 >/proc/sys/vm/stat_interval
audit "$TMP/b.json"
echo 1 >/proc/sys/vm/stat_interval
audit "$TMP/c.json"
echo "$old" >/proc/sys/vm/stat_interval
ok "vm.stat_interval 10 passes, 1 warns with the sysctl that fixes it" \
	[ "$(field "$TMP/b.json" sysctl.vm.stat_interval status) $(field "$TMP/c.json" sysctl.vm.stat_interval status)" = "pass warn" ]
ok "... and the warning is a finding with that fix" \
	jq -e '.audit.findings[] | select(.message | startswith("sysctl.vm.stat_interval is 1")) | .recommendation | startswith("sysctl -w vm.stat_interval=10")' "$TMP/c.json"
T=/sys/kernel/mm/transparent_hugepage/enabled
old=$(sed 's/.*\[\(.*\)\].*/\1/' "$T")
echo always >"$T" && audit "$TMP/d.json"
echo "$old" >"$T"
ok "THP always warns" [ "$(field "$TMP/d.json" thp.enabled status)" = warn ]
cp /bin/sleep "$TMP/irqbalance"
bg "$TMP/irqbalance" 30
audit "$TMP/e.json"
kill "$BG"
ok "a running irqbalance warns, naming the CPUs to ban" sh -c \
	'[ "$(jq -r ".audit.checks[] | select(.id == \"irqbalance\") | .status + \" \" + .fix" "$0")" = "warn systemctl disable --now irqbalance, or IRQBALANCE_BANNED_CPULIST='"$CPU"' in /etc/default/irqbalance" ]' \
	"$TMP/e.json"

# no root, no BPF
chmod 755 "$TMP"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$LS" --audit --cpus "$CPU" --json >"$TMP/n.json" 2>"$TMP/n.err"
rc=$?
ok "as nobody it runs (exit $rc) with the same checks" \
	[ "$rc" -le 2 -a "$(jq -c '[.audit.checks[].id]' "$TMP/n.json")" = "$(jq -c '[.audit.checks[].id]' "$TMP/a.json")" ]
ok "... and loads no BPF program" no_programs_left
"$LS" --audit --cpus "$CPU" >"$TMP/t.txt" 2>&1
ok "the text report has a TUNING AUDIT box" grep -q "TUNING AUDIT" "$TMP/t.txt"
"$LS" --audit -m irq 2>"$TMP/m.err" >/dev/null
rc=$?
ok "--audit with --module exits 3 saying what to drop" sh -c '[ "$0" = 3 ] && grep -q "audit traces nothing: drop --module" "$1"' "$rc" "$TMP/m.err"
done_testing
