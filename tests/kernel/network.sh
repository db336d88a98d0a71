#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# network.sh - the Network Path Analyzer on real traffic: UDP and TCP
# ping-pongs of a known number of messages across a veth pair into a
# network namespace, a receiver too slow for its buffer (against the
# kernel's own UDP counters), and loopback.

. "$(dirname "$0")/lib.sh"
require_kernel

NS=ls-test-$$
VA=lsva$$	# in this namespace
VB=lsvb$$	# in $NS
N=2000

cleanup_net() {
	ip netns del "$NS" 2>/dev/null
	ip link del "$VA" 2>/dev/null
}
RESTORE=cleanup_net

# start OUT ARGS...: latencyscope --module network in the background, attached
start() {
	out=$1; shift
	"$LS" -v --module network --duration 60 --json -o "$out" "$@" 2>"$out.err" &
	L=$!
	bg_pids="$bg_pids $L"
	wait_for "$out.err" "latencyscope: tracing CPUs" || diag "never attached: $(tail -3 "$out.err")"
}
stop() { kill -INT "$L"; wait "$L"; rc=$?; }

# between V LO HI: LO <= V <= HI
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || { diag "got $1, want $2..$3"; return 1; }; }

# field FILE KEY: KEY=value from a workload's own report
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1"; }

# echo_in_ns MODE PORT OUT: the echo server inside the namespace, ready
echo_in_ns() {
	ip netns exec "$NS" "$WL/net" "$1" 10.77.0.2 "$2" "$N" >"$3" &
	bg_pids="$bg_pids $!"
	wait_for "$3" ready 10 || diag "echo server never ready"
}

# --- bad input ----------------------------------------------------------------------
"$LS" --module network --interface no-such-dev0 --duration 1 >/dev/null 2>"$TMP/bad.err"
ok "an unknown --interface exits 3" [ $? -eq 3 ]
ok "... naming the interfaces that exist" grep -q "this host has:.* lo" "$TMP/bad.err"

