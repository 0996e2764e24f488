#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Crypt threads (`Threads = N`, issue 11 "every core"): a daemon comes up with the
# thread count its file or WGD_THREADS asks for and says so; a bad count is one
# FILE:LINE error; a pair with two threads on each side carries a TCP stream and a
# UDP stream whose datagrams arrive in order (iperf3 counts them out of order: the
# tunnel must add none, as the kernel's per-peer queues guarantee); and a handshake
# flood (tests/tools/hsload) does not stop a ping through the tunnel, while the
# responder's handshakes per second with one and two threads are printed.
# Same topology, helpers and output as netns.sh (lib.sh): A (wgd) in ns1, B (wgd)
# in ns2, ns0 routing between them.
#
# Usage:
#   threads.sh --check          0 if this host can run it, else 77 and a reason
#   threads.sh --list           scenario names (after NETNS_ONLY)
#   threads.sh run LABEL WGD    run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# HSLOAD=PATH (default build/tests/tools/hsload); PAIR_THREADS=N for threads-transfer's
# pair (default 2; 1 gives the single-threaded figures to compare).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

HSLOAD=${HSLOAD:-$repo/build/tests/tools/hsload}

# shellcheck disable=SC2034 # read through a nameref
THREADS_TESTS=(
	"threads-config 40 t_config"
	"threads-transfer 60 t_transfer"
	"threads-hsflood 80 t_hsflood"
)

# figure TEXT: a measured number for the scenario's summary (as faults.sh).
figure() { echo "$*" >>"$S/figures"; }

# iperf_field JSON EXPR: EXPR over the "end" object e of iperf3's JSON report.
iperf_field() { python3 -c "import json, sys; e = json.loads(sys.argv[1])['end']; print($2)" "$1"; }

# serving_line IFNAME: the worker's "Serving interface ..." log line.
serving_line() { daemon_log "$1" | grep -o 'Serving interface .*' | tail -n 1; }
# serving_says IFNAME TEXT: that line exists and ends with TEXT.
serving_says() { [[ $(serving_line "$1") == *"$2" ]]; }
tcp_free() { ! tcp_listening "$1" "$2"; }

