#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The Linux kernel's WireGuard selftest (tools/testing/selftests/wireguard/
# netns.sh) has scenarios the interop matrix (netns.sh) does not: these are
# they, written afresh for wgd from what that test checks, each with the
# kernel's own expectation (its numbers, its `wg show endpoints` results).
# Every daemon here is wgd; where a check reads the peer's view, the peer is
# wgd too, and the kernel's behaviour is the reference.
#
#   moved-interface        `ip link set IF netns NS` then up there: the tunnel
#                          works, its UDP socket stays where wgd started
#   moved-interface-conf   the same under `wgd -c`: the supervisor lets the
#                          link's addresses and routes go and stops cleanly
#   source-better-route    a better route through another link with its own
#                          preferred source: the peer sees the new source
#   source-address-removed the sticky source address goes away: fall over
#   source-reply-to-sender replies leave from the address the peer talks to
#   source-other-link      ... even when that address is on another link
#   wg-in-wg               a tunnel whose endpoints are inside another tunnel
#   routing-loop           the endpoint routed through the tunnel itself:
#                          fewer than 70 000 bytes sent (needs issue 12 item 3)
#   low-ports              listen ports 1, 2 and 5 (needs issue 12 item 1)
#
# Usage:
#   selftest.sh --check            0 if this host can run it, else 77 and a reason
#   selftest.sh --list             scenario names (after NETNS_ONLY)
#   selftest.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh

# shellcheck disable=SC2034 # read through a nameref
SELFTEST_TESTS=(
	"moved-interface 60 t_moved"
	"moved-interface-conf 60 t_moved_conf"
	"source-better-route 60 t_better_route"
	"source-address-removed 60 t_address_removed"
	"source-reply-to-sender 60 t_reply_to_sender"
	"source-other-link 60 t_other_link"
	"wg-in-wg 60 t_wg_in_wg"
	"routing-loop 60 t_routing_loop"
	"low-ports 60 t_low_ports"
)

# Two directly linked namespaces for the source-address cases (RFC 2544's
# benchmarking range, as the rest of the suite): ns1's lnk1 to ns2's lnk2.
LAN_NET=198.19.0.0/24
LAN_1=198.19.0.1
LAN_2=198.19.0.2
LAN_3=198.19.0.3
LAN_10=198.19.0.10
LAN6_1=2001:db8:19::1
LAN6_2=2001:db8:19::2
LAN6_3=2001:db8:19::3
LAN6_10=2001:db8:19::10
OTHER_NET=198.19.50.0/24 # on another link of ns1
OTHER_1=198.19.50.1

# --- helpers -------------------------------------------------------------------

# keys_ab: keys a and b, PUB_A and PUB_B.
keys_ab() {
	key_new a
	key_new b
	PUB_A=$(pub a)
	PUB_B=$(pub b)
}

# endpoint_of IFNAME PUB: the endpoint IFNAME has for the peer PUB.
endpoint_of() { peer_field "$1" endpoints "$2"; }

# expect_endpoint IFNAME PUB WANT: after a ping, the peer's view of us.
expect_endpoint() {
	expect_eq "$1's endpoint for its peer" "$(endpoint_of "$1" "$2")" "$3"
}

# lan_up: ns1 and ns2 only, linked by lnk1/lnk2 without addresses, DAD and
# rp_filter off (the kernel's test does the same), A in ns1 and B in ns2
# paired over the inner addresses; no endpoint yet.
lan_up() {
	local n
	for n in "$ns1" "$ns2"; do
		ip netns add "$n"
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
	done
	ip1 link add lnk1 type veth peer name lnk2 netns "$ns2"
	n1 sysctl -qw net.ipv4.conf.lnk1.promote_secondaries=1
	daemon_start "$ns1" "$IF_A" "$WGD"
	daemon_start "$ns2" "$IF_B" "$WGD"
	keys_ab
	wg set "$IF_A" private-key "$S/a.key" listen-port "$PORT_A" \
		peer "$PUB_B" allowed-ips "$INNER_B4/32,$INNER_B6/128"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$PUB_A" allowed-ips "$INNER_A4/32,$INNER_A6/128"
	inner_up "$ns1" "$IF_A" "$INNER_A4" "$INNER_A6" "$PORT_A"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
}

udp_free() { ! udp_bound "$@"; }

link_is_up() { [[ $(ip netns exec "$1" cat "/sys/class/net/$2/operstate") == up ]]; }

lan_links_up() {
	ip1 link set lnk1 up
	ip2 link set lnk2 up
	wait_for 5 link_is_up "$ns1" lnk1 || fail "lnk1 did not come up"
	wait_for 5 link_is_up "$ns2" lnk2 || fail "lnk2 did not come up"
}

