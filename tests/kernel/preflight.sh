#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# preflight.sh - bad input and broken environments exit 3 with a message that
# names the problem, and leave no BPF program behind.

. "$(dirname "$0")/lib.sh"
require_kernel

# fails CODE PATTERN ARGS...: latencyscope ARGS exits CODE and stderr matches
fails() {
	local code=$1 pat=$2 rc; shift 2
	"$LS" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq "$code" ] || { diag "exit $rc, want $code"; sed 's/^/#   /' "$TMP/err"; return 1; }
	grep -q -- "$pat" "$TMP/err" || { diag "stderr lacks '$pat':"; sed 's/^/#   /' "$TMP/err"; return 1; }
}

ok "--help exits 0 and teaches the options" sh -c '"$0" --help | grep -q -- "--threshold KEY=VALUE"' "$LS"
ok "--version prints the version" sh -c '"$0" --version | grep -q "^latencyscope [0-9]"' "$LS"
ok "--list-modules names isolation" sh -c '"$0" --list-modules | grep -q "^isolation "' "$LS"
ok "unknown module exits 3" fails 3 "unknown module 'bogus'" --module bogus
ok "malformed CPU list exits 3" fails 3 "reversed" --cpus 3-1
ok "--cpus 99 exits 3: no such CPU" fails 3 "CPU 99 does not exist" --cpus 99 --duration 1
ok "--pid 999999 exits 3: no such process" fails 3 "process 999999 does not exist" --pid 999999 --duration 1
ok "unknown threshold exits 3 and lists the keys" fails 3 "isolation.runq_p99_99" -t nope=1
ok "bad duration exits 3" fails 3 "invalid --duration" --duration abc
ok "--kernel-headers without include/ exits 3" fails 3 "not a kernel header tree" \
	--kernel-headers "$TMP" --duration 1
ok "unwritable --output exits 3" fails 3 "pick a writable path for --output" -o /nonexistent/dir/r.json -d 1
ok "unwritable --bill-of-health exits 3 before the run" fails 3 "pick a writable path for --bill-of-health" \
	--bill-of-health /nonexistent/dir/b.json -m isolation -d 1
ok "a wallclock option without the wallclock module is named in a warning" sh -c \
	'"$0" -m isolation --state S -d 0.2 2>&1 >/dev/null | grep -q -- "--state only applies to the wallclock module"' "$LS"
ok "--allow-block without the syscall module is named in a warning" sh -c \
	'"$0" -m isolation --allow-block read -d 0.2 2>&1 >/dev/null | grep -q -- "--allow-block only applies to the syscall module"' "$LS"
ok "--interface without the network module is named in a warning" sh -c \
	'"$0" -m isolation --interface lo -d 0.2 2>&1 >/dev/null | grep -q -- "--interface only applies to the network module"' "$LS"
ok "--help lists each module's own options under its name" sh -c \
	'"$0" --help | grep -A2 "^network module" | grep -q -- "--interface LIST"' "$LS"
ok "--list-modules lists them too" sh -c '"$0" --list-modules | grep -q -- "--allow-block LIST"' "$LS"
"$LS" -m isolation --cpus 0 --pid $$ -d 0.3 >/dev/null 2>"$TMP/started.err"
ok "once attached, one line says what is traced and for how long" \
	grep -q "^latencyscope: tracing CPUs 0\( (isolated)\)\{0,1\}, PIDs $$ for 0.3 s; Ctrl-C ends early and still reports$" \
	"$TMP/started.err"
"$LS" -q -m isolation --cpus 0 -d 0.3 -o "$TMP/q.txt" 2>"$TMP/quiet.err"
ok "--quiet: no progress lines (neither that one nor where the report went)" \
	sh -c '! grep -q "tracing CPUs\|written to" "$0" && grep -q ISOLATION "$1"' "$TMP/quiet.err" "$TMP/q.txt"
ok "a missing probe file exits 3 naming --probes-dir" fails 3 "pass --probes-dir" \
	--probes-dir "$TMP" --duration 1

