#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# cache.sh - the probe cache: a compiled probe is kept, the next run loads it
# without compiling and still sees every nanosleep of a workload that counts
# its own; an edited probe, a damaged or foreign file, an unsafe directory
# and --no-cache each compile afresh, in a child process that takes the
# compiler's memory with it; a verifier's refusal still names the line.

. "$(dirname "$0")/lib.sh"
require_kernel

CPU=$(( $(nproc) - 1 ))
N=500
C="$TMP/cache"
export LATENCYSCOPE_CACHE_DIR="$C"

# sleeps OUT [ARGS...]: the syscall module on CPU $CPU while a sleeper naps
# $N times there; OUT.json the report, OUT.err stderr, $got the naps seen
sleeps() {
	local out=$1 l s
	shift
	"$LS" -v -m syscall --cpus "$CPU" -d 60 --json -o "$out.json" "$@" 2>"$out.err" &
	l=$!
	bg_pids="$bg_pids $l"
	wait_for "$out.err" "latencyscope: tracing CPUs" 300 || diag "never attached: $(tail -3 "$out.err")"
	"$WL/sleeper" "$CPU" 100 "$N" >"$out.sleeper" &
	s=$!
	wait "$s"
	kill -INT "$l"
	wait "$l"
	rc=$?
	got=$(jq_ "$out.json" "[.syscall.sleeps[] | select(.tid == $s) | .count] | add // 0")
	mine=$(sed -n 's/.*wakeups=\([0-9]*\).*/\1/p' "$out.sleeper")
}

entries() { find "$C" -name '*.probe' | wc -l; }

# --- first run: compiled and kept --------------------------------------------
sleeps "$TMP/a"
ok "a first run compiles the probe and keeps it (exit $rc)" \
	grep -q "syscall: compiled probe kept in the cache" "$TMP/a.err"
ok "... and sees all $N naps the sleeper counted ($got, sleeper $mine)" [ "$got" = "$N" -a "$mine" = "$N" ]
ok "the cache directory is made root's, 0700; its file 0600" \
	sh -c '[ "$(stat -c %a:%u "$0")" = 700:0 ] && [ "$(stat -c %a:%u "$0"/syscall-*.probe)" = 600:0 ]' "$C"

# --- second run: loaded, not compiled -------------------------------------------
sleeps "$TMP/b"
ok "the same run again loads the compiled probe from the cache" \
	sh -c 'grep -q "syscall: loaded the compiled probe from the cache" "$0" &&
	       ! grep -q "kept in the cache" "$0"' "$TMP/b.err"
ok "... and still sees all $N naps ($got, sleeper $mine)" [ "$got" = "$N" -a "$mine" = "$N" ]
ok "... and reports the same shape (the sleeps table and the verdict)" \
	[ "$(jq_ "$TMP/b.json" '.syscall.verdict != null and (.syscall.sleeps | length) > 0')" = true ]

# --- an edited probe is compiled again ---------------------------------------------
cp -r "$top_srcdir/probes" "$TMP/probes"
chmod -R go-w "$TMP/probes"
echo "/* edited */" >>"$TMP/probes/syscall.c"
sleeps "$TMP/c" --probes-dir "$TMP/probes"
ok "an edited probe is compiled again and kept beside the first" \
	sh -c 'grep -q "kept in the cache" "$0" && [ "$1" = 2 ]' "$TMP/c.err" "$(entries)"

# --- a damaged file is said, ignored and replaced -------------------------------------
for f in "$C"/syscall-*.probe; do printf 'not a probe' >"$f"; done
sleeps "$TMP/d"
ok "a damaged cache file is named in a warning and the probe compiled (exit $rc)" \
	sh -c 'grep -q "ignoring the damaged probe cache file" "$0" && grep -q "kept in the cache" "$0"' "$TMP/d.err"
ok "... and the run still sees all $N naps ($got)" [ "$got" = "$N" ]

