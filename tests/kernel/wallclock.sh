#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# wallclock.sh - the wall-clock profiler on a thread of known shape: it
# spins in spin_here() 60 % of each 10 ms and sleeps in sleep_here() the
# rest, timing both itself. Every output format is read back by a parser
# that did not write it (awk, jq, protoc).

. "$(dirname "$0")/lib.sh"
require_kernel

PROTO="$top_srcdir/src/profile.proto"

# shape SECONDS OUT: start the workload, its pid in $W once it runs
shape() {
	"$WL/wallclock" "$1" 60 >"$2" &
	bg_pids="$bg_pids $!"
	wait_for "$2" "pid=" 5
	W=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$2")
	T=$(sed -n 's/^pid=[0-9]* tid=\([0-9]*\).*/\1/p' "$2")
}

# share FILE AWK_MATCH: the share of the folded values whose line matches
share() {
	awk -v m="$2" '{ v = $NF; t += v; if ($0 ~ m) s += v } END { if (t) printf "%d\n", 1000 * s / t; else print 0 }' "$1"
}

# naps OUT: the workload's own time slept through nap_a and nap_b so far ("A B", ns)
naps() {
	local n
	n=$(grep -c '^naps' "$1")
	kill -USR1 "$W"
	for _ in $(seq 300); do
		[ "$(grep -c '^naps' "$1")" -gt "$n" ] && break
		sleep 0.01
	done
	sed -n 's/^naps a=\([0-9]*\) b=\([0-9]*\)/\1 \2/p' "$1" | tail -1
}

# --- folded: the known shape -----------------------------------------------------
shape 60 "$TMP/w1.out"	# outlives the runs below; killed at the end
naps0=$(naps "$TMP/w1.out")
"$LS" -m wallclock --pid "$W" --duration 4 -f folded -o "$TMP/p.folded" \
	--bill-of-health "$TMP/p.boh.json" >"$TMP/p.txt" 2>"$TMP/p.err"
rc=$?
naps1=$(naps "$TMP/w1.out")
ok "wallclock runs and writes folded stacks (exit $rc)" test "$rc" -le 1 -a -s "$TMP/p.folded"
ok "every folded line is 'frames value'" \
	[ "$(awk 'NF < 2 || $NF !~ /^[0-9]+$/ || $1 !~ /;/' "$TMP/p.folded" | wc -l)" = 0 ]
spin=$(share "$TMP/p.folded" ';\\[running\\];.*;spin_here')
sleep_=$(share "$TMP/p.folded" ';\\[blocked: S\\];.*;sleep_here')
diag "spin_here on CPU: $spin per mille, sleep_here blocked: $sleep_ per mille (the workload: 600 / 400)"
# running time is the scheduler's, not samples': the split holds in every run
ok "spin_here has ~60 % of the thread's wall time on CPU (+-3 points)" within "$spin" 600 30
ok "sleep_here has the blocked rest (~40 % +-3 points)" within "$sleep_" 400 30
# the same sleep from two callers, in runs: a stack taken for the one the
# thread blocked with last time would move time from one to the other
nap_a=$(share "$TMP/p.folded" ';\\[blocked: S\\];.*;nap_a;sleep_here')
nap_b=$(share "$TMP/p.folded" ';\\[blocked: S\\];.*;nap_b;sleep_here')
want=$(echo "$naps0 $naps1" | awk '{ a = $3 - $1; b = $4 - $2; if (a + b) printf "%d\n", 1000 * a / (a + b); else print 0 }')
got=$(( nap_a + nap_b ? 1000 * nap_a / (nap_a + nap_b) : 0 ))
diag "nap_a's part of the naps: $got per mille; the workload's own clock: $want (naps $naps0 -> $naps1)"
ok "off-CPU user stacks: nap_a's and nap_b's split is the workload's (+-3 points)" within "$got" "$want" 30
reused=$(jq_ "$TMP/p.boh.json" '.report.wallclock.user_stacks_reused')
blocks=$(jq_ "$TMP/p.boh.json" '.report.wallclock.blocks')
diag "user stacks reused without a full walk: $reused of $blocks blocks"
ok "... while most blocks reuse the stack the thread blocked with before" [ $((2 * reused)) -gt "$blocks" ]
# spin_here reads the clock through libc's clock_gettime and the vDSO, which
# keep no frame pointer: a frame-pointer walk alone goes from there straight
# to spin_here's caller; the callers are recovered from the stack. The
# workload calls clock_gettime from now_ns only, and now_ns from spin_here
# and worker: a caller beneath it that the program does not make is an
# invented one (a return address an earlier call left in a frame's locals)
grep -- "-$T;\[running\];.*\(clock_gettime\|\[vdso\]\)" "$TMP/p.folded" >"$TMP/via" || true
via=$(wc -l <"$TMP/via")
bad=$(sed 's/;\(clock_gettime\|\[vdso\]\).*//; s/.*;start_thread;//' "$TMP/via" |
	grep -cvx 'worker;spin_here;now_ns\|worker;now_ns\|worker;spin_here\|worker')
