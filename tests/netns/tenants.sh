#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A multi-tenant hub (wgd.conf(5) Namespace, VRF, Reach, Isolate; README "One
# hub, many customers").  lib.sh's topology, with the hub in ns0 (the public
# side, one address HUB for every customer) and its tenants' namespaces t1, t2:
#
#   ns1: branch of customer 1, LAN 10.1.0.0/24 (wb<id>)  --veth--+
#                                                                 ns0: hub, wgd x2
#   ns2: branch of customer 2, LAN 10.1.0.0/24 (wc<id>)  --veth--+   (UDP sockets)
#   t1: wa<id> (Namespace=t1), server 10.9.0.1 answering "tenant-1"
#   t2: wq<id> (Namespace=t2), server 10.9.0.1 answering "tenant-2"
#
# Usage:
#   tenants.sh --check            0 if this host can run it, else 77 and a reason
#   tenants.sh --list             scenario names (after NETNS_ONLY)
#   tenants.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL (default ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

# shellcheck disable=SC2034 # read through a nameref
TENANTS_TESTS=(
	"tenants-netns 60 t_netns"
	"tenants-vrf 30 t_vrf"
	"tenants-isolate-reach 60 t_isolate_reach"
)

WGCTL=${WGCTL:-$repo/ctl/wgctl}
HUB=$SITE1_GW4 # the one public address both customers' branches use
t1=wgdt$RUNID-t1
t2=wgdt$RUNID-t2
SERVER=10.9.0.1
SERVICE_PORT=7777

# --- helpers -------------------------------------------------------------------

