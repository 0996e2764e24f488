#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wgd as a daemon among the admin's tools: once ready, a daemonised wgd holds
# none of its launcher's descriptors (so `wgctl up IF 2>&1 | cat`, ssh and CI
# return), logs to syslog (read back through lib.sh's daemon_log), and the
# messages an admin meets first name what went wrong.  Same topology and
# output as netns.sh (lib.sh):
#
#  ns1: wa<id> (wgd)  --veth--  ns0 (router)  --veth--  ns2
#
# Usage:
#   daemon.sh --check            0 if this host can run it, else 77 and a reason
#   daemon.sh --list             scenario names (after NETNS_ONLY)
#   daemon.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL=PATH (default ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
WGCTL=${WGCTL:-$repo/ctl/wgctl}

# shellcheck disable=SC2034 # read through a nameref
DAEMON_TESTS=(
	"ctl-up-pipe 60 t_ctl_up_pipe"
	"wg-quick-pipe 60 t_wg_quick_pipe"
	"log-after-ready 60 t_log_after_ready"
	"log-names-listen-port 60 t_log_port"
	"port-clash-named 60 t_port_clash"
	"ifname-too-long 30 t_ifname_long"
	"refused-uid-logged 60 t_refused_uid"
)

# --- helpers -------------------------------------------------------------------

# fds_clean WHAT PID PIPE: PID's stdio is /dev/null, and no descriptor is
# $S/inherited (the test shell's fd 7) or PIPE (the launcher's output pipe).
fds_clean() {
	local what=$1 pid=$2 pipe=$3 fd target
	for fd in 0 1 2; do
		target=$(readlink "/proc/$pid/fd/$fd")
		expect_eq "$what ($pid) fd $fd" "$target" /dev/null
	done
	for fd in /proc/"$pid"/fd/*; do
		target=$(readlink "$fd") || continue
		[[ $target != "$S/inherited" ]] || fail "$what ($pid) holds the caller's fd 7 as ${fd##*/}"
		[[ $target != "$pipe" ]] || fail "$what ($pid) holds the launcher's pipe $pipe as ${fd##*/}"
	done
}

# piped OUT CMD...: `CMD 2>&1 | cat >OUT`, fd 7 open on $S/inherited, as a
# script or an ssh session runs it; the pipe's name goes to $S/pipe.  Fails
# unless CMD succeeds and the pipe closes within 10 s (nobody kept it open).
piped() {
	local out=$1 st
	shift
	exec 7>"$S/inherited"
	set +e
	{
		readlink "/proc/$BASHPID/fd/1" >"$S/pipe"
		timeout 10 "$@"
	} 2>&1 | timeout 10 cat >"$out"
	st=("${PIPESTATUS[@]}")
	set -e
	exec 7>&-
	cat "$out"
	expect_eq "status of $*" "${st[0]}" 0
	((st[1] != 124)) || fail "the output pipe was still open 10 s after the command returned"
}

# --- scenarios -----------------------------------------------------------------

# wgctl up through a pipe returns, and neither process keeps anything of the caller's.
t_ctl_up_pipe() {
	local etc=$S/etc w s
	topo_up
	key_new a
	mkdir -p "$etc"
	conf_a "$etc/$IF_A.conf" "Address = $INNER_A4/24"
	piped "$S/up.out" ip netns exec "$ns1" env WGCTL_CONF_DIR="$etc" \
		LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGCTL" up "$IF_A"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	fds_clean supervisor "$s" "$(cat "$S/pipe")"
	fds_clean worker "$w" "$(cat "$S/pipe")"
	WGCTL_CONF_DIR=$etc "$WGCTL" down "$IF_A" || fail "wgctl down exited with $?"
}

# wg-quick with wgd as its userspace implementation, through a pipe, likewise.
t_wg_quick_pipe() {
	local conf=$S/$IF_Q.conf w s
	command -v wg-quick >/dev/null || skip "wg-quick not installed"
	[[ -e /sys/module/wireguard ]] && skip "kernel WireGuard loaded: wg-quick would not use the daemon"
	topo_up
	key_new a
	printf '[Interface]\nPrivateKey = %s\nAddress = %s/24\n' "$(cat "$S/a.key")" "$INNER_A4" >"$conf"
	piped "$S/up.out" ip netns exec "$ns1" env WG_QUICK_USERSPACE_IMPLEMENTATION="$WGD" \
		LOG_LEVEL="$NETNS_LOG_LEVEL" wg-quick up "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_Q")"
	fds_clean supervisor "$s" "$(cat "$S/pipe")"
	fds_clean worker "$w" "$(cat "$S/pipe")"
	n1 timeout 30 wg-quick down "$conf" || fail "wg-quick down exited with $?"
}

