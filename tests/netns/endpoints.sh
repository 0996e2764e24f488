#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Endpoints that stay connected (issue 14): several endpoints per peer with failover,
# and endpoint names looked up again when the handshake goes stale.  Same topology,
# helpers and output as netns.sh (lib.sh):
#
#  ns1: wa<id> (wgd -c, Endpoint = ...)  --veth--  ns0 (router, nftables)
#        --veth--  ns2: wb<id> (wgd, bare, wg set) at 198.51.100.100 and .101
#
# endpoint-failover: A's peer B has `Endpoint = B1:P, B2:P`.  Mid TCP transfer (iperf3
# through the tunnel) ns0 drops A's datagrams to B1: A's handshake to B1 goes
# unanswered, A moves to B2, the transfer survives (the cut is both ways, see cut()).  Prints the time from the cut and
# from the first unanswered initiation (counted by nftables) to the switch; the latter
# must stay within 2 x REKEY_TIMEOUT + jitter + 5 s of slack.  Once B1 answers again
# nothing moves back: the switch counter stays at 1; nor does a reload move it.
#
# endpoint-reresolve-stale: `Endpoint = NAME:P`, NAME answered by a DNS server in ns1
# that replies only after 5 s (tests/tools/slow_dns.py).  NAME moves from B1 to B2 in
# that server; A's wall clock then jumps 200 s (tests/preload/clockshift.so), so its
# handshake looks older than 135 s: the supervisor looks NAME up again, the endpoint
# follows and the change is logged.  A ping every 0.2 s through the tunnel runs all the
# while: the slow lookup must not hold one back (none lost, none over 2.5 s).
#
# endpoint-reresolve-realtime (SLOW=1 only): the same without the clock shim and with
# B1 cut, so the handshake really goes stale after 135 s.
#
# Usage:
#   endpoints.sh --check            0 if this host can run it, else 77 and a reason
#   endpoints.sh --list             scenario names (after NETNS_ONLY)
#   endpoints.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh; SLOW=1;
# WGCTL (default ctl/wgctl); CLOCKSHIFT (default build/tests/preload/clockshift.so).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

SLOW=${SLOW:-0}
WGCTL=${WGCTL:-$repo/ctl/wgctl}
CLOCKSHIFT=${CLOCKSHIFT:-$repo/build/tests/preload/clockshift.so}

# shellcheck disable=SC2034 # read through a nameref
ENDPOINTS_TESTS=(
	"endpoint-failover 120 t_failover"
	"endpoint-reresolve-stale 90 t_reresolve shifted"
)
((SLOW)) && ENDPOINTS_TESTS+=("endpoint-reresolve-realtime 300 t_reresolve realtime")

B1=$SITE2_HOST4
B2=198.51.100.101
NAME=dc1.site2.test
DNS_DELAY_S=5
REKEY_TIMEOUT_S=5
JITTER_S=0.334

# --- helpers -------------------------------------------------------------------

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

endpoint_is() { [[ $(peer_field "$IF_A" endpoints "$(pub b)") == "$1" ]]; }

# b_up: B (bare wgd) in ns2 with a second address B2, A as its peer without endpoint.
b_up() {
	ip2 addr add "$B2/24" dev up0
	key_new a
	key_new b
	daemon_start "$ns2" "$IF_B" "$WGD"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$(pub a)" allowed-ips "$INNER_A4/32"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
}

# conf_a FILE ENDPOINT [EXTRA PEER LINES...]: A, with B at ENDPOINT.
conf_a() {
	local f=$1 endpoint=$2 line
	shift 2
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24\n' \
			"$(cat "$S/a.key")" "$PORT_A" "$INNER_A4"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
			"$(pub b)" "$INNER_B4" "$endpoint"
		for line; do echo "$line"; done
	} >"$f"
}

# switches: A's wgd_peer_endpoint_switches_total for B (wgctl metrics).
switches() {
	"$WGCTL" metrics "$IF_A" |
		awk -v p="$(pub b)" '/^wgd_peer_endpoint_switches_total/ && index($0, p) { print $2 }'
}

# cut ADDR / uncut: ns0 drops A's datagrams to ADDR:PORT_B and those from there, as
# an outage of that path would (with one way only, B's initiations from ADDR would
# reach A and keep A's endpoint there: roaming).  It counts A's initiations to ADDR
# (148 bytes, 156 with the UDP header).
cut() {
	n0 nft -f - <<-EOF2
		table ip endpoints_test {
			chain cut {
				type filter hook forward priority 0;
				ip daddr $1 udp dport $PORT_B udp length 156 counter
				ip daddr $1 udp dport $PORT_B drop
				ip saddr $1 udp sport $PORT_B drop
			}
		}
	EOF2
}
uncut() { n0 nft delete table ip endpoints_test; }
initiations_cut() {
	n0 nft list chain ip endpoints_test cut | awk '/length 156/ { print $(NF - 2) }'
}

# --- endpoint-failover ---------------------------------------------------------

