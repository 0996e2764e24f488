#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The confined worker (issue 12, items 1 and 9): listen ports below 1024
# work (the kernel selftest's 1, 2 and 5 through `wg set`, 443 from a
# config file), each with a handshake and a ping to a peer that is wgd or
# wireguard-go; the running worker has its seccomp filter (Seccomp: 2) and
# only the capabilities its configuration needs (CAP_NET_ADMIN only with an
# fwmark, an fwmark set later refused with a clear line); without a user
# named, it runs as the dedicated system user `wgd` when that exists (here
# in a private mount namespace whose /etc/passwd has one), else as nobody
# with a line saying so.  Same topology and helpers as lifecycle.sh (lib.sh):
#
#  ns1: wa<id> (wgd)  --veth--  ns0 (router)  --veth--  ns2: wb<id> (wgd | wireguard-go)
#
# Usage:
#   confine.sh --check            0 if this host can run it, else 77 and a reason
#   confine.sh --list             scenario names (after NETNS_ONLY)
#   confine.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WIREGUARD_GO=PATH (default: wireguard-go from PATH).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
WIREGUARD_GO=${WIREGUARD_GO:-$(command -v wireguard-go)}

# shellcheck disable=SC2034 # read through a nameref
CONFINE_TESTS=(
	"low-ports-wgd 60 t_low_ports wgd"
	"low-ports-go 60 t_low_ports go"
	"low-port-conf 60 t_low_port_conf"
	"worker-seccomp-caps 60 t_seccomp_caps"
	"worker-dedicated-user 60 t_dedicated_user"
)

# CAP_NET_BIND_SERVICE (10), and CAP_NET_ADMIN (12) with it, in /proc/PID/status
CAPS_BIND=0000000000000400
CAPS_BIND_ADMIN=0000000000001400

# --- helpers -------------------------------------------------------------------

peer_cmd() { if [[ $1 == go ]]; then echo "$WIREGUARD_GO"; else echo "$WGD"; fi; }

# start_fg NS IFNAME FILE: `wgd -f -c FILE IFNAME` in the background, its log on
# $S/daemon-IFNAME.log whoever holds /dev/log, until the socket is there.
start_fg() {
	ip netns exec "$1" env LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGD" -f -c "$3" "$2" \
		</dev/null >>"$S/daemon-$2.log" 2>&1 &
	wait_for 10 sock_listening "$1" "$2" || fail "wgd -f -c $3 $2: no UAPI socket"
}
sock_listening() { [[ -n $(daemon_pid "$1" "$2") ]]; }

# stop_pair SUPERVISOR WORKER: SIGTERM, and both go.
stop_pair() {
	kill -TERM "$1"
	wait_for 5 all_gone "$1" "$2" || fail "daemon ($1, $2) still runs 5 s after SIGTERM"
}

# expect_confined WORKER CAPS: the worker's seccomp mode and capability sets.
expect_confined() {
	expect_eq "worker Seccomp" "$(status_field "$1" Seccomp)" 2
	expect_eq "worker CapEff" "$(status_field "$1" CapEff)" "$2"
	expect_eq "worker CapPrm" "$(status_field "$1" CapPrm)" "$2"
}

# b_peer_up PEER PORT_A PORT_B: B (PEER: wgd|go) in ns2 on PORT_B, A its peer at
# A's v4 address and PORT_A.
b_peer_up() {
	daemon_start "$ns2" "$IF_B" "$(peer_cmd "$1")"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$3" \
		peer "$(pub a)" allowed-ips "$INNER_A4/32,$INNER_A6/128" \
		endpoint "$(site_ep 1 4 "$2")" || fail "wg set $IF_B listen-port $3 failed"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$3"
}

# --- scenarios -----------------------------------------------------------------

# The kernel selftest's ports: A (wgd) on 1, B on 2, a ping each way; then A
# moves to 5 while up (a UAPI set in the confined worker) and B follows it.
t_low_ports() {
	local w
	topo_up
	key_new a
	key_new b
	daemon_start "$ns1" "$IF_A" "$WGD"
	wg set "$IF_A" private-key "$S/a.key" listen-port 1 \
		peer "$(pub b)" allowed-ips "$INNER_B4/32,$INNER_B6/128" \
		endpoint "$(site_ep 2 4 2)" || fail "wg set $IF_A listen-port 1 failed"
	inner_up "$ns1" "$IF_A" "$INNER_A4" "$INNER_A6" 1
	b_peer_up "$1" 1 2
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping from A (port 1) to B (port 2)"
	ping1 "$ns2" "$INNER_A6" >/dev/null || fail "no ping from B (port 2) to A (port 1)"
	wg set "$IF_A" listen-port 5 || fail "wg set $IF_A listen-port 5 failed while up"
	wait_for 5 udp_bound "$ns1" 5 || fail "$IF_A: UDP port 5 not bound"
	expect_eq "A's listen port" "$(wg show "$IF_A" listen-port)" 5
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping from A on port 5"
	expect_eq "B's endpoint for A" "$(peer_field "$IF_B" endpoints "$(pub a)")" \
		"$(site_ep 1 4 5)"
	w=$(worker_pid "$ns1" "$IF_A")
	expect_confined "$w" "$CAPS_BIND_ADMIN"
}

