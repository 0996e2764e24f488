#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wgctl down | reload | check through the supervisor's control socket
# (RUNSTATEDIR/wgd/IF.ctl): each acts on the daemon behind the files of its
# own mount namespace, even when another namespace runs the same interface
# name; reload prints the parser's FILE:LINE error (exit 1, nothing changed)
# or one line saying what changed; check parses a file or the daemon's own;
# AdminGroup members may reload and stop; a daemon without a control socket
# (wireguard-go) in another network namespace is refused, not guessed at.
# Same helpers and output as netns.sh (lib.sh).
#
# Usage:
#   control.sh --check            0 if this host can run it, else 77 and a reason
#   control.sh --list             scenario names (after NETNS_ONLY)
#   control.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL and WIREGUARD_GO (default ctl/wgctl, wireguard-go).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
WGCTL=${WGCTL:-$repo/ctl/wgctl}
WIREGUARD_GO=${WIREGUARD_GO:-$(command -v wireguard-go)}

# shellcheck disable=SC2034 # read through a nameref
CONTROL_TESTS=(
	"same-name-two-namespaces 60 t_two_namespaces"
	"reload-outcome 60 t_reload_outcome"
	"check 60 t_check"
	"admin-group-reload-down 60 t_admin_group"
	"go-other-netns-refused 60 t_go_other_netns"
)

CTL_DIR=/var/run/wgd

# --- helpers -------------------------------------------------------------------

# private_run NS: a process in NS with its own mount namespace, where
# /run/wireguard and /run/wgd are empty tmpfs (a per-tenant /run, as a
# systemd unit with its own namespaces has); prints its pid, for inside.
private_run() {
	local ready=$S/private-$1
	mkdir -p /run/wireguard /run/wgd
	ip netns exec "$1" unshare -m --propagation private sh -c \
		"mount -t tmpfs -o mode=0755 tmpfs /run/wireguard &&
		 mount -t tmpfs -o mode=0755 tmpfs /run/wgd && echo \$\$ >$ready && exec sleep 600" \
		</dev/null >/dev/null 2>&1 &
	wait_for 5 test -s "$ready" || fail "no private /run in $1"
	cat "$ready"
}

# inside PID CMD...: CMD in the network and mount namespaces of PID.
inside() {
	local pid=$1
	shift
	nsenter -t "$pid" -n -m "$@"
}

# conf FILE PORT [ADDRESS] PEER...: an interface with A's key; each PEER is
# "NAME PREFIX" (a key made by key_new).
conf() {
	local f=$1 port=$2 addr=$3 p
	shift 3
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$S/a.key")"
		echo "ListenPort = $port"
		[[ -z $addr ]] || echo "Address = $addr"
		for p; do
			read -r name prefix <<<"$p"
			printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(pub "$name")" "$prefix"
		done
	} >"$f"
}

# runs DIR CMD...: CMD with wgctl's config directory DIR; output in $S/out, $S/err.
runs() {
	local dir=$1
	shift
	WGCTL_CONF_DIR=$dir WGD=$WGD LOG_LEVEL=$NETNS_LOG_LEVEL "$@" >"$S/out" 2>"$S/err" </dev/null
}

# ctl DIR ARGS...: wgctl ARGS, as runs does.
ctl() {
	local dir=$1
	shift
	runs "$dir" "$WGCTL" "$@"
}

# up NS DIR IFNAME: `wgctl up`, the daemon's log in $S/daemon-IFNAME.log.
up() {
	local ns=$1 dir=$2 ifn=$3
	ip netns exec "$ns" env WGCTL_CONF_DIR="$dir" WGD="$WGD" LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGCTL" up "$ifn" </dev/null >>"$S/daemon-$ifn.log" 2>&1 || fail "wgctl up $ifn in $ns"
}

out_is() { expect_eq "$1: stdout" "$(cat "$S/out")" "$2"; }
err_has() { shows "$2" cat "$S/err" || fail "$1: stderr '$(cat "$S/err")' lacks '$2'"; }

# --- scenarios -------------------------------------------------------------------

