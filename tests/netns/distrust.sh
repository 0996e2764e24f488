#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The root supervisor does not wait on its worker for ever: with the worker
# stopped (SIGSTOP, as a hung or hostile worker would behave), a SIGHUP
# reload and a `wgctl reload` each give up after the UAPI deadline with "the
# worker did not answer within 5 s", and a SIGTERM then still runs the
# whole teardown: PreDown, the routes, PostDown, the supervisor's exit.
# Same topology and helpers as lifecycle.sh (lib.sh); only ns1's interface
# is used:
#
#  ns1: wa<id> (wgd -c)  --veth--  ns0 (router)  --veth--  ns2
#
# Usage:
#   distrust.sh --check            0 if this host can run it, else 77 and a reason
#   distrust.sh --list             scenario names (after NETNS_ONLY)
#   distrust.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL=PATH (default ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
WGCTL=${WGCTL:-$repo/ctl/wgctl}

# shellcheck disable=SC2034 # read through a nameref
DISTRUST_TESTS=(
	"hung-worker-sighup-then-sigterm 60 t_hung_sighup"
	"hung-worker-wgctl-reload 60 t_hung_wgctl_reload"
)

PEER_NET4=198.18.94.0/24
DEADLINE_LINE="the worker did not answer within 5 s"

# --- helpers -------------------------------------------------------------------

has_route() { [[ -n $(ip1 -4 route show table main exact "$1" dev "$IF_A" 2>/dev/null) ]]; }

# up_conf: wgd -f -c with an address, a peer route and three hooks, which
# leave a file each in $S.
up_conf() {
	local etc=$S/etc
	topo_up
	key_new a
	key_new b
	mkdir -p "$etc"
	CONF=$etc/$IF_A.conf
	cat >"$CONF" <<-EOT
		[Interface]
		PrivateKey = $(cat "$S/a.key")
		ListenPort = $PORT_A
		Address = $INNER_A4/24
		PostUp = touch $S/postup
		PreDown = touch $S/predown
		PostDown = touch $S/postdown

		[Peer]
		PublicKey = $(pub b)
		AllowedIPs = $PEER_NET4
	EOT
	# in the foreground, so that everything it logs is in $S/daemon-IF.log
	ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -f -c "$CONF" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 &
	wait_for 10 test -e "$S/postup" || fail "PostUp did not run: $(tail -n 3 "$S/daemon-$IF_A.log")"
	wait_for 5 has_route "$PEER_NET4" || fail "no route for $PEER_NET4"
	read -r WORKER SUPERVISOR < <(pids "$ns1" "$IF_A")
}

# stop_worker: SIGSTOP the worker; the test's exit lets it go in any case.
stop_worker() {
	kill -STOP "$WORKER"
	trap '{ kill -CONT '"$WORKER"' && kill -KILL '"$WORKER"'; } 2>/dev/null || true' EXIT
}

logged() { daemon_log "$IF_A" | grep -qF "$1"; }

# sigterm_cleans_up: SIGTERM the supervisor; it must finish its teardown
# (bounded: the reload deadline, then the worker's stop) and exit.
sigterm_cleans_up() {
	kill -TERM "$SUPERVISOR"
	wait_for 15 pid_gone "$SUPERVISOR" ||
		fail "the supervisor did not exit within 15 s of SIGTERM: $(daemon_log "$IF_A" | tail -n 5)"
	[[ -e $S/predown ]] || fail "PreDown did not run"
	[[ -e $S/postdown ]] || fail "PostDown did not run"
	! has_route "$PEER_NET4" || fail "the route for $PEER_NET4 is still there"
	[[ ! -e $(sock_path "$IF_A") ]] || fail "the UAPI socket is still there"
	wait_for 5 pid_gone "$WORKER" || fail "the worker $WORKER outlived its supervisor"
}

# --- scenarios -----------------------------------------------------------------

# SIGHUP while the worker is stopped: the reload gives up after its deadline
# (on main it waited for ever, and SIGTERM was never read).
t_hung_sighup() {
	up_conf
	stop_worker
	kill -HUP "$SUPERVISOR"
	wait_for 5 logged "Reloading $CONF" || fail "the reload did not start"
	sigterm_cleans_up
	logged "$DEADLINE_LINE" || fail "no '$DEADLINE_LINE' in the log"
}

# wgctl reload while the worker is stopped: it fails with the deadline's words.
t_hung_wgctl_reload() {
	local rc=0
	up_conf
	stop_worker
	WGCTL_CONF_DIR=$S/etc timeout 30 "$WGCTL" reload "$IF_A" >"$S/out" 2>"$S/err" || rc=$?
	((rc != 0)) || fail "wgctl reload exited 0 with the worker stopped"
	((rc != 124)) || fail "wgctl reload did not return within 30 s"
	shows "$DEADLINE_LINE" cat "$S/err" || fail "wgctl reload said '$(cat "$S/err")'"
	sigterm_cleans_up
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set DISTRUST_TESTS wgd-distrust "$2" ;;
*) runner_main DISTRUST_TESTS "$@" ;;
esac