# ping_ok NS DST: one ping must come back.
ping_ok() { ping1 "$1" "$2" >/dev/null || fail "no answer to a ping of $2 from $1"; }

# tx_bytes IFNAME PUB: bytes sent to the peer PUB (wg show transfer).
tx_bytes() { peer_field "$1" transfer "$2" | awk '{ print $2 }'; }

# --- the moved interface (kernel: its topology's `ip link set wg0 netns`) ------

# moved_pair START: the usual pair (netns.sh's topology), except that A's link
# is moved to ns3 before it is ever up, and addressed and brought up there;
# START starts A in ns1 (and may set A's keys itself).
moved_pair() {
	topo_up
	ip netns add "$ns3"
	ip -n "$ns3" link set lo up
	keys_ab
	"$1"
	daemon_start "$ns2" "$IF_B" "$WGD"
	wg set "$IF_A" private-key "$S/a.key" listen-port "$PORT_A" \
		peer "$PUB_B" allowed-ips "$INNER_B4/32,$INNER_B6/128" \
		endpoint "$(site_ep 2 4 "$PORT_B")"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$PUB_A" allowed-ips "$INNER_A4/32,$INNER_A6/128"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	ip1 link set "$IF_A" netns "$ns3"
	ip -n "$ns3" addr add "$INNER_A4/24" dev "$IF_A"
	ip -n "$ns3" addr add "$INNER_A6/64" dev "$IF_A" nodad
	ip -n "$ns3" link set "$IF_A" up
	# the socket stays in the namespace the daemon started in, as the kernel's does
	wait_for 5 udp_bound "$ns1" "$PORT_A" || fail "no UDP port $PORT_A in $ns1 after up in $ns3"
	! udp_bound "$ns3" "$PORT_A" || fail "UDP port $PORT_A bound in $ns3, where the link went"
	ping_ok "$ns3" "$INNER_B4"
	ping_ok "$ns3" "$INNER_B6"
	expect_endpoint "$IF_B" "$PUB_A" "$(site_ep 1 4 "$PORT_A")"
	# down and up again there: followed as before
	ip -n "$ns3" link set "$IF_A" down
	wait_for 5 udp_free "$ns1" "$PORT_A" || fail "$IF_A down in $ns3: port still bound"
	ip -n "$ns3" link set "$IF_A" up
	ip -n "$ns3" addr add "$INNER_A6/64" dev "$IF_A" nodad 2>/dev/null || true
	wait_for 5 udp_bound "$ns1" "$PORT_A" || fail "$IF_A up again in $ns3: no port"
	ping_ok "$ns3" "$INNER_B4"
}

start_bare() { daemon_start "$ns1" "$IF_A" "$WGD"; }

t_moved() {
	moved_pair start_bare
}

# wgd -c FILE with an Address and a Table=auto route: after the move those are
# the new namespace's business; the supervisor says so, stops cleanly, and
# the link goes with the daemon.
sock_ready() { [[ -S $(sock_path "$1") ]]; }

# In the foreground (-f), so that the log is on stderr whatever syslog does.
start_conf_fg() {
	CONF=$S/$IF_A.conf
	conf_a "$CONF" "Address = $INNER_A4/24"
	ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -f -c "$CONF" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 &
	wait_for 10 sock_ready "$IF_A" || fail "wgd -f -c $CONF $IF_A: no UAPI socket"
	# the file's address goes with the link; moved_pair adds it there again
	ip1 link set "$IF_A" down
	ip1 addr flush dev "$IF_A"
}

t_moved_conf() {
	local s w
	moved_pair start_conf_fg
	wait_for 5 shows "moved to another network namespace" daemon_log "$IF_A" ||
		fail "the supervisor did not notice the move"
	read -r w s < <(pids "$ns1" "$IF_A")
	wg set "$IF_A" peer "$(wg genkey | wg pubkey)" allowed-ips 198.18.77.0/24
	kill -TERM "$s"
	wait_for 10 pid_gone "$s" || fail "the supervisor did not stop after SIGTERM"
	wait_for 5 pid_gone "$w" || fail "the worker outlived the supervisor"
	! ip -n "$ns3" link show dev "$IF_A" >/dev/null 2>&1 || fail "$IF_A outlived the daemon"
	[[ -z $(ip -n "$ns3" route show 198.18.77.0/24) ]] ||
		fail "the supervisor routed a peer in the namespace the link moved to"
	! shows "Cannot" daemon_log "$IF_A" || fail "errors in the log: $(daemon_log "$IF_A")"
}

