#!/bin/bash
# SPDX-License-Identifier: MIT
# Gateway redundancy for a branch (docs/examples/ha/README.md), in network namespaces:
#
#   branch 10.2.0.1/24 (LAN)                                   dc 10.1.0.1/24 (LAN)
#     eth0 198.51.100.2 -- inet -- 192.0.2.0/24 -- gw1 .11 -- 172.16.0.11 --.
#       tunnel b1 100.64.1.2 <===> gw1 100.64.1.1              172.16.0.0/24 -- dc .1
#       tunnel b2 100.64.2.2 <===> gw2 100.64.2.1    gw2 .12 -- 172.16.0.12 --'
#
#   bfd:  BIRD 2 on branch, gw1, gw2 and dc: BGP over each tunnel with BFD (3 x 100 ms).
#   vrrp: keepalived moves 192.0.2.10 (and 172.16.0.10) between gw1 and gw2, which run
#         the same wgd.conf and key; the branch has one tunnel, to 192.0.2.10.
#
# A ping every 10 ms from the branch LAN to the DC LAN runs while gateway 1 fails and
# comes back; the demo prints the longest gap in its replies. It exits 1 if the routes
# do not move as designed (a test: tests/netns/ha.sh).
#
# Usage: demo-ha.sh [bfd | vrrp | all]   (default: $HA_MODE, else all; as root)
# Environment: WGD, WGCTL (the binaries), HA_TAG (prefix of namespace and interface
# names, default "ha"), HA_CASES (bfd cases: "kill link", the default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
WGD=${WGD:-$top/wgd/wgd}
WGCTL=${WGCTL:-$top/ctl/wgctl}
MODE=${1:-${HA_MODE:-all}}
TAG=${HA_TAG:-ha}
CASES=${HA_CASES:-kill link}
INET=$TAG-inet DC=$TAG-dc GW1=$TAG-gw1 GW2=$TAG-gw2 BR=$TAG-branch
NSES="$INET $DC $GW1 $GW2 $BR"
# wgd's interface names (also its UAPI socket names, host-wide): gw1, gw2, branch to each.
IF_G1=${TAG}g1 IF_G2=${TAG}g2 IF_B1=${TAG}b1 IF_B2=${TAG}b2
DC_HOST=10.1.0.1 BR_HOST=10.2.0.1
FAILED=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { echo "ha: $*"; }
bad() {
	echo "ha: FAIL: $*" >&2
	FAILED=1
}
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s; 1 once SECONDS have passed.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

# --- topology ------------------------------------------------------------------------

ns_add() {
	ip netns add "$1"
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
}

# veth NS1 IF1 NS2 IF2: a cable.
veth() {
	ip -n "$1" link add name "$2" type veth peer name "$4" netns "$3"
	in_ns "$1" ip link set dev "$2" up
	in_ns "$3" ip link set dev "$4" up
}

# bridge NS NAME ADDR: a switch with the router's address on it.
bridge() {
	in_ns "$1" ip link add name "$2" type bridge
	in_ns "$1" ip addr add "$3" dev "$2"
	in_ns "$1" ip link set dev "$2" up
}

topo_up() {
	local ns
	for ns in $NSES; do ns_add "$ns"; done
	# The internet: the gateways' public segment and the branch's ISP link.
	bridge "$INET" pub 192.0.2.1/24
	veth "$INET" g1 "$GW1" eth0
	veth "$INET" g2 "$GW2" eth0
	in_ns "$INET" ip link set g1 master pub
	in_ns "$INET" ip link set g2 master pub
	veth "$INET" isp "$BR" eth0
	in_ns "$INET" ip addr add 198.51.100.1/24 dev isp
	# The DC LAN between the gateways and the DC router.
	bridge "$DC" dclan 172.16.0.1/24
	veth "$DC" d1 "$GW1" dc0
	veth "$DC" d2 "$GW2" dc0
	in_ns "$DC" ip link set d1 master dclan
	in_ns "$DC" ip link set d2 master dclan
	in_ns "$DC" ip link add name lan0 type veth peer name lan0host
	in_ns "$DC" ip addr add "$DC_HOST/24" dev lan0
	in_ns "$DC" ip link set lan0 up
	in_ns "$DC" ip link set lan0host up
	# The gateways and the branch.
	in_ns "$GW1" ip addr add 192.0.2.11/24 dev eth0
	in_ns "$GW1" ip addr add 172.16.0.11/24 dev dc0
	in_ns "$GW2" ip addr add 192.0.2.12/24 dev eth0
	in_ns "$GW2" ip addr add 172.16.0.12/24 dev dc0
	in_ns "$GW1" ip route add default via 192.0.2.1
	in_ns "$GW2" ip route add default via 192.0.2.1
	in_ns "$BR" ip addr add 198.51.100.2/24 dev eth0
	in_ns "$BR" ip route add default via 198.51.100.1
	in_ns "$BR" ip link add name lan0 type veth peer name lan0host
	in_ns "$BR" ip addr add "$BR_HOST/24" dev lan0
	in_ns "$BR" ip link set lan0 up
	in_ns "$BR" ip link set lan0host up
}

