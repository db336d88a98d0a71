#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# targets.sh - a --pid process that exits is noticed: "PID N exited at +x s"
# at the time its own parent saw it go, the run ends when every target is
# gone, and a target gone before tracing (exited during the compile, or a
# zombie) makes every module "not measured" instead of a PASS on silence.

. "$(dirname "$0")/lib.sh"
require_kernel
CPU=$(( $(nproc) - 1 ))
MODS=isolation,syscall,irq

# --- a target exits mid-run: the run ends early, at its exit ---------------
"$LS" -v --module "$MODS" --cpus "$CPU" --pid $$ --duration 1 >/dev/null 2>&1	# warm the header overlay
mkfifo "$TMP/go"
sh -c 'read x <"$0"; exec "$1" "$2" 1000 1500' "$TMP/go" "$WL/sleeper" "$CPU" >/dev/null &
S=$!
"$LS" -v --module "$MODS" --cpus "$CPU" --pid "$S" --duration 30 --json >"$TMP/mid.json" 2>"$TMP/mid.err" &
L=$!
bg_pids="$bg_pids $S $L"
wait_for "$TMP/mid.err" "latencyscope: tracing CPUs" || diag "never attached"
echo go >"$TMP/go"	# the sleeper starts: 1500 sleeps of 1 ms, then exits
wait "$S"
gone=$(date +%s.%N)	# the oracle: when its parent saw it exit
wait "$L"
rc=$?
start=$(date -d "$(jq_ "$TMP/mid.json" .run.started_at)" +%s.%N)
at=$(jq_ "$TMP/mid.json" ".run.exited[] | select(.pid == $S) | .at_s")
diag "exit $rc; tool: exited at +$at s; parent saw it at +$(echo "$gone - $start" | bc) s"
ok "a target that exits ends the run (ended_by targets exited)" \
	[ "$(jq_ "$TMP/mid.json" .run.ended_by)" = "targets exited" ]
ok "... well before --duration (ran $(jq_ "$TMP/mid.json" .run.duration_s) s of 30)" \
	[ "$(jq_ "$TMP/mid.json" '.run.duration_s < 10')" = true ]
ok "the exit time agrees with the parent's wait() within 0.3 s" \
	[ "$(echo "d = $start + ${at:-99} - $gone; d < 0.3 && d > -0.3" | bc)" = 1 ]
ok "every module's notes say when it exited" \
	[ "$(jq_ "$TMP/mid.json" "[.isolation, .syscall, .irq | .notes | any(test(\"PID $S exited at \\\\+[0-9.]+ s; not measured after\"))] | all")" = true ]
ok "the modules measured it until then (not 'not measured')" \
	[ "$(jq_ "$TMP/mid.json" '[.isolation, .syscall, .irq | .verdict != "not_measured"] | all')" = true ]
ok "isolation does not warn that the exited process 'never switched'" \
	[ "$(jq_ "$TMP/mid.json" '[.isolation.findings[] | select(.message | test("never switched"))] | length')" = 0 ]

# --- one of two targets exits: the run goes on, that one is noted ---------
bg "$WL/spinner" "$CPU" 0
A=$BG
sleep 0.5 &
B=$!
"$LS" --module isolation --cpus "$CPU" --pid "$A,$B" --duration 2 --json >"$TMP/two.json" 2>/dev/null
kill "$A" 2>/dev/null
ok "one target of two exits: the run lasts its --duration" \
	[ "$(jq_ "$TMP/two.json" .run.ended_by)" = duration ]
ok "... and only that one is listed as exited" \
	[ "$(jq_ "$TMP/two.json" "[.run.exited[].pid] == [$B]")" = true ]

# --- a zombie: exited, not reaped ------------------------------------------
bash -c 'sleep 0.05 & exec sleep 60' &
P=$!
bg_pids="$bg_pids $P"
Z=""
i=0
while [ "$i" -lt 500 ]; do	# its child, once it is a zombie (5 s at most)
	Z=$(ps -o pid=,stat= --ppid "$P" | awk '$2 ~ /^Z/ { print $1 }')
	[ -n "$Z" ] && break
	i=$((i + 1)); sleep 0.01
done
"$LS" --module "$MODS" --cpus "$CPU" --pid "$Z" --duration 5 --json >"$TMP/z.json" 2>"$TMP/z.err"
rc=$?
kill "$P" 2>/dev/null
ok "a zombie target exits 3 (exit $rc) with a message that says why" \
	sh -c '[ "$0" -eq 3 ] && grep -q "exited before tracing started" "$1"' "$rc" "$TMP/z.err"
ok "... every module is not measured, none passes on its silence" \
	[ "$(jq_ "$TMP/z.json" '[.isolation, .syscall, .irq | .verdict == "not_measured"] | all')" = true ]
ok "... the run does not wait out its --duration" \
	[ "$(jq_ "$TMP/z.json" '.run.duration_s < 1')" = true ]
ok "... and the report says so" \
	[ "$(jq_ "$TMP/z.json" ".run.exited | map(select(.pid == $Z and .before_start)) | length")" = 1 ]

# --- a target that exits while the probes compile -------------------------
# (--no-cache: the probes of any --pid are in the cache by now, and load in less)
sleep 0.3 &
E=$!
"$LS" --module "$MODS" --cpus "$CPU" --pid "$E" --duration 5 --no-cache >"$TMP/c.txt" 2>"$TMP/c.err"
rc=$?
ok "a target gone during the compile: exit 3 (exit $rc), nothing passes" \
	sh -c '[ "$0" -eq 3 ] && ! grep -q "PASS" "$1" && grep -q "PID $2 exited before tracing started" "$1"' \
	"$rc" "$TMP/c.txt" "$E"

ok "no program of ours is left" no_programs_left
done_testing
