#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# outputs.sh - the files a root run writes: never through a planted link,
# never truncated or removed when the run fails, a failed write is exit 3.
# Device nodes are made in the test's own directory (mknod), so no test
# can harm the system's /dev/null even when the code under test is wrong.

. "$(dirname "$0")/lib.sh"
require_kernel

RUN="-m isolation -d 0.3"
# unchanged FILE CONTENT: FILE is still a regular file holding CONTENT
unchanged() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# --- a planted link where the bill of health's temporary used to be ------------
mkdir "$TMP/shared"
echo secret > "$TMP/victim"
ln -s "$TMP/victim" "$TMP/shared/boh.json.tmp"
"$LS" $RUN -o "$TMP/shared/r.txt" --bill-of-health "$TMP/shared/boh.json" 2>"$TMP/err"
rc=$?
ok "a link planted at PATH.tmp: the file it points to is untouched (exit $rc)" unchanged "$TMP/victim" secret
ok "... and the bill of health is written" [ "$(jq -r .bill_of_health "$TMP/shared/boh.json")" != null ]
ok "a new output file is mode 0600" [ "$(stat -c %a "$TMP/shared/boh.json")" = 600 ]
ok "no temporary is left in the directory" [ -z "$(ls -A "$TMP/shared" | grep -v '^r.txt$\|^boh.json$\|^boh.json.tmp$')" ]

# --- a link at the output path itself is refused, before the run ---------------
ln -s "$TMP/victim" "$TMP/shared/link.json"
"$LS" $RUN -o "$TMP/shared/link.json" 2>"$TMP/err"
rc=$?
ok "--output naming a link exits 3 (exit $rc)" [ "$rc" -eq 3 ]
ok "... saying why" grep -q "is a symbolic link" "$TMP/err"
ok "... and the link's target is untouched" unchanged "$TMP/victim" secret
"$LS" $RUN --bill-of-health "$TMP/shared/link.json" 2>"$TMP/err"
ok "--bill-of-health naming a link exits 3" [ "$?" -eq 3 ]
ok "... and the link's target is untouched" unchanged "$TMP/victim" secret

# --- a failed run leaves every path as it was ----------------------------------
echo "yesterday's report" > "$TMP/old.txt"
"$LS" -o "$TMP/old.txt" --probes-dir /nonexistent -d 0.3 2>"$TMP/err"
ok "a failing run (exit $?) neither truncates nor removes an existing report" \
	unchanged "$TMP/old.txt" "yesterday's report"
mknod "$TMP/null" c 1 3
"$LS" -o "$TMP/null" --probes-dir /nonexistent -d 0.3 2>"$TMP/err"
ok "a failing run leaves a character device named by --output in place" [ -c "$TMP/null" ]
"$LS" $RUN -o "$TMP/null" 2>"$TMP/err"
ok "a report into a character device is written in place (exit $?)" [ -c "$TMP/null" ]
"$LS" $RUN --bill-of-health "$TMP/null" 2>"$TMP/err"
ok "so is a bill of health: the device stays a device" [ -c "$TMP/null" ]

# --- a failed write is exit 3, and a bad target is refused before the run -----
mknod "$TMP/full" c 1 7
"$LS" $RUN -o "$TMP/full" 2>"$TMP/err"
rc=$?
ok "a report that cannot be written (ENOSPC) exits 3 (exit $rc)" [ "$rc" -eq 3 ]
ok "... naming the failure" grep -q "No space left on device" "$TMP/err"
"$LS" -m wallclock -d 0.3 -f pprof -o "$TMP/full" 2>"$TMP/err"
rc=$?
ok "so does a pprof profile that cannot be written (exit $rc)" [ "$rc" -eq 3 ]
mkdir "$TMP/adir"
"$LS" -v $RUN --bill-of-health "$TMP/adir" 2>"$TMP/err"
rc=$?
r=false; [ "$rc" -eq 3 ] && grep -q "is a directory" "$TMP/err" && ! grep -q "latencyscope: tracing CPUs" "$TMP/err" && r=true
ok "a directory as --bill-of-health exits 3 (exit $rc) before the run" $r
"$LS" $RUN -o "$TMP/same.json" --bill-of-health "$TMP/same.json" 2>"$TMP/err"
rc=$?
r=false; [ "$rc" -eq 3 ] && grep -q "both name" "$TMP/err" && r=true
ok "--output and --bill-of-health naming one file exits 3 (exit $rc)" $r

# --- a task named with escape sequences does not reach the terminal raw -------
CPU=$(( $(nproc) - 1 ))
bg "$WL/spinner" "$CPU" 0
T=$BG
# a task's name is its program's file name: one made of an escape sequence
ESC=$(printf '\033]0;pwn\007')
cp "$WL/spinner" "$TMP/$ESC"
bg "$TMP/$ESC" "$CPU" 0
C=$BG
"$LS" -m isolation --cpus "$CPU" --pid "$T" -d 1 -o "$TMP/esc.txt" 2>"$TMP/err"
"$LS" -m isolation --cpus "$CPU" --pid "$T" -d 1 -f folded -o "$TMP/esc.folded" 2>"$TMP/err"
kill "$T" "$C" 2>/dev/null
ok "the culprit named with an escape sequence is in the text report" grep -qF '\x1b]0;pwn\x07' "$TMP/esc.txt"
ok "... as \\xNN: no control character in the text report" sh -c '! LC_ALL=C grep -q "[[:cntrl:]]" "$0"' "$TMP/esc.txt"
ok "... nor in the folded output" sh -c '! LC_ALL=C grep -q "[[:cntrl:]]" "$0"' "$TMP/esc.folded"

