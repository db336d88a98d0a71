#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# trust.sh - as root, probe source (kernel code once loaded) is taken only
# from root's files in the probes directory that no one else can change.

. "$(dirname "$0")/lib.sh"
require_kernel

# fails PATTERN ARGS...: latencyscope ARGS exits 3 before loading anything, stderr matches
fails() {
	local pat=$1 rc; shift
	"$LS" -v -m isolation -d 0.3 "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 3 ] || { diag "exit $rc, want 3"; sed 's/^/#   /' "$TMP/err"; return 1; }
	! grep -q "latencyscope: tracing CPUs" "$TMP/err" || { diag "it attached"; return 1; }
	grep -q -- "$pat" "$TMP/err" || { diag "stderr lacks '$pat':"; sed 's/^/#   /' "$TMP/err"; return 1; }
}
# copy DIR: the project's probes in a new directory of root's (mode 0755)
copy() { mkdir -p "$1" && cp "$top_srcdir"/probes/* "$1"/ && chmod 755 "$1" && chmod 644 "$1"/*; }

copy "$TMP/good"
"$LS" -m isolation -d 0.3 --probes-dir "$TMP/good" >/dev/null 2>"$TMP/err"
ok "root's own copy of the probes loads (exit $?)" [ "$?" -le 2 ]

copy "$TMP/open"
chmod 777 "$TMP/open"
ok "a world-writable probes directory is refused" fails "writable by group or others" --probes-dir "$TMP/open"
LATENCYSCOPE_PROBES_DIR="$TMP/open" ok "... also through LATENCYSCOPE_PROBES_DIR" fails "writable by group or others"

copy "$TMP/nobody"
chown nobody "$TMP/nobody"
ok "a probes directory owned by another user is refused" fails "not owned by root" --probes-dir "$TMP/nobody"

copy "$TMP/gw"
chmod g+w "$TMP/gw/isolation.c"
ok "a group-writable probe file is refused" fails "chmod go-w" --probes-dir "$TMP/gw"

copy "$TMP/link"
mkdir "$TMP/elsewhere"
mv "$TMP/link/isolation.c" "$TMP/elsewhere/"
ln -s "$TMP/elsewhere/isolation.c" "$TMP/link/isolation.c"
ok "a probe that is a symbolic link is refused" fails "symbolic link" --probes-dir "$TMP/link"

copy "$TMP/hdr"
rm "$TMP/hdr/isolation.h"
ln -s "$TMP/good/isolation.h" "$TMP/hdr/isolation.h"
ok "a spliced header that is a symbolic link is refused" fails "symbolic link" --probes-dir "$TMP/hdr"

echo 'root:SECRET-HASH-LINE:19000:0:99999:7:::' > "$TMP/shadow"
chmod 600 "$TMP/shadow"
copy "$TMP/inc"
sed -i "1i #include \"$TMP/shadow\"" "$TMP/inc/isolation.c"
ok "an #include of a path is refused" fails "never a path" --probes-dir "$TMP/inc"
ok "... and the file is never read (nothing of it in the messages)" sh -c '! grep -q SECRET-HASH "$0"' "$TMP/err"
copy "$TMP/up"
sed -i '1i #include "../shadow"' "$TMP/up/isolation.c"
ok "an #include climbing out of the directory is refused" fails "never a path" --probes-dir "$TMP/up"
ok "no program of ours is left" no_programs_left

done_testing
