#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# speedscope.sh - the profile files latencyscope writes open in speedscope:
# a wall-clock profile (speedscope JSON and folded), the alpha flame graph
# and the Perfetto timeline (its slices must nest on every track), loaded
# by speedscope served from its npm package in headless Chromium;
# screenshots go to tests/browser/artifacts/.
#
# Not part of `make check`: it needs the npm packages speedscope and
# playwright-core (fetched here with npm when $SPEEDSCOPE_MODULES does not
# point at a node_modules that has them) and Debian's chromium. Run as root
# from a built tree: make check-browser.

. "$(dirname "$0")/lib.sh"
npm_modules speedscope@1 playwright-core

"$WL/wallclock" 30 60 >"$TMP/w.out" &
bg_pids="$bg_pids $!"
wait_for "$TMP/w.out" "pid=" 5
W=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$TMP/w.out")
"$LS" -m wallclock --pid "$W" -d 2 -f speedscope -o "$ART/wallclock.speedscope.json" >/dev/null 2>&1
"$LS" -m wallclock --pid "$W" -d 2 -f folded -o "$ART/wallclock.folded" >/dev/null 2>&1
"$LS" -m isolation,irq -d 2 -f speedscope --notional 1e6 --bps-per-us 0.01 \
	-o "$ART/alpha.speedscope.json" >/dev/null 2>&1
# the interference timeline, every event: overlapping kinds (running, a
# syscall, an interrupt, another thread waiting for the CPU) on every track
"$LS" -m isolation,syscall,irq,wallclock --pid "$W" -d 2 -f perfetto --trace-threshold 0 \
	-o "$ART/timeline.trace.json" >/dev/null 2>&1
"$LS" -m isolation,syscall,irq -d 2 -f perfetto --trace-threshold 0 \
	-o "$ART/system.trace.json" >/dev/null 2>&1
kill "$W" 2>/dev/null
cp "$top_srcdir/tests/browser/speedscope.mjs" "$MODS/../speedscope-check.mjs"
node "$MODS/../speedscope-check.mjs" "$MODS/speedscope/dist/release" \
	"$ART/wallclock.speedscope.json" "$ART/wallclock.folded" "$ART/alpha.speedscope.json" \
	"$ART/timeline.trace.json" "$ART/system.trace.json"