kept=$(awk '{ t += $NF; if ($0 ~ /;now_ns;/) k += $NF } END { printf "%d\n", t ? 1000 * k / t : 0 }' "$TMP/via")
diag "on-CPU stacks through clock_gettime or the vDSO: $via; with a caller the program does not make: $bad; share of their time with now_ns found: $kept per mille"
[ "$bad" = 0 ] || sed 's/^/# /' "$TMP/via"
ok "a frameless leaf (clock_gettime, the vDSO): no caller beneath it that the program does not make" \
	[ "$via" -gt 0 -a "$bad" = 0 ]
ok "... and its caller now_ns is found for 90 % of its time or more" [ "$kept" -ge 900 ]
ok "... and the report says callers were recovered from the stack" \
	[ "$(jq_ "$TMP/p.boh.json" '.report.wallclock.notes | any(test("callers were recovered from return addresses"))')" = true ]
# the worker ran or blocked through the whole run: its time is the run's length
run_us=$(jq_ "$TMP/p.boh.json" '.report.run.duration_s * 1000000 | floor')
thr_us=$(awk -v t="-$T" '{ split($1, f, ";"); if (substr(f[1], length(f[1]) - length(t) + 1) == t) s += $NF }
	END { printf "%d\n", s / 1000 }' "$TMP/p.folded")
diag "the worker's running + blocked: $thr_us us; the run: $run_us us"
ok "a thread alive for the whole run: running + blocked = the run's length (+-1 %)" \
	within "$thr_us" "$run_us" $((run_us / 100))
ok "the box report still goes to stdout" grep -q "WALL-CLOCK PROFILER" "$TMP/p.txt"

# --- pprof: decoded by protoc against the schema ------------------------------------
"$LS" -m wallclock --pid "$W" --duration 2 -f pprof -o "$TMP/p.pb.gz" >/dev/null 2>&1
gunzip -c "$TMP/p.pb.gz" | protoc --proto_path="$(dirname "$PROTO")" \
	--decode perftools.profiles.Profile "$(basename "$PROTO")" >"$TMP/p.txtpb" 2>"$TMP/protoc.err"
ok "pprof output decodes with protoc --decode" test $? -eq 0 -a -s "$TMP/p.txtpb"
ok "its sample types are wall, cpu and offcpu in nanoseconds" sh -c \
	'grep -q "string_table: \"wall\"" "$0" && grep -q "string_table: \"offcpu\"" "$0" && grep -q "string_table: \"nanoseconds\"" "$0"' "$TMP/p.txtpb"
ok "its strings hold the workload's functions" grep -q 'string_table: "spin_here"' "$TMP/p.txtpb"
# values come in threes per sample: wall = cpu + offcpu, and they add up to the run
sums=$(awk '/^sample \{/ { n = 0 } /^  value:/ { v[n++] = $2; if (n == 3) { w += v[0]; c += v[1]; o += v[2]; bad += (v[0] != v[1] + v[2]) } }
	END { printf "%d %d %d\n", w / 1000000, (c + o) / 1000000, bad }' "$TMP/p.txtpb")
diag "pprof wall ms, cpu+offcpu ms, bad samples: $sums"
ok "every pprof sample's wall = cpu + offcpu" [ "$(echo "$sums" | cut -d' ' -f3)" = 0 ]
ok "pprof wall time is the 2 s run (+-1 %): running time is the scheduler's" within "$(echo "$sums" | cut -d' ' -f1)" 2000 20
# the consumer itself: go tool pprof opens on wall time and reads every sample type
if command -v go >/dev/null; then
	HOME=$TMP GOCACHE=$TMP/go go tool pprof -top "$TMP/p.pb.gz" >"$TMP/pprof.top" 2>&1
	ok "go tool pprof opens on wall time (Type: wall)" grep -q '^Type: wall$' "$TMP/pprof.top"
	ok "... and its top lists the workload's functions" grep -q 'spin_here' "$TMP/pprof.top"
	HOME=$TMP GOCACHE=$TMP/go go tool pprof -raw "$TMP/p.pb.gz" >"$TMP/pprof.raw" 2>&1
	ok "go tool pprof -raw: sample types wall (the default), cpu, offcpu" \
		grep -q '^wall/nanoseconds\[dflt\][[:space:]]*cpu/nanoseconds[[:space:]]*offcpu/nanoseconds' "$TMP/pprof.raw"
	# the main binary is the workload's own: its range from /proc/PID/maps, its
	# build id from readelf, neither of which latencyscope wrote
	vma=$(awk -v f="$(readlink "/proc/$W/exe")" '$2 ~ /x/ && $6 == f { print $1; exit }' "/proc/$W/maps")
	bid=$(readelf -n "$WL/wallclock" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')
	first=$(sed -n '/^Mappings/{n;p;q}' "$TMP/pprof.raw")
	diag "first mapping: $first; /proc maps: $vma; readelf build id: $bid"
	r=false
	case "$first" in "1: 0x${vma%-*}/0x${vma#*-}/"*" $(readlink "/proc/$W/exe") $bid"*) r=true ;; esac
	ok "pprof's main binary is the workload: its path, address range and build id" $r
	# line views: pprof reads the lines from the binary's debug information
	HOME=$TMP GOCACHE=$TMP/go go tool pprof -source_path "$top_srcdir" -list '^spin_here$' \
		"$TMP/p.pb.gz" >"$TMP/pprof.list" 2>&1
	ok "go tool pprof -list puts spin_here's time on its loop's source line" \
		grep -Eq '^ +[.0-9]+m?s? +[0-9.]+m?s +[0-9]+:.*while \(now_ns\(\) < end\)' "$TMP/pprof.list"
else
	ok "go tool pprof to read the profile (apt-get install golang-go)" [ "${CI:-}" != true ]
fi

# --- speedscope and chrome: the files reference what they define ---------------------
"$LS" -m wallclock --pid "$W" --duration 1 -f speedscope -o "$TMP/p.speedscope.json" >/dev/null 2>&1
ok "speedscope: frames, one sampled profile per thread, weights add up to endValue" \
	[ "$(jq '(.shared.frames | length) as $n | [.profiles[] | select(.type == "sampled" and .unit == "nanoseconds"
		and ([.samples[][] | select(. >= $n or . < 0)] | length) == 0
		and (.weights | add) == .endValue and (.samples | length) == (.weights | length))] | length' "$TMP/p.speedscope.json")" -ge 1 ]
ok "speedscope: the thread's profile is named after it" \
	[ "$(jq -r '.profiles[0].name' "$TMP/p.speedscope.json" | grep -c "wallclock (pid $W")" = 1 ]
"$LS" -m wallclock --pid "$W" --duration 1 -f chrome -o "$TMP/p.trace.json" >/dev/null 2>&1
ok "chrome: every slice belongs to a named thread" \
	[ "$(jq '([.traceEvents[] | select(.ph == "M") | .tid]) as $named | [.traceEvents[] | select(.ph == "B" and (.tid as $t | $named | index($t) | not))] | length' "$TMP/p.trace.json")" = 0 ]
ok "chrome: stacks are slices that nest, with durations" \
	[ "$(trace_nesting_faults "$TMP/p.trace.json") $(jq '[.traceEvents[] | select(.ph == "E" and .ts > 0)] | length > 0' "$TMP/p.trace.json")" = "0 true" ]

# --- a process that exits mid-run is still symbolized -----------------------------------
shape 5 "$TMP/w2.out"	# exits a few seconds after the probes attach
"$LS" -m wallclock --pid "$W" --duration 6 -f folded -o "$TMP/x.folded" >/dev/null 2>&1
ok "the workload exited before the end of the run" [ ! -d "/proc/$W" ]
ok "its stacks are still symbolized" grep -q ';spin_here' "$TMP/x.folded"

# --- bad input ------------------------------------------------------------------------
"$LS" -m isolation -f pprof -o "$TMP/x.pb.gz" -d 1 >/dev/null 2>"$TMP/bad.err"
ok "pprof without the wallclock module exits 3" [ $? -eq 3 ]
"$LS" -m wallclock -f pprof -d 1 >/dev/null 2>"$TMP/bad.err"
ok "pprof without --output is refused (exit 3)" test $? -eq 3
ok "... saying to give --output" grep -q "give --output" "$TMP/bad.err"
"$LS" -m wallclock --state Q -d 1 >/dev/null 2>"$TMP/bad.err"
ok "an unknown --state exits 3" [ $? -eq 3 ]
kill "$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$TMP/w1.out")" 2>/dev/null
ok "no BPF program is left attached" no_programs_left

# --- the tracer itself idles between its reads -------------------------------------
# The wallclock probe sends no event records; the main loop must still sleep
# between its reads instead of spinning. Oracle: the kernel's own CPU time
# of the latencyscope process (/proc/PID/stat utime + stime, in clock ticks)
# over 2 s of the run.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
"$LS" -v -m wallclock -d 60 >/dev/null 2>"$TMP/idle.err" &
L=$!
bg_pids="$bg_pids $L"
wait_for "$TMP/idle.err" "latencyscope: tracing CPUs" || diag "never attached"
c0=$(cpu_ticks "$L")
sleep 2
c1=$(cpu_ticks "$L")
kill -INT "$L"
wait "$L"
hz=$(getconf CLK_TCK)
diag "latencyscope's own CPU time over 2 s of a wallclock run: $((c1 - c0)) ticks of 1/$hz s"
ok "the tracer uses under a tenth of a CPU while it runs" [ $((c1 - c0)) -lt $((2 * hz / 10)) ]

done_testing