topo_down() {
	local ns pids
	for ns in $NSES; do
		[[ -e /var/run/netns/$ns ]] || continue
		mapfile -t pids < <(ip netns pids "$ns")
		((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
	done
	sleep 0.2
	for ns in $NSES; do
		[[ ! -e /var/run/netns/$ns ]] || ip netns del "$ns"
	done
	for ns in $IF_G1 $IF_G2 $IF_B1 $IF_B2; do rm -f "/var/run/wireguard/$ns.sock"; done
}

# --- wgd -------------------------------------------------------------------------------

# fill TEMPLATE OUT NAME=VALUE...: TEMPLATE with each @NAME@ replaced.
fill() {
	local in=$here/$1 out=$2 kv
	shift 2
	local args=()
	for kv; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${args[@]}" "$in" >"$out"
}

key() { # NAME: $work/NAME.key and .pub
	"$WGCTL" genkey >"$work/$1.key"
	"$WGCTL" pubkey <"$work/$1.key" >"$work/$1.pub"
}
pub() { cat "$work/$1.pub"; }

wgd_start() { # NS IF
	in_ns "$1" env LOG_LEVEL=error "$WGD" -c "$work/$2.conf" "$2" \
		</dev/null >>"$work/wgd-$2.log" 2>&1 || {
		bad "wgd -c $work/$2.conf $2 failed: $(tail -n 3 "$work/wgd-$2.log")"
		exit 1
	}
}

# wgd_kill NS IF: SIGKILL the daemon's processes (a crash: nothing is cleaned up but
# what the kernel does, the TUN going with its last descriptor).
wgd_kill() {
	local out w s
	out=$(in_ns "$1" ss -Hxlpn src "/var/run/wireguard/$2.sock")
	[[ $out =~ pid=([0-9]+) ]] || { bad "no wgd serves $2"; return 1; }
	w=${BASH_REMATCH[1]}
	s=$(awk '$1 == "PPid:" { print $2 }' "/proc/$w/status")
	kill -KILL "$w" "$s"
	wait_for 5 link_gone "$1" "$2" || bad "$2 still exists after its wgd was killed"
	rm -f "/var/run/wireguard/$2.sock"
}
link_gone() { ! ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# --- measuring -------------------------------------------------------------------------

ping_start() {
	# exec: $! is ping itself (ip netns exec execs it), which prints on SIGINT.
	(exec ip netns exec "$BR" ping -n -D -i 0.01 -W 1 -I "$BR_HOST" "$DC_HOST" \
		>"$work/ping" 2>&1) &
	ping_pid=$!
	sleep 1
}

# ping_stop WHAT: stop the ping, print its longest silence and the replies missing.
ping_stop() {
	kill -INT "$ping_pid"
	wait "$ping_pid" || true
	ping_pid=
	awk -v what="$1" '
		/icmp_seq=/ {
			t = substr($1, 2, length($1) - 2) + 0
			split($0, a, "icmp_seq="); split(a[2], b, " "); seq = b[1] + 0
			if (n && t - last > gap) gap = t - last
			if (seq > top) top = seq
			last = t; n++
		}
		END {
			lost = top - n
			printf "ha: %s: longest gap %.2f s, %d of %d pings lost\n", what, gap, lost, top
		}' "$work/ping" | tee -a "$work/figures"
}

# --- BGP + BFD -------------------------------------------------------------------------

bird_start() { # NS NAME CONF
	bird -p -c "$3" || { bad "$3: BIRD rejects it"; exit 1; }
	in_ns "$1" bird -f -c "$3" -s "$work/$2.ctl" -P "$work/$2.pid" \
		</dev/null >>"$work/bird-$2.log" 2>&1 &
	wait_for 5 test -S "$work/$2.ctl" || { bad "bird in $1 did not start"; exit 1; }
}
birdc() { command birdc -s "$work/$1.ctl" "${@:2}"; }

# session NAME PROTO: "STATE SINCE" of a BGP session as BIRD reports it.
session() {
	birdc "$1" show protocols "$2" | awk -v p="$2" '$1 == p { print $6, $4, $5 }'
}
established() { [[ $(session "$1" "$2") == Established* ]]; }

# via DEV: the branch sends to the DC LAN through DEV; dc_via ADDR: the DC answers via ADDR.
via() { [[ $(ip -n "$BR" route get "$DC_HOST" from "$BR_HOST" 2>/dev/null) == *" dev $1 "* ]]; }
dc_via() { [[ $(ip -n "$DC" route get "$BR_HOST" 2>/dev/null) == *" via $1 "* ]]; }

bfd_up() {
	say "BGP + BFD: two gateways, each with its own key and address"
	topo_up
	key gw1
	key gw2
	key branch
	fill gw.conf "$work/$IF_G1.conf" KEY="$work/gw1.key" TUN_ADDR=100.64.1.1 \
		BRANCH_TUN_ADDR=100.64.1.2 BRANCH_PUBLIC_KEY="$(pub branch)" BRANCH_PORT=51821
	fill gw.conf "$work/$IF_G2.conf" KEY="$work/gw2.key" TUN_ADDR=100.64.2.1 \
		BRANCH_TUN_ADDR=100.64.2.2 BRANCH_PUBLIC_KEY="$(pub branch)" BRANCH_PORT=51822
	fill branch.conf "$work/$IF_B1.conf" KEY="$work/branch.key" TUN_ADDR=100.64.1.2 \
		PORT=51821 GW_PUBLIC_KEY="$(pub gw1)" GW_ADDR=192.0.2.11
	fill branch.conf "$work/$IF_B2.conf" KEY="$work/branch.key" TUN_ADDR=100.64.2.2 \
		PORT=51822 GW_PUBLIC_KEY="$(pub gw2)" GW_ADDR=192.0.2.12
	wgd_start "$GW1" "$IF_G1"
	wgd_start "$GW2" "$IF_G2"
	wgd_start "$BR" "$IF_B1"
	wgd_start "$BR" "$IF_B2"
	fill bird-dc.conf "$work/bird-dc.conf" LAN_IF=lan0
	fill bird-gw.conf "$work/bird-gw1.conf" ROUTER_ID=172.16.0.11 TUN="$IF_G1" \
		BRANCH_TUN_ADDR=100.64.1.2
	fill bird-gw.conf "$work/bird-gw2.conf" ROUTER_ID=172.16.0.12 TUN="$IF_G2" \
		BRANCH_TUN_ADDR=100.64.2.2
	fill bird-branch.conf "$work/bird-branch.conf" LAN_IF=lan0 TUN1="$IF_B1" TUN2="$IF_B2"
	bird_start "$DC" dc "$work/bird-dc.conf"
	bird_start "$GW1" gw1 "$work/bird-gw1.conf"
	bird_start "$GW2" gw2 "$work/bird-gw2.conf"
	bird_start "$BR" branch "$work/bird-branch.conf"
	if ! { wait_for 30 established branch gw1 && wait_for 10 established branch gw2 &&
		wait_for 10 established dc gw1 && wait_for 10 established dc gw2; }; then
		bad "BGP sessions did not come up"
		birdc branch show protocols all >&2
		exit 1
	fi
	if ! { wait_for 10 via "$IF_B1" && wait_for 10 dc_via 172.16.0.11; }; then
		bad "routes do not go through gw1 with both gateways up"
		exit 1
	fi
	# Table = off as wg-quick has it: wgd adds no route and no rule.
	[[ -z $(ip -n "$BR" route show table all proto static) ]] ||
		bad "Table = off: wgd added routes: $(ip -n "$BR" route show table all proto static)"
	[[ $(ip -n "$BR" rule | wc -l) == 3 ]] || bad "Table = off: wgd added rules: $(ip -n "$BR" rule)"
	echo "branch$ birdc show protocols"
	birdc branch show protocols | sed 's/^/  /'
	echo "branch$ ip route"
	ip -n "$BR" route | sed 's/^/  /'
}

# moved WHAT DEV DC_NEXT_HOP: both directions go through DEV / DC_NEXT_HOP now.
moved() {
	wait_for 10 via "$2" || bad "$1: the branch does not route via $2"
	wait_for 10 dc_via "$3" || bad "$1: the DC does not route via $3"
	wait_for 5 ping1 || bad "$1: no ping from the branch LAN to the DC LAN"
}

# steady SINCE_BR SINCE_DC: gw2's sessions stayed up throughout (no flap).
steady() {
	local br dc
	br=$(session branch gw2) dc=$(session dc gw2)
	[[ $br == "$1" ]] || bad "branch's session to gw2 flapped: was '$1', now '$br'"
	[[ $dc == "$2" ]] || bad "dc's session to gw2 flapped: was '$2', now '$dc'"
	[[ $br == Established* && $dc == Established* ]] || bad "gw2 sessions not established"
}

bfd_case() { # kill | link
	local since_br since_dc fail back
	since_br=$(session branch gw2) since_dc=$(session dc gw2)
	case $1 in
	kill)
		fail="gw1's wgd killed" back="gw1's wgd restarted"
		say "Killing gateway 1's wgd (SIGKILL) under a ping every 10 ms"
		ping_start
		wgd_kill "$GW1" "$IF_G1"
		;;
	link)
		fail="gw1's link cut" back="gw1's link restored"
		say "Cutting gateway 1's public link under a ping every 10 ms"
		ping_start
		in_ns "$INET" ip link set g1 down
		;;
	esac
	moved "$fail" "$IF_B2" 172.16.0.12
	sleep 1
	ping_stop "bfd: $fail"
	birdc branch show protocols | sed 's/^/  /'
	# wgd's view: the handshake with gw1 is recent, so "up" stays 1 for up to 180 s;
	# an alert, not a failover trigger: BFD has acted already.
	echo "branch$ wgctl metrics $IF_B1 | grep wgd_peer_up"
	in_ns "$BR" "$WGCTL" metrics "$IF_B1" | grep '^wgd_peer_up' | sed 's/^/  /'
	say "Bringing gateway 1 back"
	ping_start
	case $1 in
	kill) wgd_start "$GW1" "$IF_G1" ;;
	link) in_ns "$INET" ip link set g1 up ;;
	esac
	wait_for 30 established branch gw1 || bad "$back: gw1 session not re-established"
	moved "$back" "$IF_B1" 172.16.0.11
	sleep 1
	ping_stop "bfd: $back"
	steady "$since_br" "$since_dc"
	birdc branch show protocols | sed 's/^/  /'
}