# The same interface name in two network namespaces, each with its own /run:
# reload and down in one act on that one only (/proc scanning picked the
# other tenant's daemon, the one started first).
t_two_namespaces() {
	local p1 p2 before
	topo_up
	key_new a
	key_new b
	key_new c
	mkdir -p "$S/n1" "$S/n2"
	conf "$S/n2/$IF_A.conf" "$PORT_B" "" "b 198.18.2.0/24"
	conf "$S/n1/$IF_A.conf" "$PORT_A" "" "b 198.18.1.0/24"
	p2=$(private_run "$ns2")
	p1=$(private_run "$ns1")
	inside "$p2" env WGCTL_CONF_DIR="$S/n2" WGD="$WGD" "$WGCTL" up "$IF_A" \
		>>"$S/daemon-2.log" 2>&1 || fail "up in $ns2"
	inside "$p1" env WGCTL_CONF_DIR="$S/n1" WGD="$WGD" "$WGCTL" up "$IF_A" \
		>>"$S/daemon-1.log" 2>&1 || fail "up in $ns1"
	[[ ! -e $(sock_path "$IF_A") ]] || fail "a UAPI socket in the host's /run"
	before=$(inside "$p2" wg show "$IF_A" dump)
	conf "$S/n1/$IF_A.conf" "$PORT_A" "" "b 198.18.1.0/24" "c 198.18.3.0/24"
	runs "$S/n1" inside "$p1" "$WGCTL" reload "$IF_A" || fail "reload in $ns1: $(cat "$S/err")"
	out_is "reload in $ns1" "Reloaded $S/n1/$IF_A.conf: peers 1 added, 0 removed, 0 changed, 1 unchanged; addresses 0 added, 0 removed; routes 1 added, 0 removed"
	expect_eq "peers in $ns1" "$(inside "$p1" wg show "$IF_A" peers | sort)" \
		"$(printf '%s\n' "$(pub b)" "$(pub c)" | sort)"
	expect_eq "$ns2 untouched by the reload" "$(inside "$p2" wg show "$IF_A" dump)" "$before"
	inside "$p1" "$WGCTL" down "$IF_A" || fail "down in $ns1 exited with $?"
	! ip -n "$ns1" link show dev "$IF_A" >/dev/null 2>&1 || fail "$IF_A still in $ns1 after down"
	ip -n "$ns2" link show dev "$IF_A" >/dev/null 2>&1 || fail "down in $ns1 took $ns2's $IF_A"
	expect_eq "$ns2 still served" "$(inside "$p2" wg show "$IF_A" listen-port)" "$PORT_B"
	inside "$p2" "$WGCTL" down "$IF_A" || fail "down in $ns2 exited with $?"
	! ip -n "$ns2" link show dev "$IF_A" >/dev/null 2>&1 || fail "$IF_A still in $ns2 after down"
}

# A refused file: exit 1, the parser's FILE:LINE on stderr, nothing changed.
# A good one: exit 0 and one line with the right counts.
t_reload_outcome() {
	local f=$S/etc/$IF_A.conf before
	topo_up
	for k in a b c d e; do key_new $k; done
	mkdir -p "$S/etc"
	conf "$f" "$PORT_A" 198.18.20.1/24 "b 198.18.21.0/24" "c 198.18.22.0/24" "d 198.18.23.0/24"
	up "$ns1" "$S/etc" "$IF_A"
	before=$(wg show "$IF_A" dump)
	echo "Bogus = 1" >>"$f"
	! ctl "$S/etc" reload "$IF_A" || fail "reload of a file with an unknown key exited 0"
	err_has "refused reload" "$f:17: "
	expect_eq "device after a refused reload" "$(wg show "$IF_A" dump)" "$before"
	conf "$f" "$PORT_A" "198.18.20.1/24, 198.18.30.1/24" "b 198.18.21.0/24" "c 198.18.22.0/24" \
		"e 198.18.25.0/24"
	ctl "$S/etc" reload "$IF_A" || fail "reload of a good file exited $?: $(cat "$S/err")"
	out_is "reload" "Reloaded $f: peers 1 added, 1 removed, 0 changed, 2 unchanged; addresses 1 added, 0 removed; routes 1 added, 1 removed"
	expect_eq "route of the removed peer" "$(ip -n "$ns1" route show 198.18.23.0/24)" ""
	[[ -n $(ip -n "$ns1" route show 198.18.25.0/24) ]] || fail "no route for the added peer"
	# a changed peer, the port and the MTU
	conf "$f" $((PORT_A + 1)) "198.18.20.1/24, 198.18.30.1/24" "b 198.18.21.0/24" \
		"c 198.18.22.0/24, 198.18.24.0/24" "e 198.18.25.0/24"
	echo "MTU = 1300" | sed -i "/^ListenPort/r /dev/stdin" "$f"
	ctl "$S/etc" reload "$IF_A" || fail "second reload exited $?: $(cat "$S/err")"
	[[ $(cat "$S/out") == "Reloaded $f: peers 0 added, 0 removed, 1 changed, 2 unchanged; addresses 0 added, 0 removed; routes 1 added, 0 removed; listen port $PORT_A -> $((PORT_A + 1)); MTU "*" -> 1300" ]] ||
		fail "second reload said '$(cat "$S/out")'"
	ctl "$S/etc" down "$IF_A" || fail "down exited $?"
}