# --- files and directories others could change are not trusted -------------------------
for f in "$C"/syscall-*.probe; do chown nobody "$f"; done
sleeps "$TMP/e"
ok "a cache file root does not own is refused and the probe compiled" \
	sh -c 'grep -q "ignoring the probe cache file .*not a regular file of root" "$0" &&
	       ! grep -q "loaded the compiled probe" "$0"' "$TMP/e.err"
chmod 777 "$C"
before=$(ls -l --time-style=+%s.%N "$C" | md5sum)
sleeps "$TMP/f"
ok "a cache directory others may write is not used, and the warning says the fix" \
	sh -c 'grep -q "not using the probe cache .*chmod 700" "$0" && ! grep -q "from the cache\|kept in the cache" "$0"' "$TMP/f.err"
ok "... and nothing in it was touched" [ "$(ls -l --time-style=+%s.%N "$C" | md5sum)" = "$before" ]
chmod 700 "$C"

# --- --no-cache ---------------------------------------------------------------------
sleeps "$TMP/g"	# keeps a good entry again
sleeps "$TMP/h" --no-cache
ok "--no-cache compiles and keeps nothing" \
	sh -c '! grep -q "from the cache\|kept in the cache" "$0" && grep -q "cflag" "$0"' "$TMP/h.err"
ok "... and sees all $N naps ($got)" [ "$got" = "$N" ]

# --- --pid: the processes are bits in a map, not compiled in, so another process
# loads the same probe; it still judges that process alone
"$WL/sleeper" "$CPU" 100 1000000000 >/dev/null &
A=$!
"$WL/sleeper" "$CPU" 100 1000000000 >/dev/null &
B=$!
bg_pids="$bg_pids $A $B"
"$LS" -v -m syscall --pid "$A" -d 1 --json -o "$TMP/pa.json" 2>"$TMP/pa.err"
"$LS" -v -m syscall --pid "$B" -d 1 --json -o "$TMP/pb.json" 2>"$TMP/pb.err"
kill "$A" "$B"
ok "a run with --pid of another process loads the probe the first one compiled" \
	grep -q "syscall: loaded the compiled probe from the cache" "$TMP/pb.err"