# --- replacing a file keeps its mode -------------------------------------------
echo old > "$TMP/keep.txt"
chmod 644 "$TMP/keep.txt"
"$LS" $RUN -o "$TMP/keep.txt" 2>"$TMP/err"
r=false; [ "$(stat -c %a "$TMP/keep.txt")" = 644 ] && grep -q ISOLATION "$TMP/keep.txt" && r=true
ok "a replaced report keeps its mode (644) and holds the report" $r
# the README's CI gate, as written there, must fail on a run with too few
# samples for its percentile (null), not pass on it
gate=$(sed -n "s/^sudo latencyscope .* | \(jq -e '.*'\)$/\1/p" "$top_srcdir/README.md" | head -1)
"$LS" -m isolation --cpus 0 -d 0.3 --json >"$TMP/gate.json" 2>/dev/null
diag "README gate: $gate; p99_999 = $(jq_ "$TMP/gate.json" .isolation.p99_999_runqueue_ns)"
r=false; [ -n "$gate" ] && [ "$(jq_ "$TMP/gate.json" .isolation.p99_999_runqueue_ns)" = null ] &&
	! sh -c "$gate" <"$TMP/gate.json" >/dev/null 2>&1 && r=true
ok "the README's jq gate fails when its percentile is null (too few samples)" $r
printf '{"isolation":{"p99_999_runqueue_ns":500}}' >"$TMP/gate-ok.json"
ok "... and passes on a value under its limit" sh -c "$gate" <"$TMP/gate-ok.json"

# the box's width: --width, else a terminal's own (script gives a pty of 132)
boxw() { awk '/^[|+]/ { print length($0) }' "$1" | sort -u | tr '\n' ' '; }	# --ascii boxes
"$LS" -m isolation --cpus 0 -d 0.3 --width 100 --ascii >"$TMP/w100.txt" 2>/dev/null
ok "--width 100: every box line is 100 columns ($(boxw "$TMP/w100.txt"))" [ "$(boxw "$TMP/w100.txt")" = "100 " ]
if command -v script >/dev/null; then
	LC_ALL=C script -qec "stty cols 132; '$LS' -m isolation --cpus 0 -d 0.3 --ascii" /dev/null |
		tr -d '\r' >"$TMP/tty.txt"
	ok "on a 132-column terminal the boxes are 132 wide ($(boxw "$TMP/tty.txt"))" [ "$(boxw "$TMP/tty.txt")" = "132 " ]
else
	ok "script(1) from util-linux is installed (it gives the test a terminal)" false
fi
"$LS" -m isolation --cpus 0 -d 0.3 --ascii >"$TMP/w78.txt" 2>/dev/null
ok "not a terminal, no --width: 78 columns as before" [ "$(boxw "$TMP/w78.txt")" = "78 " ]

# the status line: on a terminal about every second, erased before the report;
# never in redirected output nor with --quiet
LC_ALL=C script -qec "'$LS' -m isolation,syscall -d 2.5 -o '$TMP/st.txt'" /dev/null >"$TMP/st.tty"
n=$(tr '\r' '\n' <"$TMP/st.tty" | grep -c '^.\[Klatencyscope: [0-9]* / 2.5 s, [0-9,]* events/s, [0-9,]* lost$')
ok "on a terminal a status line is drawn about every second ($n times in 2.5 s)" [ "$n" -ge 1 -a "$n" -le 3 ]
ok "... and erased before the next line" grep -q "$(printf '\r\033\\[Klatencyscope: report written')" "$TMP/st.tty"
"$LS" -m isolation -d 1.5 -o "$TMP/st2.txt" 2>"$TMP/st2.err"
ok "redirected stderr gets no status line" sh -c '! grep -q "events/s" "$0"' "$TMP/st2.err"
LC_ALL=C script -qec "'$LS' -m isolation -d 1.5 -q -o '$TMP/st3.txt'" /dev/null >"$TMP/st3.tty"
ok "--quiet draws none on a terminal" sh -c '! grep -q "events/s" "$0"' "$TMP/st3.tty"

# reports from many hosts (and reboots) are told apart; one JSON shape per field
"$LS" -m isolation --cpus 0 -d 0.3 --json --bill-of-health "$TMP/boh.json" >"$TMP/host.json" 2>/dev/null
boot=$(cat /proc/sys/kernel/random/boot_id)
ok "the report names the host (uname -n) and its boot id" \
	[ "$(jq_ "$TMP/host.json" '.host.hostname + " " + .host.boot_id')" = "$(uname -n) $boot" ]
ok "... so does the bill of health" \
	[ "$(jq_ "$TMP/boh.json" '.host.hostname + " " + .host.boot_id')" = "$(uname -n) $boot" ]
ok "the bill of health's CPU lists are arrays, as in the report" \
	[ "$(jq_ "$TMP/boh.json" '[.host.isolated_cpus, .host.nohz_full_cpus] | map(type) | unique | join(",")')" = array ]

ok "no program of ours is left" no_programs_left

done_testing
