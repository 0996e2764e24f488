#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The worker's data plane at its edges (issue "Hardening II"): a routing loop, where
# the peer's endpoint is routed through the tunnel itself, must cost a bounded number
# of bytes (the kernel's selftest allows fewer than 70 000), and a TCP stream at tunnel
# MTU 500 must flow, whatever the size of the super-packets the kernel hands the TUN.
# Same topology, helpers and output as netns.sh (lib.sh): A (wgd) in ns1, B (wgd) in
# ns2, ns0 routing between them.
#
# Usage:
#   dataplane.sh --check          0 if this host can run it, else 77 and a reason
#   dataplane.sh --list           scenario names (after NETNS_ONLY)
#   dataplane.sh run LABEL WGD    run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

# shellcheck disable=SC2034 # read through a nameref
DATAPLANE_TESTS=(
	"routing-loop 60 t_routing_loop"
	"mtu-500-stream 60 t_mtu_500"
)

# figure TEXT: a measured number for the scenario's summary (as faults.sh).
figure() { echo "$*" >>"$S/figures"; }

# iperf_field JSON EXPR: EXPR over the "end" object e of iperf3's JSON report.
iperf_field() { python3 -c "import json, sys; e = json.loads(sys.argv[1])['end']; print($2)" "$1"; }

tx_bytes() { wg show "$1" transfer | awk '{ print $3 }'; }

# The kernel's "routing loop" case: a session first, then the peer's endpoint moved to
# an address routed through the tunnel itself (B's inner address), B gone, and a flood
# ping into the tunnel. Each of A's datagrams comes back through its own TUN.
t_routing_loop() {
	local tx0 tx1 log
	pair_up 4 nopsk
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
	wg set "$IF_A" peer "$PUB_B" endpoint "$INNER_B4:$PORT_B"
	ip2 link del "$IF_B"
	tx0=$(tx_bytes "$IF_A")
	n1 timeout 20 ping -q -W 1 -c 10 -f "$INNER_B4" >/dev/null 2>&1 || true
	sleep 1
	tx1=$(tx_bytes "$IF_A")
	figure "A sent $((tx1 - tx0)) bytes after 10 flood pings into the loop (limit 70000)"
	((tx1 - tx0 < 70000)) || fail "A sent $((tx1 - tx0)) bytes into the routing loop"
	read -r _ _ <<<"$(pids "$ns1" "$IF_A")" # the worker is still there
	log=$(daemon_log "$IF_A")
	[[ ${WGD_TEST_SYSLOG:-none} == none || $log == *"Routing loop"* ]] ||
		fail "no 'Routing loop' line in A's log"
}

# A TCP stream from A to B at tunnel MTU 500 (MSS 460): the kernel may hand A's TUN
# super-packets of more than 128 segments, which must be split, not dropped.
t_mtu_500() {
	local out log bytes retrans
	command -v iperf3 >/dev/null || skip "iperf3 not installed"
	pair_up 4 nopsk
	ip1 link set "$IF_A" mtu 500
	ip2 link set "$IF_B" mtu 500
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
	n2 timeout 30 iperf3 -s -1 -B "$INNER_B4" >"$S/iperf-server.log" 2>&1 &
	wait_for 5 tcp_listening "$ns2" 5201 || fail "iperf3 server did not start"
	out=$(n1 timeout 30 iperf3 -Z -t 3 -c "$INNER_B4" -J) || fail "iperf3 over MTU 500 failed"
	figure "TCP A -> B at tunnel MTU 500: $(iperf_field "$out" \
		'int(e["sum_received"]["bits_per_second"] / 1e6)') Mbit/s," \
		"$(iperf_field "$out" 'e["sum_sent"]["retransmits"]') retransmits"
	bytes=$(iperf_field "$out" 'e["sum_sent"]["bytes"]')
	retrans=$(iperf_field "$out" 'e["sum_sent"]["retransmits"]')
	((bytes > 0)) || fail "nothing sent"
	# Each super-packet dropped whole costs TCP a burst of retransmits: before the fix,
	# 80 000-130 000 of them for about 100 000 segments sent; after, none.
	((retrans * 460 * 100 < bytes)) ||
		fail "$retrans retransmits for $bytes bytes: more than 1% of the segments"
	log=$(daemon_log "$IF_A")
	[[ $log != *"super-packet of unknown shape"* ]] || fail "A dropped super-packets"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3 DA=$3 DB=$3; run_set DATAPLANE_TESTS wgd-dataplane "$2" ;;
*) runner_main DATAPLANE_TESTS "$@" ;;
esac