ok "... and sees that process's naps, not the first one's" \
	[ "$(jq_ "$TMP/pb.json" "([.syscall.sleeps[] | select(.tid == $B) | .count] | add // 0) > 100 and ([.syscall.sleeps[] | select(.tid == $A)] | length) == 0")" = true ]

# --- a cold run of several modules compiles them side by side (a child per CPU)
if [ "$(nproc)" -ge 2 ]; then
	"$LS" -v -m syscall,isolation --no-cache -d 0.1 -o /dev/null 2>"$TMP/par.err"
	first_done=$(grep -n "compiled in a child process" "$TMP/par.err" | head -1 | cut -d: -f1)
	second_start=$(grep -n "isolation: compiling in a child process" "$TMP/par.err" | cut -d: -f1)
	ok "two modules compile at once: the second starts before the first is done" \
		[ -n "$first_done" ] && [ -n "$second_start" ] && [ "$second_start" -lt "$first_done" ]
else
	ok "one CPU: the modules compile one after another" \
		[ "$("$LS" -v -m syscall,isolation --no-cache -d 0.1 -o /dev/null 2>&1 | grep -c "compiled in a child")" = 2 ]
fi

# --- a run from the cache maps no compiler: its memory is the tracer's own
"$LS" -m syscall --cpus "$CPU" -d 30 2>"$TMP/m.err" >/dev/null &
l=$!
bg_pids="$bg_pids $l"
wait_for "$TMP/m.err" "latencyscope: tracing CPUs" 60
cp "/proc/$l/maps" "$TMP/m.maps"
priv=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$l/smaps_rollup")
kill -INT "$l"
wait "$l"
diag "private memory of a run from the cache: $priv KiB"
ok "a run from the cache never maps LLVM or clang" sh -c '! grep -q "LLVM\|clang" "$0"' "$TMP/m.maps"
ok "... nor libbcc's compiler (only libbcc_bpf)" \
	sh -c '! grep -q "libbcc\.so" "$0" && grep -q "libbcc_bpf\.so" "$0"' "$TMP/m.maps"

# --- a run that compiles does so in a child process: the compiler is gone
# before tracing starts, and the tracer's memory is a run from the cache's
"$LS" -v -m syscall --cpus "$CPU" -d 30 --no-cache 2>"$TMP/c.err" >/dev/null &
l=$!
bg_pids="$bg_pids $l"
wait_for "$TMP/c.err" "latencyscope: tracing CPUs" 120
cp "/proc/$l/maps" "$TMP/c.maps"
priv=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$l/smaps_rollup")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$l/status")
kill -INT "$l"
wait "$l"
diag "a compiling run while it traces: $priv KiB private, peak RSS $hwm KiB; $(grep -o "compiled in a child.*" "$TMP/c.err")"
ok "a run that compiles does it in a child process" grep -q "syscall: compiled in a child process (exit 0" "$TMP/c.err"
ok "... and traces without LLVM, clang or libbcc's compiler mapped" \
	sh -c '! grep -q "LLVM\|clang\|libbcc\.so" "$0"' "$TMP/c.maps"
ok "... in under 20 MiB of private memory ($priv KiB) and 100 MiB of peak RSS ($hwm KiB)" \
	[ "$priv" -lt 20480 -a "$hwm" -lt 102400 ]

# --- a program the verifier refuses: compiled again in process, so that the
# refusal names the probe line (the child's object carries no line info)
mkdir "$TMP/vp" && cp "$top_srcdir"/probes/* "$TMP/vp"/ && chmod 755 "$TMP/vp" && chmod 644 "$TMP/vp"/*
cat >>"$TMP/vp/syscall.c" <<'PROBE'
BPF_HASH(ls_t_refused, u32, u64, 1);
TRACEPOINT_PROBE(sched, sched_process_exit)
{
	u32 zero = 0;
	u64 *unchecked = ls_t_refused.lookup(&zero);

	return (int)*unchecked;	/* no NULL check: every verifier refuses it */
}
PROBE
"$LS" -v -m syscall --cpus "$CPU" -d 0.2 --no-cache --probes-dir "$TMP/vp" >/dev/null 2>"$TMP/v.err"
rc=$?
diag "$(grep "error:" "$TMP/v.err")"
ok "a probe the verifier refuses exits 3 (got $rc)" [ "$rc" = 3 ]
ok "... after compiling it again in process, and the error names the probe's line" \
	sh -c 'grep -q "compiling in process for the verifier" "$0" &&
		grep -q "rejected .*sched_process_exit.*syscall.c, stopping at .*syscall.c:[0-9]" "$0"' "$TMP/v.err"

# --- without libbcc's compiler (clang, LLVM): hidden in a private mount namespace
lib=$(ldconfig -p | sed -n 's/.*libbcc\.so\.0 .*=> //p' | head -1)
lib=$(readlink -f "$lib")
: >"$TMP/empty.so"
nocc() { unshare -m sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$TMP/empty.so" "$lib" "$@"; }
nocc "$LS" -m syscall --cpus "$CPU" -d 0.2 --json -o "$TMP/i.json" 2>"$TMP/i.err"
rc=$?
ok "with libbcc's compiler gone, a probe in the cache still runs (exit $rc)" [ "$rc" -le 1 ]
nocc "$LS" -m syscall --cpus "$CPU" -d 0.2 --no-cache 2>"$TMP/j.err" >/dev/null
rc=$?
ok "a probe that must be compiled then exits 3 (got $rc)" [ "$rc" = 3 ]
ok "... naming libbcc's compiler and the fix" grep -q "cannot load libbcc's compiler.*install libbpfcc" "$TMP/j.err"

ok "no BPF program is left attached" no_programs_left
done_testing