# tenants_up: the two tenant namespaces; torn down with whatever runs there.
tenants_up() {
	trap tenants_down EXIT
	local n
	for n in "$t1" "$t2"; do
		ip netns add "$n"
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
	done
}
tenants_down() {
	local n pids
	for n in "$t1" "$t2"; do
		[[ -e /run/netns/$n ]] || continue
		mapfile -t pids < <(ip netns pids "$n")
		((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null
		((${#pids[@]})) && wait_for 5 all_gone "${pids[@]}"
		ip netns del "$n"
	done
	return 0
}

# serve NS TEXT: a TCP server on SERVER:SERVICE_PORT in NS answering TEXT.
serve() {
	ip netns exec "$1" /usr/bin/python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(sys.argv[3].encode() + b"\n")
    c.close()' "$SERVER" "$SERVICE_PORT" "$2" &
	wait_for 5 tcp_listening "$1" "$SERVICE_PORT" || fail "server in $1 did not start"
}

# ask NS: what the server at SERVER says to NS (through its tunnel).
ask() {
	ip netns exec "$1" timeout 5 /usr/bin/python3 -c 'import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4)
print(c.makefile().readline().strip())' "$SERVER" "$SERVICE_PORT"
}

# hub_conf FILE IFKEY PORT NETNS [LINES...]: a hub's [Interface], at 10.9.0.1
# (NETNS "-": no Namespace line, for wgd --netns).
hub_conf() {
	local f=$1 key=$2 port=$3 ns=$4 line
	shift 4
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$S/$key.key")"
		echo "ListenPort = $port"
		echo "Address = $SERVER/24"
		[[ $ns == - ]] || echo "Namespace = $ns"
		for line; do echo "$line"; done
	} >"$f"
}

# branch_up NS IFNAME KEY HUBKEY PORT LAN_ADDR [EXTRA ALLOWEDIPS]: a branch
# whose tunnel carries its LAN address and reaches the hub's 10.9.0.0/24.
branch_up() {
	local ns=$1 ifn=$2 key=$3 hub=$4 port=$5 addr=$6 extra=${7:-}
	cat >"$S/$ifn.conf" <<-EOF
		[Interface]
		PrivateKey = $(cat "$S/$key.key")
		Address = $addr/24
		[Peer]
		PublicKey = $(pub "$hub")
		Endpoint = $HUB:$port
		AllowedIPs = 10.9.0.0/24${extra:+, $extra}
	EOF
	start_conf "$ns" "$ifn" "$S/$ifn.conf"
}

# hub_peer FILE KEY ALLOWEDIPS [REACH]: appends a branch to a hub's file.
hub_peer() {
	{
		echo "[Peer]"
		echo "PublicKey = $(pub "$2")"
		echo "AllowedIPs = $3"
		[[ -z ${4:-} ]] || echo "Reach = $4"
	} >>"$1"
}

# Pipelines end in `grep PATTERN >/dev/null', not `grep -q': under pipefail a writer that
# grep -q left early dies of SIGPIPE and fails the test (seen with ip route and nft).
reach_table() { ip netns exec "$1" nft list table inet "wgd-reach-$2" 2>/dev/null; }
has_reach_table() { ip netns exec "$1" nft list tables | grep -x "table inet wgd-reach-$2" >/dev/null; }
# table_now NS IFNAME: the reach table as nft lists it, without the counters' values.
table_now() {
	reach_table "$1" "$2" | sed -E -e '/^\t\tpackets [0-9]+ bytes [0-9]+$/d' \
		-e 's/counter packets [0-9]+ bytes [0-9]+ /counter /'
}

# table_want IFNAME REACH...: the listing wgd must have made for peers 0.. whose
# AllowedIPs are 10.1.0.0/24, 10.2.0.0/24, ... and whose Reach is each REACH (nft's
# element text, "" for none), under Isolate = true.
table_want() {
	local ifn=$1 i r keys=("$(pub ba)" "$(pub bb)" "$(pub bc)")
	shift
	printf 'table inet wgd-reach-%s {\n' "$ifn"
	for ((i = 0; i < $#; i++)); do
		printf '\tcounter refused-%d {\n\t\tcomment "%s"\n\t}\n\n' "$i" "${keys[i]}"
	done
	i=0
	for r; do
		[[ -z $r ]] || printf '\tset reach-%d-v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { %s }\n\t}\n\n' "$i" "$r"
		((++i))
	done
	i=0
	for r; do
		printf '\tchain peer-%d {\n' "$i"
		[[ -z $r ]] || printf '\t\tip daddr @reach-%d-v4 accept\n' "$i"
		printf '\t\tcounter name "refused-%d" drop\n\t}\n\n' "$i"
		((++i))
	done
	printf '\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n'
	printf '\t\tiifname != "%s" accept\n\t\tct state established,related accept\n' "$ifn"
	for ((i = 0; i < $#; i++)); do
		printf '\t\tip saddr 10.%d.0.0/24 jump peer-%d\n' $((i + 1)) "$i"
	done
	printf '\t\tcounter drop\n\t}\n}\n'
}

# table_is NS IFNAME REACH...: the listing is exactly table_want's.
table_is() {
	local ns=$1
	shift
	[[ $(table_now "$ns" "$1") == "$(table_want "$@")" ]] || {
		diff <(table_want "$@") <(table_now "$ns" "$1") >&2
		return 1
	}
}

tunnel_ping() { ip netns exec "$1" timeout 4 ping -q -c 1 -W 2 -I "$2" "$3" >/dev/null; }
handshakes() { wg show "$1" latest-handshakes | sort; }

# --- scenarios -------------------------------------------------------------------

# Two customers on one hub address with the same prefixes: each branch gets its
# own tenant's server; the sockets stay public, the routes stay in the tenants.
t_netns() {
	local got
	topo_up
	tenants_up
	for k in h1 h2 b1 b2; do key_new "$k"; done
	hub_conf "$S/hub1.conf" h1 "$PORT_A" "$t1"
	hub_peer "$S/hub1.conf" b1 10.1.0.0/24
	hub_conf "$S/hub2.conf" h2 "$PORT_B" - # customer 2 through wgd --netns
	hub_peer "$S/hub2.conf" b2 10.1.0.0/24
	start_conf "$ns0" "$IF_A" "$S/hub1.conf"
	start_conf "$ns0" "$IF_Q" "$S/hub2.conf" --netns "$t2"
	# the servers bind the hub's tunnel address, which exists once wgd is up
	serve "$t1" tenant-1
	serve "$t2" tenant-2
	branch_up "$ns1" "$IF_B" b1 h1 "$PORT_A" 10.1.0.1
	branch_up "$ns2" "$IF_C" b2 h2 "$PORT_B" 10.1.0.1
	got=$(wait_for 10 ask "$ns1" >/dev/null; ask "$ns1") || fail "customer 1's branch gets no answer"
	expect_eq "customer 1's server" "$got" tenant-1
	got=$(ask "$ns2") || fail "customer 2's branch gets no answer"
	expect_eq "customer 2's server" "$got" tenant-2
	ip -n "$t1" link show dev "$IF_A" >/dev/null || fail "$IF_A is not in $t1"
	ip -n "$ns0" link show dev "$IF_A" >/dev/null 2>&1 && fail "$IF_A is still in the hub's namespace"
	udp_bound "$ns0" "$PORT_A" || fail "no UDP socket on $PORT_A in the public namespace"
	udp_bound "$ns0" "$PORT_B" || fail "no UDP socket on $PORT_B in the public namespace"
	[[ -z $(ip netns exec "$t1" ss -Hua) ]] || fail "a UDP socket in $t1: $(ip netns exec "$t1" ss -Hua)"
	[[ -z $(ip netns exec "$t2" ss -Hua) ]] || fail "a UDP socket in $t2"
	! ip -n "$ns0" route show table all | grep -E '^(10\.1\.|10\.9\.)' >/dev/null ||
		fail "the public namespace routes a tenant prefix: $(ip -n "$ns0" route show table all | grep -E '^10\.')"
	ip -n "$t1" route show | grep "^10.1.0.0/24 dev $IF_A" >/dev/null || fail "no route to the branch in $t1"
	"$WGCTL" show "$IF_A" | grep "$(pub b1)" >/dev/null || fail "wgctl show $IF_A does not find the daemon"
	# a link bounce in the tenant's namespace: the routes come back there
	ip -n "$t1" link set "$IF_A" down
	ip -n "$t1" link set "$IF_A" up
	wait_for 5 bash -c "ip -n $t1 route show | grep '^10.1.0.0/24 dev $IF_A' >/dev/null" ||
		fail "the route did not come back after a link bounce"
	got=$(wait_for 10 ask "$ns1" >/dev/null; ask "$ns1") || fail "no answer after the link bounce"
	expect_eq "customer 1's server after a bounce" "$got" tenant-1
	"$WGCTL" reload "$IF_A" >/dev/null || fail "wgctl reload $IF_A"
	"$WGCTL" down "$IF_A" || fail "wgctl down $IF_A"
	ip -n "$t1" link show dev "$IF_A" >/dev/null 2>&1 && fail "$IF_A outlived wgctl down"
	got=$(ask "$ns2") || fail "customer 2 lost its service when customer 1 went down"
	expect_eq "customer 2's server" "$got" tenant-2
}

# VRF=: only where the kernel has VRFs (CONFIG_NET_VRF).
t_vrf() {
	local probe=wgdt$RUNID-vrfprobe
	ip netns add "$probe"
	if ! ip -n "$probe" link add vrf-t type vrf table 10 2>/dev/null; then
		ip netns del "$probe"
		skip "this kernel has no VRF support (CONFIG_NET_VRF): VRF= is unit-tested only"
	fi
	ip netns del "$probe"
	topo_up
	tenants_up
	for k in h1 b1; do key_new "$k"; done
	ip -n "$t1" link add vrf-blue type vrf table 1001
	ip -n "$t1" link set vrf-blue up
	hub_conf "$S/hub1.conf" h1 "$PORT_A" "$t1" "VRF = vrf-blue"
	hub_peer "$S/hub1.conf" b1 10.1.0.0/24
	start_conf "$ns0" "$IF_A" "$S/hub1.conf"
	ip -n "$t1" link show dev "$IF_A" | grep "master vrf-blue" >/dev/null || fail "$IF_A not enslaved"
	ip -n "$t1" route show table 1001 | grep "^10.1.0.0/24 dev $IF_A" >/dev/null ||
		fail "no route in the VRF's table"
	ip -n "$t1" route show | grep "^10.1.0.0/24" >/dev/null && fail "the route is in main too"
	branch_up "$ns1" "$IF_B" b1 h1 "$PORT_A" 10.1.0.1
	wait_for 10 tunnel_ping "$ns1" 10.1.0.1 "$SERVER" || fail "no ping through the VRF"
}

# Isolate and Reach: A cannot reach B until its Reach lists B's LAN; a reload
# opens it without new handshakes; the table follows peers; down removes it.
t_isolate_reach() {
	local hs other
	topo_up
	tenants_up
	for k in h1 ba bb bc; do key_new "$k"; done
	hub_conf "$S/hub.conf" h1 "$PORT_A" "$t1" "Isolate = true"
	hub_peer "$S/hub.conf" ba 10.1.0.0/24 10.9.0.0/24
	hub_peer "$S/hub.conf" bb 10.2.0.0/24 10.9.0.0/24
	ip netns exec "$t1" nft -f - <<-EOF
		table inet bystander {
			chain c {
				type filter hook forward priority 10; policy accept;
				counter accept
			}
		}
	EOF
	other=$(ip netns exec "$t1" nft list table inet bystander | grep -v packets)
	start_conf "$ns0" "$IF_A" "$S/hub.conf"
	branch_up "$ns1" "$IF_B" ba h1 "$PORT_A" 10.1.0.1 10.2.0.0/24
	branch_up "$ns2" "$IF_C" bb h1 "$PORT_A" 10.2.0.1 10.1.0.0/24
	table_is "$t1" "$IF_A" 10.9.0.0/24 10.9.0.0/24 || fail "the table after start is not the file's"
	wait_for 10 tunnel_ping "$ns1" 10.1.0.1 "$SERVER" || fail "A cannot ping the hub"
	wait_for 10 tunnel_ping "$ns2" 10.2.0.1 "$SERVER" || fail "B cannot ping the hub"
	# three tries: the count must not hang on one packet lost on the way
	ip netns exec "$ns1" timeout 5 ping -q -c 3 -i 0.2 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null &&
		fail "A reaches B although Isolate = true"
	reach_table "$t1" "$IF_A" >&2 # the counters, in the log
	wg show "$IF_A" >&2
	grep -q "counter name \"refused-0\" drop" <(reach_table "$t1" "$IF_A") || fail "A's refusal rule is gone"
	ip netns exec "$t1" nft list counter inet "wgd-reach-$IF_A" refused-0 | grep "packets [1-9]" >/dev/null ||
		fail "A's refused packets were not counted"
	"$WGCTL" metrics "$IF_A" | grep "wgd_peer_refused_packets_total" >"$S/metrics" || true
	grep -q "public_key=\"$(pub ba)\"} [1-9]" "$S/metrics" ||
		fail "wgctl metrics lacks A's refused packets: $(cat "$S/metrics")"
	"$WGCTL" show "$IF_A" | grep "reach: 10.9.0.0/24" >/dev/null || fail "wgctl show lacks the reach"
	hs=$(handshakes "$IF_A")
	# A may now reach B's LAN
	hub_conf "$S/hub.conf" h1 "$PORT_A" "$t1" "Isolate = true"
	hub_peer "$S/hub.conf" ba 10.1.0.0/24 "10.9.0.0/24, 10.2.0.0/24"
	hub_peer "$S/hub.conf" bb 10.2.0.0/24 10.9.0.0/24
	"$WGCTL" reload "$IF_A" >/dev/null || fail "wgctl reload $IF_A"
	table_is "$t1" "$IF_A" "10.2.0.0/24, 10.9.0.0/24" 10.9.0.0/24 ||
		fail "the table after the reload is not the file's"
	wait_for 5 tunnel_ping "$ns1" 10.1.0.1 10.2.0.1 || fail "A cannot reach B after the reload"
	tunnel_ping "$ns2" 10.2.0.1 10.1.0.1 && fail "B reaches A although only A's Reach lists B"
	expect_eq "handshake times after the reload" "$(handshakes "$IF_A")" "$hs"
	# a peer added and removed at run time: its prefix is isolated, then forgotten
	wg set "$IF_A" peer "$(pub bc)" allowed-ips 10.3.0.0/24
	wait_for 5 table_is "$t1" "$IF_A" "10.2.0.0/24, 10.9.0.0/24" 10.9.0.0/24 "" ||
		fail "the table after a peer was added is not the running peers'"
	wg set "$IF_A" peer "$(pub bc)" remove
	wait_for 5 table_is "$t1" "$IF_A" "10.2.0.0/24, 10.9.0.0/24" 10.9.0.0/24 ||
		fail "the table after a peer was removed is not the running peers'"
	"$WGCTL" down "$IF_A" || fail "wgctl down $IF_A"
	has_reach_table "$t1" "$IF_A" && fail "the reach table outlived wgctl down"
	expect_eq "the bystander table" "$(ip netns exec "$t1" nft list table inet bystander | grep -v packets)" "$other"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	[[ -x /usr/bin/python3 ]] || { echo "/usr/bin/python3 missing (the tenants' servers)"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set TENANTS_TESTS wgd-tenants "$2" ;;
*) runner_main TENANTS_TESTS "$@" ;;
esac