# --- veth pair into a namespace --------------------------------------------------------
ip netns add "$NS" &&
ip link add "$VA" type veth peer name "$VB" &&
ip link set "$VB" netns "$NS" &&
ip addr add 10.77.0.1/24 dev "$VA" && ip link set "$VA" up &&
ip netns exec "$NS" ip addr add 10.77.0.2/24 dev "$VB" &&
ip netns exec "$NS" ip link set "$VB" up &&
ip netns exec "$NS" ip link set lo up &&
{ sysctl -qw "net.ipv6.conf.$VA.disable_ipv6=1"	# no router solicitations in the counts
  ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VB.disable_ipv6=1"; true; } 2>/dev/null &&
ethtool -K "$VA" gro on >/dev/null &&	# GRO on the receiver, and no TSO on the
ip netns exec "$NS" ethtool -K "$VB" tso off >/dev/null	# sender: the veth polls with NAPI
ok "a veth pair into a network namespace is set up" [ $? -eq 0 ]
ping -c 1 -W 2 10.77.0.2 >/dev/null 2>&1	# neighbour resolution before the count

echo_in_ns udp-echo 9100 "$TMP/ue.out"
start "$TMP/udp.json" --interface "$VA"
"$WL/net" udp-ping 10.77.0.2 9100 "$N" >"$TMP/up.out"
stop
P=$(field "$TMP/up.out" tid)
diag "udp: $(jq -c ".network | {correlation, interfaces, me: [.per_thread[] | select(.tid == $P) | {packets, p50: .delivery_ns.p50}]}" "$TMP/udp.json")"
got=$(jq_ "$TMP/udp.json" "[.network.interfaces[] | select(.name == \"$VA\") | .packets] | add // 0")
ok "UDP: packets received on the veth = answers the pinger got (+ neighbour traffic)" \
	between "$got" "$N" $((N + 4))
# a datagram read before the softirq on another CPU announced it is counted, not sampled
first=$(jq_ "$TMP/udp.json" '.network.correlation.read_first')
ok "UDP: the pinger's thread has one row, one delivery sample per answer ($first read first)" \
	[ "$(jq_ "$TMP/udp.json" "[.network.per_thread[] | select(.tid == $P) | .packets] | @csv")" = \
	"$((N - first))" -a "$first" -lt 20 ]
ok "UDP: --interface keeps other devices out" \
	[ "$(jq_ "$TMP/udp.json" "[.network.interfaces[] | select(.name != \"$VA\")] | length")" = 0 ]
ok "UDP: deliveries have percentiles" \
	[ "$(jq_ "$TMP/udp.json" '.network.delivery_ns.p99 != null and .network.delivery_ns.p50 > 0')" = true ]

echo_in_ns tcp-echo 9101 "$TMP/te.out"
start "$TMP/tcp.json" --interface "$VA"
"$WL/net" tcp-ping 10.77.0.2 9101 "$N" >"$TMP/tp.out"
stop
P=$(field "$TMP/tp.out" tid)
diag "tcp: $(jq -c ".network | {interfaces, me: [.per_thread[] | select(.tid == $P) | {packets}]}" "$TMP/tcp.json")"
got=$(jq_ "$TMP/tcp.json" "[.network.interfaces[] | select(.name == \"$VA\") | .packets] | add // 0")
# each answer carries the ack of its request; the handshake and teardown add a few
ok "TCP: packets on the veth = answers + handshake and teardown" \
	between "$got" "$N" $((N + 10))
ok "TCP: the pinger's thread has one delivery sample per answer" \
	[ "$(jq_ "$TMP/tcp.json" "[.network.per_thread[] | select(.tid == $P) | .packets] | add // 0")" -eq "$N" ]
ok "the veth is a NAPI device: its polls are measured" \
	[ "$(jq_ "$TMP/tcp.json" "[.network.interfaces[] | select(.name == \"$VA\") | .polls // 0] | add")" -gt 0 ]

# --- many reading threads, and one that moves between CPUs: one row each ---------
# nine pingers one after another on one CPU are more threads than that CPU's
# array slots (8), so at least one is kept in the hash map; a tenth pinger is
# moved between the CPUs while it reads, leaving entries on both to add up
M=200 M2=4000 LAST=$(( $(nproc) - 1 ))
ip netns exec "$NS" "$WL/net" udp-echo 10.77.0.2 9103 $((9 * M + M2)) >"$TMP/me.out" &
bg_pids="$bg_pids $!"
wait_for "$TMP/me.out" ready 10 || diag "echo server never ready"
start "$TMP/many.json" --interface "$VA"
for i in 1 2 3 4 5 6 7 8 9; do
	taskset -c "$LAST" "$WL/net" udp-ping 10.77.0.2 9103 "$M" >"$TMP/mp$i.out"
done
"$WL/net" udp-ping 10.77.0.2 9103 "$M2" >"$TMP/mp10.out" &
mover=$!
while kill -0 "$mover" 2>/dev/null; do
	taskset -pc 0 "$mover" >/dev/null 2>&1; sleep 0.003
	taskset -pc "$LAST" "$mover" >/dev/null 2>&1; sleep 0.003
done
wait "$mover"
stop
# the mover may read a datagram on one CPU before the softirq on the other
# announces it on the socket: such reads are counted (read_first), not sampled.
# A program run the kernel skipped (missed_events: a softirq that lands while
# another of our programs runs on that CPU) costs a sample, at most one each.
rows_ok=0 short=0
first=$(jq_ "$TMP/many.json" '.network.correlation.read_first')
missed=$(jq_ "$TMP/many.json" '.network.missed_events // 0')
for i in 1 2 3 4 5 6 7 8 9 10; do
	T=$(field "$TMP/mp$i.out" tid)
	want=$M; [ "$i" = 10 ] && want=$((M2 - first))
	rows=$(jq_ "$TMP/many.json" "[.network.per_thread[] | select(.tid == $T) | .packets]")
	[ "$(jq 'length' <<<"$rows")" = 1 ] || continue
	got=$(jq '.[0]' <<<"$rows")
	[ "$got" -le "$want" ] && [ $((got + missed)) -ge "$want" ] || continue
	rows_ok=$((rows_ok + 1)) short=$((short + want - got))
done
diag "readers: $(jq -c '[.network.per_thread[] | {tid, packets}]' "$TMP/many.json")"
diag "correlation: $(jq -c '.network.correlation' "$TMP/many.json"), runs skipped: $missed"
ok "ten readers, nine on one CPU and one moving: one row each, with its answers" \
	[ "$rows_ok" -eq 10 -a "$first" -lt 40 -a "$short" -le "$missed" ]

# --- a receiver slower than its 4 KiB buffer: drops against /proc/net/snmp ---------
rcvbuf() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp; }
start "$TMP/drop.json"
"$WL/net" udp-slow 127.0.0.1 9102 2 >"$TMP/slow.out" &
S=$!
bg_pids="$bg_pids $S"
wait_for "$TMP/slow.out" ready 10
e0=$(rcvbuf)
"$WL/net" udp-blast 127.0.0.1 9102 5000 >/dev/null
e1=$(rcvbuf)
wait "$S"
stop
want=$((e1 - e0))
got=$(jq_ "$TMP/drop.json" '[.network.drops[] | select(.reason == "SOCKET_RCVBUFF") | .count] | add // 0')
missed=$(jq_ "$TMP/drop.json" '.network.missed_events // 0')
diag "RcvbufErrors +$want, traced SOCKET_RCVBUFF $got, runs the kernel skipped $missed"
diag "drops by reason: $(jq -c '[.network.drops[] | {reason, count}]' "$TMP/drop.json")"
ok "the slow receiver's buffer overflowed" [ "$want" -gt 100 ]
# a drop the kernel skipped our program for is missing, and the report says
# how many runs it skipped: the count may fall short by that many, no more
ok "socket-buffer drops agree with /proc/net/snmp RcvbufErrors (less what the kernel skipped)" \
	[ "$got" -le $((want + 5)) -a $((got + missed)) -ge $((want - 5)) ]
if [ "$missed" -gt 0 ]; then
	ok "... and the report says the kernel skipped $missed runs" \
		[ "$(jq_ "$TMP/drop.json" ".network.notes | any(test(\"skipped this module's programs $missed times\"))")" = true ]
fi
ok "socket drops are a finding" \
	[ "$(jq_ "$TMP/drop.json" '[.network.findings[] | select(.message | test("dropped at a socket"))] | length')" = 1 ]

# --- loopback: no NAPI, said so ---------------------------------------------------------
start "$TMP/lo.json" --interface lo
"$WL/net" udp-echo 127.0.0.1 9103 500 >/dev/null &
bg_pids="$bg_pids $!"
sleep 0.2
"$WL/net" udp-ping 127.0.0.1 9103 500 >/dev/null
stop
ok "loopback packets are counted" \
	[ "$(jq_ "$TMP/lo.json" '[.network.interfaces[] | select(.name == "lo") | .packets] | add // 0')" -ge 1000 ]
ok "loopback's NAPI columns are not measured, not zero" \
	[ "$(jq_ "$TMP/lo.json" '[.network.interfaces[] | select(.name == "lo" and .polls != null)] | length')" = 0 ]
ok "... and the report says why" \
	[ "$(jq_ "$TMP/lo.json" '[.network.notes[] | select(test("^lo: no NAPI polls"))] | length')" = 1 ]
ok "no BPF program is left attached" no_programs_left

done_testing