# --- VRRP --------------------------------------------------------------------------------

keepalived_start() { # NS NAME PRIORITY IF
	fill keepalived.conf "$work/keepalived-$2.conf" NAME="$2" PRIORITY="$3" \
		WGCTL="$WGCTL" IF="$4"
	in_ns "$1" keepalived -n -l -G -P -f "$work/keepalived-$2.conf" -p "$work/ka-$2.pid" \
		-r "$work/ka-vrrp-$2.pid" </dev/null >>"$work/keepalived-$2.log" 2>&1 &
}
keepalived_kill() { # NAME
	local p
	for p in "$work/ka-vrrp-$1.pid" "$work/ka-$1.pid"; do
		[[ -s $p ]] && kill -KILL "$(cat "$p")" 2>/dev/null
		rm -f "$p"
	done
	return 0
}
holds_vip() { [[ $(ip -n "$1" -4 addr show dev eth0) == *" 192.0.2.10/"* ]]; }
dc_vip_in() { [[ $(ip -n "$1" -4 addr show dev dc0) == *" 172.16.0.10/"* ]]; }
ping1() { in_ns "$BR" ping -q -c 1 -W 1 -I "$BR_HOST" "$DC_HOST" >/dev/null 2>&1; }

vrrp_up() {
	say "VRRP: two gateways with the same key and wgd.conf, one shared address"
	topo_up
	key gw
	key branch
	fill vrrp-gw.conf "$work/$IF_G1.conf" KEY="$work/gw.key" BRANCH_PUBLIC_KEY="$(pub branch)"
	fill vrrp-gw.conf "$work/$IF_G2.conf" KEY="$work/gw.key" BRANCH_PUBLIC_KEY="$(pub branch)"
	fill vrrp-branch.conf "$work/$IF_B1.conf" KEY="$work/branch.key" GW_PUBLIC_KEY="$(pub gw)"
	# Static routes: the DC router sends the branch's LAN to whichever gateway holds
	# 172.16.0.10; the gateways reach the DC LAN through the DC router.
	in_ns "$DC" ip route add 10.2.0.0/24 via 172.16.0.10
	in_ns "$GW1" ip route add 10.1.0.0/24 via 172.16.0.1
	in_ns "$GW2" ip route add 10.1.0.0/24 via 172.16.0.1
	if [[ -z ${HA_NO_SOURCE_RULE:-} ]]; then # set it to see the branch roam
		in_ns "$GW1" nft -f "$here/vrrp-source.nft"
		in_ns "$GW2" nft -f "$here/vrrp-source.nft"
	fi
	wgd_start "$GW1" "$IF_G1"
	wgd_start "$GW2" "$IF_G2"
	wgd_start "$BR" "$IF_B1"
	keepalived_start "$GW1" gw1 150 "$IF_G1"
	wait_for 10 holds_vip "$GW1" || { bad "gw1 did not take 192.0.2.10"; exit 1; }
	keepalived_start "$GW2" gw2 100 "$IF_G2"
	sleep 1
	if ! holds_vip "$GW1" || holds_vip "$GW2"; then
		bad "192.0.2.10 not on gw1 alone"
		exit 1
	fi
	wait_for 3 ping1 || { bad "no ping from the branch to the DC through gw1"; exit 1; }
	echo "gw1$ ip -4 addr show dev eth0"
	ip -n "$GW1" -4 addr show dev eth0 | sed 's/^/  /'
}