# After ready, both processes log to syslog, and a down hook's output goes there too.
t_log_after_ready() {
	local conf=$S/a.conf w s
	topo_up
	key_new a
	conf_a "$conf" "Address = $INNER_A4/24" "PostDown = echo post-down-of-%i"
	timeout -k 2 15 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c $conf $IF_A: launcher exited with $?"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	kill -HUP "$s"
	wait_for 5 shows "info: Reloaded " daemon_log "$IF_A" || fail "the supervisor's reload is not logged"
	ip1 link set "$IF_A" down
	wait_for 5 shows "Interface $IF_A down" daemon_log "$IF_A" ||
		fail "the worker's link-down is not logged"
	kill -TERM "$s"
	wait_for 5 all_gone "$s" "$w" || fail "daemon ($s, $w) still runs 5 s after SIGTERM"
	wait_for 5 shows "PostDown: post-down-of-$IF_A" daemon_log "$IF_A" ||
		fail "the PostDown hook's output is not logged"
	! shows "Reloaded" cat "$S/daemon-$IF_A.log" || fail "the launcher's stderr got a later message"
}

# `wgd -c` with ListenPort = N: every port its log names is N (no throw-away
# random port drawn before the file was applied).
t_log_port() {
	local conf=$S/a.conf ports
	topo_up
	key_new a
	conf_a "$conf" "Address = $INNER_A4/24"
	timeout -k 2 15 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c $conf $IF_A: launcher exited with $?"
	wait_for 5 shows "listening on UDP port $PORT_A" daemon_log "$IF_A" ||
		fail "no 'listening on UDP port $PORT_A' in the log"
	ports=$(daemon_log "$IF_A" | grep -o 'UDP port [0-9]*' | sort -u)
	expect_eq "the UDP ports the log names" "$ports" "UDP port $PORT_A"
}

# A ListenPort in use is named, at start-up and over the UAPI.
t_port_clash() {
	local out
	topo_up
	key_new a
	conf_a "$S/a.conf"
	timeout -k 2 15 ip netns exec "$ns1" "$WGD" -c "$S/a.conf" "$IF_A" </dev/null ||
		fail "wgd -c $IF_A: launcher exited with $?"
	cp "$S/a.conf" "$S/b.conf"
	out=$(timeout -k 2 15 ip netns exec "$ns1" "$WGD" -c "$S/b.conf" "$IF_B" 2>&1 </dev/null) &&
		fail "a second wgd on port $PORT_A started"
	echo "$out"
	[[ $out == *"wgd: cannot bind UDP port $PORT_A: Address already in use"* ]] ||
		fail "start-up does not name the port: '$out'"
	daemon_start "$ns1" "$IF_B" "$WGD"
	! wg set "$IF_B" listen-port "$PORT_A" || fail "wg set took a port in use"
	wait_for 5 shows "UAPI: set=1 refused: cannot bind UDP port $PORT_A: Address already in use" \
		daemon_log "$IF_B" || fail "the UAPI refusal does not name the port"
}

# An interface name over IFNAMSIZ - 1 says what the limit is, in wgd and wgctl.
t_ifname_long() {
	local name=wgd-sixteen-char out
	out=$("$WGD" "$name" 2>&1) && fail "wgd accepted $name"
	expect_eq "wgd's message" "$out" "wgd: interface name \`$name' is too long (at most 15 characters)"
	out=$("$WGCTL" show "$name" 2>&1) && fail "wgctl accepted $name"
	[[ $out == *"Interface name \`$name' is too long (at most 15 characters)"* ]] ||
		fail "wgctl's message: '$out'"
}

# A client the worker refuses (here: nobody, who got past the socket's mode
# with CAP_DAC_OVERRIDE) is logged with its uid, gid and pid.
t_refused_uid() {
	command -v setpriv >/dev/null || skip "setpriv not installed"
	topo_up
	daemon_start "$ns1" "$IF_A" "$WGD"
	! setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override \
		--ambient-caps=+dac_override wg show "$IF_A" || fail "nobody was served"
	wait_for 5 shows "UAPI: connection refused: uid 65534, gid 65534, pid " daemon_log "$IF_A" ||
		fail "the refusal does not name the uid"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	command -v python3 >/dev/null || { echo "python3 not installed"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set DAEMON_TESTS wgd-daemon "$2" ;;
*) runner_main DAEMON_TESTS "$@" ;;
esac
