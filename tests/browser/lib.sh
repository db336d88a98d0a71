# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - what the browser tests share: the kernel tests' helpers, the
# artifacts directory, and npm packages and Chromium, or a skip that says
# which is missing. $SPEEDSCOPE_MODULES may name a node_modules that has them.

. "$(dirname "$0")/../kernel/lib.sh"
require_kernel

ART="$top_builddir/tests/browser/artifacts"
MODS=${SPEEDSCOPE_MODULES:-$TMP/npm/node_modules}
mkdir -p "$ART"

# npm_modules PACKAGE...: each in $MODS (the directory npm names it), fetched when missing
npm_modules() {
	local p missing=
	for p in "$@"; do
		[ -d "$MODS/${p%@*}" ] || missing=1
	done
	[ -z "$missing" ] && return 0
	mkdir -p "$TMP/npm"
	(cd "$TMP/npm" && npm install --silent --no-audit --no-fund "$@" >/dev/null 2>&1) || {
		echo "1..0 # SKIP npm cannot fetch $* (offline?)"
		exit 0
	}
	MODS=$TMP/npm/node_modules
}
command -v chromium >/dev/null || { echo "1..0 # SKIP no chromium (apt-get install chromium)"; exit 0; }