# ListenPort = 443 from a file (wgd -c), wireguard-go as the peer on 53.
t_low_port_conf() {
	local w s
	topo_up
	key_new a
	key_new b
	conf_a "$S/a.conf" "Address = $INNER_A4/24"
	sed -i "s/^ListenPort = .*/ListenPort = 443/" "$S/a.conf"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
		"$(pub b)" "$INNER_B4" "$(site_ep 2 4 53)" >>"$S/a.conf"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	wait_for 5 udp_bound "$ns1" 443 || fail "$IF_A: UDP port 443 not bound"
	b_peer_up go 443 53
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping from A (port 443) to B (port 53)"
	[[ $(peer_field "$IF_A" latest-handshakes "$(pub b)") != 0 ]] || fail "no handshake"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_confined "$w" "$CAPS_BIND"
	stop_pair "$s" "$w"
}

# The filter is on in every mode; CAP_NET_ADMIN only with an fwmark at start
# or without -c (wg-quick sets one later); a later fwmark is refused, with a
# line, and the worker lives on.
t_seccomp_caps() {
	local w s
	topo_up
	key_new a
	conf_a "$S/a.conf"
	start_fg "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_confined "$w" "$CAPS_BIND"
	! wg set "$IF_A" fwmark 0x1234 2>"$S/wg.err" || fail "an fwmark was set without CAP_NET_ADMIN"
	wait_for 5 shows "Cannot set fwmark: the worker dropped CAP_NET_ADMIN" \
		cat "$S/daemon-$IF_A.log" ||
		fail "no line says why the fwmark was refused"
	expect_eq "fwmark after the refusal" "$(wg show "$IF_A" fwmark)" off
	kill -0 "$w" || fail "the worker died"
	wg set "$IF_A" listen-port 0 || fail "the worker no longer takes a set"
	stop_pair "$s" "$w"
	conf_a "$S/a.conf" "FwMark = 0x1234"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_confined "$w" "$CAPS_BIND_ADMIN"
	wg set "$IF_A" fwmark 0x4321 || fail "wg set fwmark failed with FwMark in the file"
	expect_eq "fwmark" "$(wg show "$IF_A" fwmark)" 0x4321
	stop_pair "$s" "$w"
	daemon_start "$ns1" "$IF_A" "$WGD"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_confined "$w" "$CAPS_BIND_ADMIN"
	stop_pair "$s" "$w"
}

# uid of the test's `wgd` user: one that no account of this host has.
free_uid() {
	local u=64990
	while getent passwd "$u" >/dev/null; do u=$((u - 1)); done
	echo "$u"
}

# Without --user or User=: the system user `wgd` (seen through a private mount
# namespace's /etc/passwd, so the host is not touched), else nobody and a line.
t_dedicated_user() {
	local w s uid
	topo_up
	key_new a
	conf_a "$S/a.conf"
	uid=$(free_uid)
	{ grep -v '^wgd:' /etc/passwd; echo "wgd:x:$uid:$uid:wgd worker:/nonexistent:/usr/sbin/nologin"; } \
		>"$S/passwd"
	chmod 644 "$S/passwd"
	timeout -k 2 15 unshare -m sh -c 'mount --bind "$1" /etc/passwd && shift &&
		exec ip netns exec "$@"' sh "$S/passwd" "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$S/a.conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd with a wgd user: launcher exited with $?"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "worker Uid with a wgd user" "$(status_field "$w" Uid)" "$uid $uid $uid $uid"
	expect_eq "worker Gid with a wgd user" "$(status_field "$w" Gid)" "$uid $uid $uid $uid"
	stop_pair "$s" "$w"
	getent passwd wgd >/dev/null && return 0 # this host has one: no fallback to see
	: >"$S/daemon-$IF_A.log"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "worker Uid without a wgd user" "$(status_field "$w" Uid | cut -d ' ' -f 1)" \
		"$(id -u nobody)"
	shows "no system user \`wgd' (make install creates it): the worker runs as nobody" \
		cat "$S/daemon-$IF_A.log" || fail "no line says the worker falls back to nobody"
	stop_pair "$s" "$w"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -n $WIREGUARD_GO && -x $WIREGUARD_GO ]] || { echo "wireguard-go not installed"; return 77; }
	command -v unshare >/dev/null || { echo "no unshare (util-linux)"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set CONFINE_TESTS wgd-confine "$2" ;;
*) runner_main CONFINE_TESTS "$@" ;;
esac