# crypt_threads PID: the threads of PID named by crypt_pool.c
crypt_threads() { cat /proc/"$1"/task/*/comm | grep -c '^wgd-crypt$' || true; }

# A file's Threads = 1 and = 2, and WGD_THREADS for a bare daemon; Threads = 0 refused.
t_config() {
	local line out
	[[ ${WGD_TEST_SYSLOG:-none} != none ]] || skip "no syslog to read the daemon's log from"
	topo_up
	key_new a
	conf_a "$S/one.conf" "Threads = 1"
	start_conf "$ns1" "$IF_A" "$S/one.conf"
	wait_for 5 serving_says "$IF_A" "thread" || fail "no Serving line from A"
	line=$(serving_line "$IF_A")
	[[ $line == *"with 1 crypt thread" ]] || fail "Threads = 1: '$line'"
	read -r w _ <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "A's crypt threads with Threads = 1" "$(crypt_threads "$w")" 0
	ip1 link del "$IF_A"
	wait_for 5 sock_gone "$IF_A" || fail "A did not stop"
	conf_a "$S/two.conf" "Threads = 2"
	start_conf "$ns1" "$IF_A" "$S/two.conf"
	wait_for 5 serving_says "$IF_A" "with 2 crypt threads" ||
		fail "Threads = 2: '$(serving_line "$IF_A")'"
	# the loop thread is thread 0 of the pool: one thread more
	read -r w _ <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "A's crypt threads with Threads = 2" "$(crypt_threads "$w")" 1
	ip1 link del "$IF_A"
	wait_for 5 sock_gone "$IF_A" || fail "A did not stop"
	WGD_THREADS=3 daemon_start "$ns2" "$IF_B" "$WGD"
	wait_for 5 serving_says "$IF_B" "with 3 crypt threads" ||
		fail "WGD_THREADS=3: '$(serving_line "$IF_B")'"
	conf_a "$S/zero.conf" "Threads = 0"
	out=$(ip netns exec "$ns1" timeout 5 "$WGD" -f -c "$S/zero.conf" "$IF_A" 2>&1 </dev/null) &&
		fail "Threads = 0 accepted"
	[[ $out == *"zero.conf:4: invalid Threads"* ]] || fail "Threads = 0: '$out'"
}

# pair2_up: the usual pair, both daemons with two crypt threads (PAIR_THREADS to compare).
pair2_up() {
	export WGD_THREADS=${PAIR_THREADS:-2}
	pair_up 4 nopsk
	unset WGD_THREADS
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
}

# udp_stream FROM_NS TO_NS TO_ADDR: a 3 s UDP stream (1200-byte datagrams, 400 Mbit/s
# offered) through the tunnel; prints "DATAGRAMS LOST OUT_OF_ORDER" as the receiving
# iperf3 counted them (its JSON report; the sender's has no reordering count).
udp_stream() {
	local from=$1 to=$2 addr=$3 srv=$S/udp-server-$2.json
	ip netns exec "$to" timeout 20 iperf3 -s -1 -J -B "$addr" >"$srv" 2>&1 &
	local spid=$!
	wait_for 5 tcp_listening "$to" 5201 || fail "iperf3 server did not start in $to"
	ip netns exec "$from" timeout 20 iperf3 -Z -t 3 -u -b 400M -l 1200 -c "$addr" \
		>/dev/null || fail "iperf3 UDP $from -> $to failed"
	wait "$spid" || fail "iperf3 server in $to failed"
	python3 -c 'import json, sys
u = json.load(open(sys.argv[1]))["end"]["streams"][0]["udp"]
print(u["packets"], u["lost_packets"], u["out_of_order"])' "$srv"
}

t_transfer() {
	local out pkts lost ooo
	command -v iperf3 >/dev/null || skip "iperf3 not installed"
	pair2_up
	n2 timeout 40 iperf3 -s -1 -B "$INNER_B4" >"$S/iperf-server.log" 2>&1 &
	wait_for 5 tcp_listening "$ns2" 5201 || fail "iperf3 server did not start"
	out=$(n1 timeout 20 iperf3 -Z -t 3 -c "$INNER_B4" -J) || fail "iperf3 TCP failed"
	figure "threads: TCP A -> B, ${PAIR_THREADS:-2} threads each side: $(iperf_field "$out" \
		'int(e["sum_received"]["bits_per_second"] / 1e6)') Mbit/s"
	(($(iperf_field "$out" 'e["sum_received"]["bytes"]') > 0)) || fail "TCP: nothing received"
	wait_for 5 tcp_free "$ns2" 5201 || fail "iperf3 TCP server still up"
	read -r pkts lost ooo <<<"$(udp_stream "$ns1" "$ns2" "$INNER_B4")"
	figure "threads: UDP A -> B: $pkts datagrams, $lost lost, $ooo out of order"
	((pkts > 1000)) || fail "UDP A -> B: only $pkts datagrams"
	expect_eq "UDP datagrams A -> B out of order through the tunnel" "$ooo" 0
	read -r pkts lost ooo <<<"$(udp_stream "$ns2" "$ns1" "$INNER_A4")"
	figure "threads: UDP B -> A: $pkts datagrams, $lost lost, $ooo out of order"
	((pkts > 1000)) || fail "UDP B -> A: only $pkts datagrams"
	expect_eq "UDP datagrams B -> A out of order through the tunnel" "$ooo" 0
}

HS_KEYS=256
HS_SECONDS=4

# hs_conf FILE: A's configuration: B as the data peer, then every hsload key.
hs_conf() {
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$S/a.key")"
		echo "ListenPort = $PORT_A"
		echo "[Peer]"
		echo "PublicKey = $PUB_B"
		echo "AllowedIPs = $INNER_B4/32"
		echo "Endpoint = $(site_ep 2 4 "$PORT_B")"
		awk '{ print "[Peer]\nPublicKey = " $2 }' "$S/hs-keys"
	} >"$1"
}

# hs_round THREADS: A restarted with THREADS crypt threads and fresh peers, a ping from
# B through the tunnel every 0.1 s while hsload floods A with valid initiations; prints
# "HS_PER_S REPLIES SENT" (ping's).
hs_round() {
	local threads=$1 out ping
	ip1 link del "$IF_A" 2>/dev/null && wait_for 5 sock_gone "$IF_A"
	WGD_THREADS=$threads daemon_start "$ns1" "$IF_A" "$WGD"
	hs_conf "$S/a.conf"
	wg setconf "$IF_A" "$S/a.conf"
	inner_up "$ns1" "$IF_A" "$INNER_A4" "$INNER_A6" "$PORT_A"
	# B forgets the session it had with the A of the last round
	wg set "$IF_B" peer "$(pub a)" remove
	wg set "$IF_B" peer "$(pub a)" allowed-ips "$INNER_A4/32" endpoint "$(site_ep 1 4 "$PORT_A")"
	ping1 "$ns2" "$INNER_A4" >/dev/null || fail "T$threads: no ping through the tunnel"
	n2 timeout $((HS_SECONDS + 10)) ping -q -i 0.1 -W 1 -w $((HS_SECONDS + 1)) \
		"$INNER_A4" >"$S/ping-$threads" 2>&1 &
	ping=$!
	out=$(n3 timeout $((HS_SECONDS + 30)) "$HSLOAD" run --keys "$S/hs-keys" \
		--pool "$S/hs-pool" --to "$SITE1_HOST4" --to-port "$PORT_A" \
		--src-net "$FLOOD_BASE" --sources 2048 --warmup 1 --duration "$HS_SECONDS") ||
		fail "T$threads: hsload failed: $out"
	wait "$ping" || true
	echo "$out" >"$S/hsload-$threads.json"
	python3 -c 'import json, re, sys
j = json.loads(sys.argv[1])
m = re.search(r"(\d+) packets transmitted, (\d+) received", open(sys.argv[2]).read())
print(int(j["hs_per_s"]), m.group(2) if m else 0, m.group(1) if m else 0)' "$out" "$S/ping-$threads"
}

# A handshake flood (hsload: valid initiations from 256 keys and 2048 addresses, a
# closed loop) at A with one and with two crypt threads: a ping through the tunnel from
# B keeps getting answers, and A's handshakes per second are printed for both.
t_hsflood() {
	local hs1 rx1 tx1 hs2 rx2 tx2
	[[ -x $HSLOAD ]] || skip "$HSLOAD not built (make tools)"
	topo_up
	flood_ns_up
	key_new a
	key_new b
	PUB_B=$(pub b)
	"$HSLOAD" keygen "$HS_KEYS" >"$S/hs-keys"
	# each round needs fresh replay state (hs_round re-adds the peers) but the same pool
	"$HSLOAD" pool --keys "$S/hs-keys" --responder "$(pub a)" --count 40000 --threads 2 \
		--out "$S/hs-pool" >/dev/null
	daemon_start "$ns2" "$IF_B" "$WGD"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	read -r hs1 rx1 tx1 <<<"$(hs_round 1)"
	read -r hs2 rx2 tx2 <<<"$(hs_round 2)"
	figure "threads: handshakes/s of one responder under hsload: T1 $hs1, T2 $hs2" \
		"($(awk -v a="$hs2" -v b="$hs1" 'BEGIN { printf "%.2f", b ? a / b : 0 }')x);" \
		"pings answered during the flood: T1 $rx1/$tx1, T2 $rx2/$tx2"
	((hs1 > 0 && hs2 > 0)) || fail "no handshakes completed (T1 $hs1, T2 $hs2)"
	# data is not starved: most pings through the tunnel come back during the flood
	((rx2 * 2 > tx2 && tx2 > 0)) || fail "T2: $rx2 of $tx2 pings answered during the flood"
	((rx1 * 2 > tx1 && tx1 > 0)) || fail "T1: $rx1 of $tx1 pings answered during the flood"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3 DA=$3 DB=$3; run_set THREADS_TESTS wgd-threads "$2" ;;
*) runner_main THREADS_TESTS "$@" ;;
esac
