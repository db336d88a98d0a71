# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - TAP helpers for the kernel tests: real probes, real workloads.
#
# Outside CI a machine that cannot load BPF skips these tests; with CI=true
# a skip is a failure, so CI never passes without having run them.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
LS="$top_builddir/latencyscope"
WL="$top_builddir/tests/workloads"
TMP=$(mktemp -d /tmp/ls-test.XXXXXX)
export LATENCYSCOPE_PROBES_DIR="$top_srcdir/probes"
export NO_COLOR=1
tap_n=0
tap_fail=0
bg_pids=""

cleanup() {
	for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "${RESTORE:-}" ] && eval "$RESTORE"	# system settings a test changed
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() {	# ok DESC COMMAND...: the command's status is the result
	local desc=$1; shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $desc"
	else
		echo "not ok $tap_n - $desc"
		tap_fail=$((tap_fail + 1))
	fi
}

diag() { printf '# %s\n' "$@"; }

done_testing() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}

# require_kernel: root, BPF and tracefs, or skip (fail under CI)
require_kernel() {
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="not root"
	elif [ ! -x "$LS" ]; then
		why="$LS is not built"
	elif [ ! -e /sys/kernel/btf/vmlinux ] && [ ! -d /sys/fs/bpf ]; then
		why="no BPF on this kernel"
	fi
	[ -z "$why" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - kernel tests must run in CI but cannot: $why"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP kernel tests need root and BPF: $why"
	exit 0
}

# require_cmd CMD HOW: the test needs CMD (installed by scripts/setup); like
# require_kernel, a skip outside CI and a failure in it
require_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - this test must run in CI but $1 is missing: $2"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $1 is missing: $2"
	exit 0
}

# bg CMD...: start a workload in the background and remember it
bg() {
	"$@" &
	BG=$!
	bg_pids="$bg_pids $BG"
}

# wait_for FILE PATTERN [SECONDS]: until a line matches (polls every 10 ms)
wait_for() {
	local i=0 max=$(( ${3:-30} * 100 ))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt "$max" ] && return 1
		sleep 0.01
	done
}

# status_field PID FIELD: a counter from /proc/PID/status
status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# jq_ FILE FILTER: a value from a JSON report
jq_() { jq -r "$2" "$1"; }

# within A B TOL: |A - B| <= TOL
within() {
	local d=$(( $1 - $2 ))
	[ "${d#-}" -le "$3" ] || { diag "got $1, want $2 +- $3"; return 1; }
}

# our_prog_ids: loaded programs of the kinds ours are (tracepoint, raw
# tracepoint, perf event). Not by name: a probe loaded from the cache is
# named without its tracepoint__ or raw_tracepoint__ prefix, a compiled
# one with it, both cut at 15 characters.
our_prog_ids() {
	bpftool -j prog show 2>/dev/null |
		jq -r '.[] | select(.type == "tracepoint" or .type == "raw_tracepoint" or .type == "perf_event") | .id'
}
# other BPF users may run on the host: only programs loaded after this
# test began count as ours
PROGS_BEFORE=" $(our_prog_ids | tr '\n' ' ') "

# no_programs_left: none of the programs the test's runs loaded is still there
no_programs_left() {
	for id in $(our_prog_ids); do
		case $PROGS_BEFORE in
		*" $id "*) ;;
		*) diag "program $id is still loaded: $(bpftool prog show id "$id" | head -1)"; return 1 ;;
		esac
	done
}

# trace_nesting_faults FILE: slices of a Chrome trace that a viewer cannot
# stack: per track (pid, tid), a complete ("X") slice that overlaps the one
# it starts in without ending inside it, a begin/end pair out of time order
# or an end that is not the innermost open slice's, or a slice never ended
trace_nesting_faults() {
	jq '.traceEvents
	| ([.[] | select(.ph == "X")] | group_by([.pid, .tid]) | map(sort_by(.ts, -.dur)
		| reduce .[] as $e ({s: [], bad: 0};
			.s |= until(length == 0 or .[-1] > $e.ts; .[:-1])
			| (if (.s | length) > 0 and $e.ts + $e.dur > .s[-1] then .bad += 1 else . end)
			| .s += [$e.ts + $e.dur]) | .bad) | add // 0)
	+ ([.[] | select(.ph == "B" or .ph == "E")] | group_by([.pid, .tid]) | map(
		reduce .[] as $e ({s: [], bad: 0, last: 0};
			(if $e.ts < .last then .bad += 1 else . end) | .last = $e.ts
			| if $e.ph == "B" then .s += [$e.name]
			  elif (.s | length) > 0 and .s[-1] == $e.name then .s |= .[:-1]
			  else .bad += 1 end) | .bad + (.s | length)) | add // 0)' "$1"
}
