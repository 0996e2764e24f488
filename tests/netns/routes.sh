#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Routes follow the running peers (wgd -c, Table=auto): whichever client
# changes the peers (wgctl peer add/remove, stock wg set), their AllowedIPs
# routes appear and go at once; after `ip link set IF down; up` the routes
# and addresses come back by themselves; a route deleted by hand comes back
# on SIGHUP; an administrator's own routes on the interface, even one
# "proto static" or one that an AllowedIPs shadows, are never removed.
# The kernel's routing table is the referee (`ip route show`), polled with
# a bound.  Same topology and helpers as lifecycle.sh (lib.sh); only ns1's
# interface is used:
#
#  ns1: wa<id> (wgd -c)  --veth--  ns0 (router)  --veth--  ns2
#
# Usage:
#   routes.sh --check            0 if this host can run it, else 77 and a reason
#   routes.sh --list             scenario names (after NETNS_ONLY)
#   routes.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL=PATH (default ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
WGCTL=${WGCTL:-$repo/ctl/wgctl}

# shellcheck disable=SC2034 # read through a nameref
ROUTES_TESTS=(
	"routes-wgctl-peer 60 t_wgctl_peer"
	"routes-wg-set 60 t_wg_set"
	"routes-link-bounce 60 t_link_bounce"
	"routes-sighup-restores 60 t_sighup_restores"
)

CONF_NET4=198.18.96.0/24  # the config file's peer
CONF_NET6=2001:db8:96::/48
NEW_NET4=198.18.97.0/24   # added and removed while running
NEW_NET6=2001:db8:97::/48
SHADOW_NET=198.18.95.0/24 # an admin's route first, then an AllowedIPs too
ADMIN_NET=198.18.99.0/24  # an admin's route on the tunnel
ADMIN_STATIC=198.18.98.0/24

# --- helpers -------------------------------------------------------------------

# has_route PREFIX: ns1's kernel routes PREFIX through the tunnel (main table).
has_route() {
	local fam=-4
	[[ $1 == *:* ]] && fam=-6
	[[ -n $(ip1 "$fam" route show table main exact "$1" dev "$IF_A") ]]
}
no_route() { ! has_route "$1"; }

expect_routes() { # PREFIX...: each appears (bounded wait)
	local p
	for p; do wait_for 5 has_route "$p" || fail "no route for $p: $(ip1 route show dev "$IF_A")"; done
}
expect_no_routes() { # PREFIX...: each goes (bounded wait)
	local p
	for p; do wait_for 5 no_route "$p" || fail "route for $p still there"; done
}

has_addr() { shows "$1" ip1 addr show dev "$IF_A"; }

# up_conf: $S/etc/IF.conf (A with one peer "b" routing CONF_NET4/6), then
# `wgd -c` on it, and two admin routes on the tunnel.
up_conf() {
	local etc=$S/etc
	topo_up
	key_new a
	key_new b
	key_new c
	mkdir -p "$etc"
	CONF=$etc/$IF_A.conf
	cat >"$CONF" <<-EOT
		[Interface]
		PrivateKey = $(cat "$S/a.key")
		ListenPort = $PORT_A
		Address = $INNER_A4/24, $INNER_A6/64

		[Peer]
		PublicKey = $(pub b)
		AllowedIPs = $CONF_NET4, $CONF_NET6
	EOT
	timeout -k 2 15 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$CONF" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c $CONF $IF_A: launcher exited with $?"
	expect_routes "$CONF_NET4" "$CONF_NET6"
	ip1 route add "$ADMIN_NET" dev "$IF_A"
	ip1 route add "$ADMIN_STATIC" dev "$IF_A" proto static
}

admin_routes_kept() {
	has_route "$ADMIN_NET" || fail "the admin's route $ADMIN_NET was removed"
	has_route "$ADMIN_STATIC" || fail "the admin's proto static route $ADMIN_STATIC was removed"
}

ctl() { n1 env WGCTL_CONF_DIR="$S/etc" "$WGCTL" "$@"; }

# supervisor: the pid of wgd's supervisor (the worker's parent).
supervisor() {
	local w
	w=$(daemon_pid "$ns1" "$IF_A")
	[[ -n $w ]] || fail "no process serves $(sock_path "$IF_A")"
	awk '$1 == "PPid:" { print $2 }' "/proc/$w/status"
}

# --- scenarios -----------------------------------------------------------------