t_failover() {
	local conf=$S/a.conf t_cut t_init="" t_switch n client rc=0 line sup
	topo_up
	b_up
	conf_a "$conf" "$B1:$PORT_B, $B2:$PORT_B"
	start_conf "$ns1" "$IF_A" "$conf"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
	endpoint_is "$B1:$PORT_B" || fail "A does not start on the first endpoint"
	expect_eq "switches before the cut" "$(switches)" 0
	n2 iperf3 -s -1 -B "$INNER_B4" >"$S/iperf-server.log" 2>&1 &
	wait_for 5 tcp_listening "$ns2" 5201 || fail "iperf3 server did not start"
	n1 iperf3 -c "$INNER_B4" -t 45 -b 4M -i 5 >"$S/iperf.log" 2>&1 &
	client=$!
	sleep 3
	cut "$B1"
	t_cut=$(now)
	# Data goes unanswered: after KEEPALIVE + REKEY_TIMEOUT A initiates (to B1, cut),
	# and REKEY_TIMEOUT + jitter later it tries B2.
	for ((n = 0; n < 600; n++)); do
		[[ -n $t_init ]] || [[ $(initiations_cut) == 0 ]] || t_init=$(now)
		endpoint_is "$B2:$PORT_B" && break
		sleep 0.1
	done
	t_switch=$(now)
	endpoint_is "$B2:$PORT_B" || fail "no switch to $B2 within 60 s of the cut"
	[[ -n $t_init ]] || fail "switched without an initiation to $B1"
	echo "endpoints: switch after $(fsub "$t_switch" "$t_cut") s from the cut," \
		"$(fsub "$t_switch" "$t_init") s from the first unanswered initiation" >>"$S/figures"
	fle "$(fsub "$t_switch" "$t_init")" \
		"$(awk -v r=$REKEY_TIMEOUT_S -v j=$JITTER_S 'BEGIN { print 2 * r + j + 5 }')" ||
		fail "switch $(fsub "$t_switch" "$t_init") s after the first unanswered initiation"
	expect_eq "switches after the cut" "$(switches)" 1
	wait_for 5 shows "no handshake answer from $B1:$PORT_B; endpoint now $B2:$PORT_B" \
		daemon_log "$IF_A" || fail "the switch is not logged"
	shows "endpoints: $B1:$PORT_B, $B2:$PORT_B; 1 switch" "$WGCTL" show "$IF_A" ||
		fail "wgctl show lacks the endpoint list"
	shows '"endpoint_switches": 1' "$WGCTL" show "$IF_A" --json ||
		fail "wgctl show --json lacks the switch count"
	# B1 answers again: nothing moves back, nothing flaps.
	uncut
	sleep $((3 * REKEY_TIMEOUT_S))
	endpoint_is "$B2:$PORT_B" || fail "the endpoint moved back once $B1 answered"
	expect_eq "switches once $B1 is back" "$(switches)" 1
	# A reload of the same file keeps the entry that answers.
	read -r _ sup <<<"$(pids "$ns1" "$IF_A")"
	kill -HUP "$sup"
	wait_for 10 shows "0 changed, 1 unchanged" daemon_log "$IF_A" ||
		fail "the reload of the same file is not logged as changing nothing"
	endpoint_is "$B2:$PORT_B" || fail "a reload moved the endpoint back to $B1"
	wait "$client" || rc=$?
	expect_eq "iperf3 through the switch (exit status)" "$rc" 0
	line=$(grep -E 'receiver$' "$S/iperf.log" | tail -n 1)
	[[ -n $line ]] || fail "iperf3 reports no receiver total"
	echo "endpoints: iperf3 through the switch: ${line//  / }" >>"$S/figures"
	wg show "$IF_A" dump | awk 'NR == 2 { exit !($3 == "'"$B2:$PORT_B"'") }' ||
		fail "wg show dump does not show the wire endpoint"
}

# --- endpoint-reresolve-* ------------------------------------------------------

etc_dir() { echo "/etc/netns/$ns1"; }

# names_up: ns1's hosts file without NAME and the slow DNS server (answers from
# $S/dns.map after DNS_DELAY_S); removed again when the scenario process exits.
names_up() {
	local dir
	dir=$(etc_dir)
	trap 'rm -rf "$(etc_dir)"; rmdir /etc/netns 2>/dev/null || true' EXIT
	mkdir -p "$dir"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$dir/hosts"
	printf 'nameserver 127.0.0.1\noptions timeout:%s attempts:1\n' $((DNS_DELAY_S * 3)) \
		>"$dir/resolv.conf"
	chmod 755 "$dir" # the scenario's umask is 077; the resolver is not root
	chmod 644 "$dir/hosts" "$dir/resolv.conf"
	dns_map "$B1"
	n1 /usr/bin/python3 "$repo/tests/tools/slow_dns.py" 127.0.0.1 "$DNS_DELAY_S" \
		"$S/dns.map" "$S/dns.log" 2>>"$S/dns.err" &
	wait_for 5 udp_bound "$ns1" 53 || fail "slow DNS server did not start"
}