# check FILE, check IF (the daemon parses its own file), check IF when nothing runs.
t_check() {
	local f=$S/etc/$IF_A.conf
	topo_up
	key_new a
	key_new b
	mkdir -p "$S/etc"
	conf "$f" "$PORT_A" "" "b 198.18.21.0/24"
	ctl "$S/etc" check "$f" || fail "check FILE of a good file exited $?"
	out_is "check FILE" "$f: OK"
	ctl "$S/etc" check "$IF_A" || fail "check IF (not running) exited $?"
	out_is "check IF (not running)" "$f: OK"
	up "$ns1" "$S/etc" "$IF_A"
	ctl /nonexistent check "$IF_A" || fail "check IF exited $?"
	# a running interface: the daemon's plan for its own file (dropin.sh tests it)
	expect_eq "check IF (the daemon's file)" "$(head -n 1 "$S/out")" \
		"Plan for $IF_A from $f: no change"
	echo "Bogus = 1" >>"$f"
	! ctl "$S/etc" check "$f" || fail "check FILE of a bad file exited 0"
	err_has "check FILE" "$f:8: "
	! ctl /nonexistent check "$IF_A" || fail "check IF of a bad file exited 0"
	err_has "check IF" "$f:8: "
	expect_eq "peers after check" "$(wg show "$IF_A" peers)" "$(pub b)"
	! ctl "$S/etc" check "$S/missing.conf" || fail "check of a missing file exited 0"
	ctl "$S/etc" down "$IF_A" || fail "down exited $?"
}

# A member of AdminGroup (a real user, in the group as a supplementary one)
# reloads and stops the daemon through the control socket; the daemon parses
# the file the member cannot read and sends its errors back; others are refused.
t_admin_group() {
	local f=$S/etc/$IF_A.conf as_member as_other=(setpriv --reuid 65534 --regid 65534 --clear-groups)
	user=wgdtu$RUNID group=wgdtg$RUNID # global: the EXIT trap removes them
	topo_up
	groupadd "$group"
	trap 'userdel "$user" 2>/dev/null || true; groupdel "$group" 2>/dev/null || true' EXIT
	useradd -M -N -g nogroup -G "$group" -s /usr/sbin/nologin -d /nonexistent "$user"
	as_member=(setpriv --reuid "$user" --regid nogroup --init-groups)
	key_new a
	key_new b
	key_new c
	mkdir -p "$S/etc"
	conf "$f" "$PORT_A" "" "b 198.18.21.0/24"
	echo "AdminGroup = $group" | sed -i "/^ListenPort/r /dev/stdin" "$f"
	up "$ns1" "$S/etc" "$IF_A"
	expect_eq "control socket" "$(stat -c '%U %G %a' "$CTL_DIR/$IF_A.ctl")" "root $group 660"
	conf "$f" "$PORT_A" "" "b 198.18.21.0/24" "c 198.18.22.0/24"
	echo "AdminGroup = $group" | sed -i "/^ListenPort/r /dev/stdin" "$f"
	runs "$S/etc" "${as_member[@]}" "$WGCTL" reload "$IF_A" ||
		fail "reload by a member exited $?: $(cat "$S/err")"
	out_is "reload by a member" "Reloaded $f: peers 1 added, 0 removed, 0 changed, 1 unchanged; addresses 0 added, 0 removed; routes 1 added, 0 removed"
	echo "Bogus = 1" >>"$f"
	! runs "$S/etc" "${as_member[@]}" "$WGCTL" reload "$IF_A" ||
		fail "reload of a bad file by a member exited 0"
	err_has "refused reload by a member (the daemon's answer)" "$f:13: "
	! runs "$S/etc" "${as_other[@]}" "$WGCTL" reload "$IF_A" || fail "a non-member reloaded"
	err_has "reload by a non-member" "Permission denied"
	! runs "$S/etc" "${as_other[@]}" "$WGCTL" down "$IF_A" || fail "a non-member stopped it"
	runs "$S/etc" "${as_member[@]}" "$WGCTL" down "$IF_A" ||
		fail "down by a member exited $?: $(cat "$S/err")"
	! ip -n "$ns1" link show dev "$IF_A" >/dev/null 2>&1 || fail "$IF_A still there after down"
	sock_gone "$IF_A" || fail "UAPI socket left after down"
	[[ ! -e $CTL_DIR/$IF_A.ctl ]] || fail "control socket left after down"
}

# wireguard-go has no control socket: from another network namespace wgctl
# cannot tell which process serves the socket, so it refuses; from its own,
# it stops exactly that process.
t_go_other_netns() {
	[[ -n $WIREGUARD_GO ]] || skip "wireguard-go not installed"
	topo_up
	daemon_start "$ns2" "$IF_B" "$WIREGUARD_GO"
	! ctl /nonexistent down "$IF_B" || fail "down from the host namespace exited 0"
	err_has "down from elsewhere" "from this network namespace"
	ip -n "$ns2" link show dev "$IF_B" >/dev/null 2>&1 || fail "wireguard-go was stopped anyway"
	n2 "$WGCTL" down "$IF_B" || fail "down in $ns2 exited $?"
	! ip -n "$ns2" link show dev "$IF_B" >/dev/null 2>&1 || fail "$IF_B still there after down"
	wait_for 2 ns_quiet "$ns2" || fail "wireguard-go still runs"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	command -v nsenter >/dev/null && command -v unshare >/dev/null ||
		{ echo "nsenter/unshare missing"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set CONTROL_TESTS wgd-control "$2" ;;
*) runner_main CONTROL_TESTS "$@" ;;
esac