# wgctl peer add/remove --save: the new peer's routes come and go with it; a
# prefix an admin had routed already stays the admin's after the remove.
t_wgctl_peer() {
	up_conf
	ip1 route add "$SHADOW_NET" dev "$IF_A" proto static
	ctl peer add "$IF_A" "$(pub c)" allowed-ips "$NEW_NET4,$NEW_NET6,$SHADOW_NET" --save ||
		fail "wgctl peer add exited with $?"
	expect_routes "$NEW_NET4" "$NEW_NET6"
	shows "$NEW_NET4" cat "$CONF" || fail "--save did not write the peer"
	ctl peer remove "$IF_A" "$(pub c)" --save || fail "wgctl peer remove exited with $?"
	expect_no_routes "$NEW_NET4" "$NEW_NET6"
	has_route "$SHADOW_NET" || fail "the admin's route $SHADOW_NET went with the peer"
	expect_routes "$CONF_NET4" "$CONF_NET6"
	admin_routes_kept
}

# Stock wg(8): a new peer, a changed allowed-ips list, a removed peer.
t_wg_set() {
	up_conf
	wg set "$IF_A" peer "$(pub c)" allowed-ips "$NEW_NET4" || fail "wg set exited with $?"
	expect_routes "$NEW_NET4"
	wg set "$IF_A" peer "$(pub c)" allowed-ips "$NEW_NET6" || fail "wg set exited with $?"
	expect_routes "$NEW_NET6"
	expect_no_routes "$NEW_NET4"
	# a /0 at run time without the file's policy table: no default route in main
	# (the tunnel's own packets would follow it); NEW_NET4 shows the sync happened.
	# ns1's own default route goes first: the kernel would refuse a second one.
	ip1 -4 route flush exact 0.0.0.0/0
	wg set "$IF_A" peer "$(pub c)" allowed-ips "0.0.0.0/0,$NEW_NET4" || fail "wg set exited with $?"
	expect_routes "$NEW_NET4"
	expect_no_routes "$NEW_NET6"
	no_route 0.0.0.0/0 || fail "a run-time 0.0.0.0/0 became a default route in main"
	wg set "$IF_A" peer "$(pub c)" remove || fail "wg set ... remove exited with $?"
	expect_no_routes "$NEW_NET4"
	# the config's own peer is followed too
	wg set "$IF_A" peer "$(pub b)" remove || fail "wg set ... remove exited with $?"
	expect_no_routes "$CONF_NET4" "$CONF_NET6"
	admin_routes_kept
}

# A link bounce takes the routes and the IPv6 address with it; wgd puts them
# back by itself, including a peer added while the link was down.
t_link_bounce() {
	up_conf
	ip1 link set "$IF_A" down
	expect_no_routes "$CONF_NET4"
	wg set "$IF_A" peer "$(pub c)" allowed-ips "$NEW_NET4" || fail "wg set exited with $?"
	ip1 link set "$IF_A" up
	expect_routes "$CONF_NET4" "$CONF_NET6" "$NEW_NET4"
	wait_for 5 has_addr "inet6 $INNER_A6/64" || fail "no $INNER_A6/64 after the bounce"
	has_addr "inet $INNER_A4/24" || fail "no $INNER_A4/24 after the bounce"
	# the kernel flushed the admin's routes with the link: they are not ours to restore
	no_route "$ADMIN_NET" || fail "wgd restored the admin's $ADMIN_NET"
	# a second bounce works as the first
	ip1 link set "$IF_A" down
	ip1 link set "$IF_A" up
	expect_routes "$CONF_NET4" "$CONF_NET6" "$NEW_NET4"
	# after which the peers are followed as before, around an admin's route
	ip1 route add "$ADMIN_NET" dev "$IF_A"
	wg set "$IF_A" peer "$(pub c)" remove
	expect_no_routes "$NEW_NET4"
	has_route "$ADMIN_NET" || fail "the admin's route $ADMIN_NET was removed"
}

# A route deleted by hand comes back on SIGHUP (the reload compares with the
# kernel, as wgd(8) promises), and the reload leaves the admin's routes be.
t_sighup_restores() {
	local s
	up_conf
	s=$(supervisor)
	ip1 route del "$CONF_NET4" dev "$IF_A"
	ip1 -6 route del "$CONF_NET6" dev "$IF_A"
	no_route "$CONF_NET4" || fail "could not delete $CONF_NET4"
	kill -HUP "$s"
	expect_routes "$CONF_NET4" "$CONF_NET6"
	admin_routes_kept
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set ROUTES_TESTS wgd-routes "$2" ;;
*) runner_main ROUTES_TESTS "$@" ;;
esac