# handshook IF: the interface's only peer has a handshake.
handshook() { [[ $(wg show "$1" latest-handshakes | awk '{ print $2 }') != 0 ]]; }
on_vip() { [[ $(wg show "$IF_B1" endpoints | awk '{ print $2 }') == 192.0.2.10:51820 ]]; }
source_drops() { # NS: packets vrrp-source.nft dropped there
	in_ns "$1" nft list table inet wgd-vrrp 2>/dev/null |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# vrrp_stop: gw1's keepalived is stopped (maintenance) while its wgd runs on.
vrrp_stop() {
	local pid
	say "Gateway 1's keepalived stopped (maintenance; wgd runs on) under a ping every 10 ms"
	ping_start
	pid=$(cat "$work/ka-gw1.pid")
	kill -TERM "$pid" # releases the addresses, tells gw2 with a priority 0 advert
	wait_for 5 holds_vip "$GW2" || bad "gw2 did not take 192.0.2.10"
	# The branch keeps its session with gw1 until REKEY rules make it handshake
	# again: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s) after its data went unanswered.
	wait_for 30 ping1 || bad "no ping through gw2 30 s after gw1's keepalived stopped"
	sleep 1
	ping_stop "vrrp: gw1's keepalived stopped"
	handshook "$IF_G2" || bad "the branch never handshook with gw2"
	say "Gateway 1, without 192.0.2.10, sends to the branch through its old session"
	# As a keepalive or a handshake retry would: from 192.0.2.11, the sticky source
	# being gone. The branch would roam there but for vrrp-source.nft.
	in_ns "$GW1" ping -q -c 3 -i 0.2 -W 1 100.64.1.2 >/dev/null 2>&1 || true
	sleep 0.5
	note "vrrp: gw1 sent through its old session: vrrp-source.nft dropped $(source_drops "$GW1") packets"
	on_vip || bad "the branch roamed off 192.0.2.10: $(wg show "$IF_B1" endpoints)"
	ping1 || bad "no ping through gw2 after gw1 sent to the branch"
	wait_for 5 pid_gone "$pid" || bad "keepalived on gw1 did not stop"
	keepalived_start "$GW1" gw1 150 "$IF_G1"
	sleep 2
	if ! holds_vip "$GW2" || holds_vip "$GW1"; then bad "192.0.2.10 moved back to gw1"; fi
}
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# vrrp_crash N: gateway N, the master, dies (links cut, wgd and keepalived killed),
# the other takes over; N comes back with a fresh wgd and stays backup.
vrrp_crash() {
	local n=$1 o ns ons ifn
	o=$((3 - n))
	ns=$TAG-gw$n ons=$TAG-gw$o ifn=${TAG}g$n
	say "Gateway $n dies (links cut, wgd and keepalived killed) under a ping every 10 ms"
	ping_start
	in_ns "$INET" ip link set "g$n" down
	in_ns "$DC" ip link set "d$n" down
	keepalived_kill "gw$n"
	wgd_kill "$ns" "$ifn"
	wait_for 5 holds_vip "$ons" || bad "gw$o did not take 192.0.2.10"
	wait_for 5 dc_vip_in "$ons" || bad "gw$o did not take 172.16.0.10"
	wait_for 30 ping1 || bad "no ping through gw$o 30 s after gw$n died"
	sleep 1
	ping_stop "vrrp: gw$n died"
	handshook "${TAG}g$o" || bad "the branch never handshook with gw$o"
	say "Gateway $n comes back (fresh wgd, keepalived as backup: nopreempt)"
	ping_start
	in_ns "$ns" ip addr flush dev eth0 to 192.0.2.10/32 2>/dev/null || true
	in_ns "$ns" ip addr flush dev dc0 to 172.16.0.10/32 2>/dev/null || true
	in_ns "$INET" ip link set "g$n" up
	in_ns "$DC" ip link set "d$n" up
	wgd_start "$ns" "$ifn"
	keepalived_start "$ns" "gw$n" $((n == 1 ? 150 : 100)) "$ifn"
	sleep 3
	if ! holds_vip "$ons" || holds_vip "$ns"; then bad "192.0.2.10 moved back to gw$n"; fi
	ping_stop "vrrp: gw$n back"
	on_vip || bad "the branch roamed off 192.0.2.10: $(wg show "$IF_B1" endpoints)"
}

# --- main ------------------------------------------------------------------------------

if [[ $(id -u) != 0 ]]; then
	echo "demo-ha: must run as root (it creates network namespaces)" >&2
	exit 1
fi
case $MODE in bfd | vrrp | all) ;; *) sed -n '/^# Usage/,/^# HA_CASES/p' "$0" >&2; exit 2 ;; esac
for bin in "$WGD" "$WGCTL"; do
	[[ -x $bin ]] || { echo "demo-ha: $bin not built (run make)" >&2; exit 1; }
done
for bin in bird birdc keepalived nft wg; do
	command -v "$bin" >/dev/null || { echo "demo-ha: $bin missing (tests/deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/wgd-ha.XXXXXX)
umask 077
ping_pid=
cleanup() {
	set +e
	[[ $FAILED == 0 || -z ${HA_HOLD:-} ]] || sleep "$HA_HOLD" # to look around
	[[ -z $ping_pid ]] || kill "$ping_pid" 2>/dev/null
	topo_down
	if [[ $FAILED == 1 || -n ${HA_KEEP:-} ]]; then
		echo "ha: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
topo_down 2>/dev/null

if [[ $MODE == bfd || $MODE == all ]]; then
	bfd_up
	for c in $CASES; do bfd_case "$c"; done
	topo_down
fi
if [[ $MODE == vrrp || $MODE == all ]]; then
	vrrp_up
	vrrp_stop
	vrrp_crash 2
	topo_down
fi
say "Measured"
cat "$work/figures"
if [[ $FAILED == 1 ]]; then
	echo "demo-ha: FAILED" >&2
	exit 1
fi
echo "demo-ha: OK"