# --- source addresses (kernel: "saddr routing is sticky but not too sticky") ---

# A second link pair lnk3/lnk4 and two routes to LAN_NET in ns1: first only
# through lnk1 (source LAN_1), then a better one through lnk3 with source
# LAN_3. The kernel then sends from LAN_3, and B's endpoint for A follows.
t_better_route() {
	lan_up
	ip1 link add lnk3 type veth peer name lnk4 netns "$ns2"
	ip1 addr add "$LAN_1/24" dev lnk1
	ip2 addr add "$LAN_2/24" dev lnk2
	ip1 addr add "$LAN_3/24" dev lnk3
	lan_links_up
	ip1 link set lnk3 up
	ip2 link set lnk4 up
	wait_for 5 link_is_up "$ns1" lnk3 || fail "lnk3 did not come up"
	ip1 route flush dev lnk1
	ip1 route flush dev lnk3
	ip1 route add "$LAN_NET" dev lnk1 src "$LAN_1" metric 2
	wg set "$IF_A" peer "$PUB_B" endpoint "$LAN_2:$PORT_B"
	ping_ok "$ns1" "$INNER_B4"
	expect_endpoint "$IF_B" "$PUB_A" "$LAN_1:$PORT_A"
	ip1 route add "$LAN_NET" dev lnk3 src "$LAN_3" metric 1
	ping_ok "$ns1" "$INNER_B4"
	expect_endpoint "$IF_B" "$PUB_A" "$LAN_3:$PORT_A"
}

# The address A's replies were sticking to goes away (another takes its
# place): the next pings still get through, over IPv4 and then IPv6.
t_address_removed() {
	lan_up
	ip1 addr add "$LAN_1/24" dev lnk1
	ip1 addr add "$LAN6_1/64" dev lnk1 nodad
	ip2 addr add "$LAN_2/24" dev lnk2
	ip2 addr add "$LAN6_2/64" dev lnk2 nodad
	lan_links_up
	wg set "$IF_A" peer "$PUB_B" endpoint "$LAN_2:$PORT_B"
	ping_ok "$ns1" "$INNER_B4"
	ip1 addr add "$LAN_10/24" dev lnk1
	ip1 addr del "$LAN_1/24" dev lnk1
	ping_ok "$ns1" "$INNER_B4"
	wg set "$IF_A" peer "$PUB_B" endpoint "[$LAN6_2]:$PORT_B"
	ping_ok "$ns1" "$INNER_B4"
	ip1 addr add "$LAN6_10/64" dev lnk1 nodad
	ip1 addr del "$LAN6_1/64" dev lnk1
	ping_ok "$ns1" "$INNER_B4"
}

# ns1 has two addresses of each family on one link; whichever B sends to, A
# answers from it, and B's endpoint stays what B chose.
t_reply_to_sender() {
	local dst
	lan_up
	ip1 addr add "$LAN_1/24" dev lnk1
	ip1 addr add "$LAN_2/24" dev lnk1
	ip1 addr add "$LAN6_1/64" dev lnk1 nodad
	ip1 addr add "$LAN6_2/64" dev lnk1 nodad
	ip2 addr add "$LAN_3/24" dev lnk2
	ip2 addr add "$LAN6_3/64" dev lnk2 nodad
	lan_links_up
	for dst in "$LAN_1:$PORT_A" "[$LAN6_1]:$PORT_A" "$LAN_2:$PORT_A" "[$LAN6_2]:$PORT_A"; do
		wg set "$IF_B" peer "$PUB_A" endpoint "$dst"
		ping_ok "$ns2" "$INNER_A4"
		expect_endpoint "$IF_B" "$PUB_A" "$dst"
	done
}

# B talks to an address of A's on another link, not the one the packets come
# in on: A's answers still leave from that address.
t_other_link() {
	lan_up
	ip1 addr add "$LAN_1/24" dev lnk1
	ip2 addr add "$LAN_2/24" dev lnk2
	lan_links_up
	# the kernel's test uses a dummy link; a veth pair within ns1 serves as well
	ip1 link add other0 type veth peer name other1
	ip1 addr add "$OTHER_1/24" dev other0
	ip1 link set other0 up
	ip1 link set other1 up
	ip2 route add "$OTHER_NET" dev lnk2
	wg set "$IF_B" peer "$PUB_A" endpoint "$OTHER_1:$PORT_A"
	ping_ok "$ns2" "$INNER_A4"
	expect_endpoint "$IF_B" "$PUB_A" "$OTHER_1:$PORT_A"
}