# dns_map ADDR: NAME's answer from now on (rename: the server never sees half a file).
dns_map() {
	echo "$NAME $1" >"$S/dns.map.tmp"
	mv -f "$S/dns.map.tmp" "$S/dns.map"
}

# clock_set SECONDS: A's wall-clock offset, replaced by rename as clockshift.c wants.
clock_set() {
	echo "$1" >"$S/clockshift.tmp"
	chmod 644 "$S/clockshift.tmp"
	mv -f "$S/clockshift.tmp" "$S/clockshift"
}

# start_a MODE CONF: wgd -c CONF for A, under clockshift.so when MODE is shifted.
start_a() {
	local pre=()
	if [[ $1 == shifted ]]; then
		[[ -r $CLOCKSHIFT ]] || skip "$CLOCKSHIFT not built (make tools)"
		chmod 711 "${S%/*}" "$S" # the worker (nobody) reads the offset file
		clock_set 0
		pre=(LD_PRELOAD="$CLOCKSHIFT" CLOCKSHIFT_FILE="$S/clockshift")
	fi
	timeout -k 2 15 ip netns exec "$ns1" env "${pre[@]}" LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$2" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c: launcher exited with $?"
}

# dns_answered_after T: the DNS log has an answer for NAME to a query asked after T.
dns_answered_after() {
	awk -v t="$1" -v n="$NAME" '$3 == n && $1 > t { f = 1 } END { exit !f }' "$S/dns.log" \
		2>/dev/null
}

t_reresolve() {
	local mode=$1 conf=$S/a.conf t0 t_move pinger stats loss max keepalive=5
	topo_up
	names_up
	b_up
	conf_a "$conf" "$NAME:$PORT_B" "PersistentKeepalive = $keepalive"
	t0=$(now)
	start_a "$mode" "$conf"
	wait_for $((DNS_DELAY_S * 4)) endpoint_is "$B1:$PORT_B" ||
		fail "endpoint not set from the slow DNS answer"
	echo "endpoints: first lookup through the slow DNS server: $(fsub "$(now)" "$t0") s" \
		>>"$S/figures"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
	shows "endpoint: $B1:$PORT_B ($NAME:$PORT_B)" "$WGCTL" show "$IF_A" ||
		fail "wgctl show does not name the endpoint"
	ip netns exec "$ns1" ping -n -q -i 0.2 "$INNER_B4" >"$S/ping.log" 2>&1 &
	pinger=$!
	# A lookup asked before this point (the handshake was not done at a periodic
	# check) still gets B1: the server answers from the map as it was when asked.
	dns_map "$B2"
	t0=$(now)
	if [[ $mode == shifted ]]; then
		clock_set 200 # the handshake now looks 200 s old
		wait_for 60 endpoint_is "$B2:$PORT_B" || fail "endpoint did not follow $NAME to $B2"
	else
		cut "$B1" # the tunnel breaks; after 135 s without a handshake, NAME is asked
		wait_for 200 endpoint_is "$B2:$PORT_B" || fail "endpoint did not follow $NAME to $B2"
	fi
	t_move=$(now)
	dns_answered_after "$t0" || fail "the move came without a DNS query after the change"
	echo "endpoints: endpoint followed $NAME $(fsub "$t_move" "$t0") s after the change" >>"$S/figures"
	wait_for 5 shows "endpoint $NAME:$PORT_B now $B2:$PORT_B (was $B1:$PORT_B)" \
		daemon_log "$IF_A" || fail "the new address is not logged"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping after the move"
	sleep 1
	kill -INT "$pinger"
	wait "$pinger" || true
	stats=$(cat "$S/ping.log")
	[[ $stats =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] ||
		fail "no ping statistics: $stats"
	loss=$((BASH_REMATCH[1] - BASH_REMATCH[2]))
	max=$(sed -n 's|.*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' "$S/ping.log")
	if [[ $mode == shifted ]]; then
		echo "endpoints: ping every 0.2 s during the lookup: ${BASH_REMATCH[1]} sent," \
			"$loss lost, max rtt ${max:-?} ms" >>"$S/figures"
	fi
	if [[ $mode == shifted ]]; then
		expect_eq "pings lost while NAME was looked up (${DNS_DELAY_S} s)" "$loss" 0
		fle "${max:-99999}" 2500 || fail "a ping waited ${max} ms while NAME was looked up"
	fi
	shows "endpoint: $B2:$PORT_B ($NAME:$PORT_B)" "$WGCTL" show "$IF_A" ||
		fail "wgctl show does not name the new endpoint"
	shows "Endpoint = $B2:$PORT_B" wg showconf "$IF_A" ||
		fail "wg showconf does not show the wire endpoint"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	[[ -x /usr/bin/python3 ]] || { echo "/usr/bin/python3 missing (the slow DNS server)"; return 77; }
	command -v iperf3 >/dev/null || { echo "iperf3 missing"; return 77; }
	command -v nft >/dev/null || { echo "nft missing"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set ENDPOINTS_TESTS wgd-endpoints "$2" ;;
*) runner_main ENDPOINTS_TESTS "$@" ;;
esac