# Ctrl-C while the probes compile (seconds per module): exit 3 at once, nothing written
"$LS" -v -m isolation,irq,syscall -d 10 -o "$TMP/int.json" >/dev/null 2>"$TMP/int.err" &
L=$!
bg_pids="$bg_pids $L"
wait_for "$TMP/int.err" "cflag" 30 || diag "compiling never began"
kill -INT "$L"
wait "$L"
rc=$?
ok "SIGINT while compiling exits 3 (exit $rc)" [ "$rc" -eq 3 ]
ok "... saying that tracing had not started" grep -q "interrupted before tracing started" "$TMP/int.err"
ok "... before attaching anything, and writes no report" \
	sh -c '! grep -q "latencyscope: tracing CPUs" "$0" && [ ! -e "$1" ]' "$TMP/int.err" "$TMP/int.json"

# non-root: exit 3 with the fix
ok "non-root exits 3 with the fix" sh -c '
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$0" --duration 1 >/dev/null 2>"$1/np"; rc=$?
	[ $rc -eq 3 ] && grep -q "not enough privileges" "$1/np" && grep -q sudo "$1/np"' "$LS" "$TMP"

# CAP_BPF and CAP_PERFMON without root: a tracefs of mode 0700 is unreadable, not "unmounted"
mode=$(stat -c %a /sys/kernel/tracing)
RESTORE="chmod $mode /sys/kernel/tracing"
chmod 700 /sys/kernel/tracing
ok "with CAP_BPF and CAP_PERFMON only, an unreadable tracefs is named as such" sh -c '
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+bpf,+perfmon \
		--ambient-caps=+bpf,+perfmon "$0" -m isolation --duration 0.3 >/dev/null 2>"$1/cap"; rc=$?
	[ $rc -eq 3 ] && grep -q "cannot read it" "$1/cap" && ! grep -q "not mounted" "$1/cap"' "$LS" "$TMP"
chmod "$mode" /sys/kernel/tracing
RESTORE=

# a probe with a syntax error: file:line of the error, exit 3
mkdir -p "$TMP/bad"
cp "$top_srcdir"/probes/*.h "$TMP/bad/"
line=$(grep -n 'c->switches++;' "$top_srcdir/probes/isolation.c" | head -1 | cut -d: -f1)
sed "${line}s/c->switches++;/c->switches++ +;/" "$top_srcdir/probes/isolation.c" >"$TMP/bad/isolation.c"
ok "a probe syntax error exits 3 with file:line" \
	fails 3 "$TMP/bad/isolation.c:$line:" --probes-dir "$TMP/bad" -m isolation -d 1
ok "... and says the probe does not compile" grep -q "does not compile" "$TMP/err"

# a probe that needs a tracepoint this kernel lacks: not measured, exit 3 (nothing else ran)
cp "$top_srcdir/probes/isolation.c" "$TMP/bad/isolation.c"
printf 'TRACEPOINT_PROBE(nosuchcat, nosuchevent) { return 0; }\n' >>"$TMP/bad/isolation.c"
"$LS" --probes-dir "$TMP/bad" -m isolation -d 0.2 --json >"$TMP/nm.json" 2>"$TMP/err"
rc=$?
ok "a missing tracepoint marks the module not measured" \
	sh -c '[ "$(jq -r .isolation.verdict "$0")" = not_measured ]' "$TMP/nm.json"
ok "... the report names the tracepoint" grep -q "nosuchcat:nosuchevent" "$TMP/nm.json"
ok "... and a run that measured nothing exits 3" [ "$rc" -eq 3 ]

# a map's struct changed in probes/ but the binary not rebuilt: refused before it runs
mkdir -p "$TMP/edited"
cp "$top_srcdir"/probes/* "$TMP/edited/"
sed -i 's/^\(\tls_u64\tslot_busy;.*\)$/\1\n\tls_u64\tadded;/' "$TMP/edited/memory.h"
ok "a probe header edited since the build exits 3" \
	fails 3 "map mem_cpu has 4-byte keys and [0-9]*-byte values, latencyscope was built for" \
	--probes-dir "$TMP/edited" -m memory -d 1
ok "... and says how to fix it" grep -q "rebuild with make" "$TMP/err"

ok "no BPF program is left attached after the failures" no_programs_left
done_testing