# --- tunnels in tunnels --------------------------------------------------------

INNER2_A4=198.18.242.1
INNER2_B4=198.18.242.2
INNER2_A6=2001:db8:242::1
INNER2_B6=2001:db8:242::2
PORT_C=10003
PORT_Q=10004

# The pair over the sites, then C in ns1 and Q in ns2 whose endpoints are the
# first tunnel's inner IPv6 addresses: pings and a short TCP stream through both.
t_wg_in_wg() {
	pair_up 4 psk
	daemon_start "$ns1" "$IF_C" "$WGD"
	daemon_start "$ns2" "$IF_Q" "$WGD"
	key_new c
	key_new q
	wg set "$IF_C" private-key "$S/c.key" listen-port "$PORT_C" \
		peer "$(pub q)" allowed-ips "$INNER2_B4/32,$INNER2_B6/128" \
		endpoint "[$INNER_B6]:$PORT_Q"
	wg set "$IF_Q" private-key "$S/q.key" listen-port "$PORT_Q" \
		peer "$(pub c)" allowed-ips "$INNER2_A4/32,$INNER2_A6/128" \
		endpoint "[$INNER_A6]:$PORT_C"
	ip1 link set "$IF_C" mtu 1340
	ip2 link set "$IF_Q" mtu 1340
	inner_up "$ns1" "$IF_C" "$INNER2_A4" "$INNER2_A6" "$PORT_C"
	inner_up "$ns2" "$IF_Q" "$INNER2_B4" "$INNER2_B6" "$PORT_Q"
	flood "$ns1" "$INNER2_B4"
	flood "$ns2" "$INNER2_A4"
	flood "$ns1" "$INNER2_B6"
	flood "$ns2" "$INNER2_A6"
	n2 timeout 20 iperf3 -s -1 -B "$INNER2_B4" >/dev/null 2>&1 &
	wait_for 5 tcp_listening "$ns2" 5201 || fail "iperf3 did not listen"
	n1 timeout 15 iperf3 -t 2 -c "$INNER2_B4" >"$S/iperf" 2>&1 ||
		fail "iperf3 through both tunnels failed: $(tail -n 3 "$S/iperf")"
	wait
}

# A session first, then B's endpoint moved to an address routed through A's
# own tunnel: ten flood pings may not come back, but A may send at most the
# kernel's 70 000 bytes for them (its own datagrams must not go round and
# round), and keeps serving.
t_routing_loop() {
	local before after
	pair_up 4 psk
	ping_ok "$ns1" "$INNER_B4"
	wg set "$IF_A" peer "$PUB_B" endpoint "$INNER_B4:7"
	before=$(tx_bytes "$IF_A" "$PUB_B")
	! n1 timeout 15 ping -q -c 10 -f -W 1 "$INNER_B4" >/dev/null 2>&1 ||
		fail "pings came back through a loop"
	sleep 1
	after=$(tx_bytes "$IF_A" "$PUB_B")
	echo "A sent $((after - before)) bytes for 10 pings into the loop" >>"$S/figures"
	((after - before < 70000)) || fail "A sent $((after - before)) bytes into the loop (>= 70000)"
	wg show "$IF_A" >/dev/null || fail "A stopped serving after the loop"
}

# The kernel's test runs on ports 1, 2 and 5; so may wgd (root binds them for
# an unprivileged worker, or the worker may).
t_low_ports() {
	pair_up 4 psk
	wg set "$IF_A" listen-port 1 || fail "wg set $IF_A listen-port 1 failed"
	wg set "$IF_B" listen-port 2 peer "$PUB_A" endpoint "$(site_ep 1 4 1)" ||
		fail "wg set $IF_B listen-port 2 failed"
	wg set "$IF_A" peer "$PUB_B" endpoint "$(site_ep 2 4 2)"
	wait_for 5 udp_bound "$ns1" 1 || fail "port 1 not bound"
	ping_ok "$ns1" "$INNER_B4"
	expect_endpoint "$IF_B" "$PUB_A" "$(site_ep 1 4 1)"
	wg set "$IF_A" listen-port 5 || fail "wg set $IF_A listen-port 5 failed"
	wait_for 5 udp_bound "$ns1" 5 || fail "port 5 not bound"
	ping_ok "$ns1" "$INNER_B4"
	expect_endpoint "$IF_B" "$PUB_A" "$(site_ep 1 4 5)"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3 DA=$3 DB=$3; run_set SELFTEST_TESTS wgd-selftest "$2" ;;
*) runner_main SELFTEST_TESTS "$@" ;;
esac
