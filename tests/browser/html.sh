#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# html.sh - the -f html pages in headless Chromium (tests/browser/html.mjs):
# every section and plot is there, the flame graphs zoom on a click and on
# Enter, reset on Escape, and search; nothing is requested from a network.
# Screenshots (light and dark) go to tests/browser/artifacts/.
#
# Not part of `make check`: it needs the npm package playwright-core
# (fetched here with npm when $SPEEDSCOPE_MODULES does not point at a
# node_modules that has it) and Debian's chromium. Run as root from a built
# tree: make check-browser.

. "$(dirname "$0")/lib.sh"
npm_modules playwright-core

"$WL/wallclock" 30 60 >"$TMP/w.out" &
bg_pids="$bg_pids $!"
wait_for "$TMP/w.out" "pid=" 5
W=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$TMP/w.out")
"$LS" -m wallclock,isolation --pid "$W" -d 2 -o "$ART/wallclock.html" >/dev/null 2>&1
"$LS" -m isolation,irq,syscall,memory -d 2 --trace-threshold 0 -o "$ART/system.html" >/dev/null 2>&1
kill "$W" 2>/dev/null
cp "$top_srcdir/tests/browser/html.mjs" "$MODS/../html-check.mjs"
node "$MODS/../html-check.mjs" "$ART/wallclock.html:wallclock,isolation" \
	"$ART/system.html:isolation,irq,syscall,memory,alpha,timeline"
