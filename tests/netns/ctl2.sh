#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wgctl for automation and site admins, against live daemons (issue 10): metrics
# that promtool accepts and that fail without the right to the socket, --save
# refused before any change when the file cannot be written, `strip` for the
# `wg syncconf IF <(wgctl strip IF)` idiom, syncconf with a peers-only file
# keeping the tunnel, and peer add's argument order and host-bit warning.
# Same topology, helpers and output as ctl.sh (lib.sh):
#
#  ns1: wa<id> (wgd)  --veth--  ns0 (router)  --veth--  ns2: wb<id> (wgd)
#
# Usage:
#   ctl2.sh --check            0 if this host can run it, else 77 and a reason
#   ctl2.sh --list             scenario names (after NETNS_ONLY)
#   ctl2.sh run LABEL          run the scenarios
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGD and WGCTL (default wgd/wgd, ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
# shellcheck disable=SC2034 # DA and DB are read by lib.sh's pair_up
WGD=${WGD:-$repo/wgd/wgd}
WGCTL=${WGCTL:-$repo/ctl/wgctl}
export WGD WGCTL

# shellcheck disable=SC2034 # read through a nameref
CTL2_TESTS=(
	"metrics 60 t_metrics"
	"save-refused 60 t_save_refused"
	"strip-syncconf 60 t_strip_syncconf"
)

# --- helpers -------------------------------------------------------------------

# test_user: a real unprivileged user $TU (group $TU) and an admin group $TG it is
# a member of, both removed when the scenario ends; as_user CMD... runs CMD as $TU
# with its groups, as a login would give them.
test_user() {
	TU=wgdu$RUNID TG=wgdg$RUNID
	trap 'userdel "$TU" 2>/dev/null; groupdel "$TG" 2>/dev/null; true' EXIT
	groupadd "$TG"
	useradd --no-create-home --user-group --shell /usr/sbin/nologin --groups "$TG" "$TU"
}
as_user() { setpriv --reuid "$TU" --regid "$TU" --init-groups "$@"; }

# promtool_ok FILE: promtool's linter accepts the exposition in FILE.
promtool_ok() {
	promtool check metrics <"$1" >"$S/promtool" 2>&1 ||
		fail "promtool check metrics: $(tr '\n' ' ' <"$S/promtool")"
}

# --- scenarios -----------------------------------------------------------------

# Counters after traffic pass promtool's lint for one interface and for `all`; a
# user without the right to the socket gets show's error and status, not an
# empty scrape.
t_metrics() {
	local rc
	DA=$WGD DB=$WGD
	pair_up 4 psk
	flood "$ns1" "$INNER_B4"
	"$WGCTL" metrics "$IF_A" >"$S/one.prom" || fail "metrics $IF_A: exit $?"
	promtool_ok "$S/one.prom"
	shows "wgd_peer_receive_bytes_total{interface=\"$IF_A\",public_key=\"$PUB_B\"}" \
		cat "$S/one.prom" || fail "no receive counter for B"
	"$WGCTL" metrics all >"$S/all.prom" || fail "metrics all: exit $?"
	promtool_ok "$S/all.prom"
	shows "wgd_peers{interface=\"$IF_B\"} 1" cat "$S/all.prom" || fail "metrics all lacks $IF_B"
	test_user
	for target in "$IF_A" all; do
		rc=0
		as_user "$WGCTL" metrics "$target" >"$S/out" 2>"$S/err" || rc=$?
		expect_eq "metrics $target without the right: status" "$rc" 1
		[[ ! -s $S/out ]] || fail "metrics $target without the right printed samples"
	done
	as_user "$WGCTL" show "$IF_A" >/dev/null 2>"$S/show.err" && fail "show worked without the right"
	as_user "$WGCTL" metrics "$IF_A" 2>"$S/err" >/dev/null || true
	# (set -x traces as_user into the same stderr: compare wgctl's lines)
	expect_eq "metrics error" "$(grep '^wgctl:' "$S/err")" "$(grep '^wgctl:' "$S/show.err")"
	shows "Permission denied" cat "$S/err" || fail "metrics error lacks the cause"
}

# save_fails WHAT WANT ARGS...: `wgctl peer ARGS --save' run by $TU exits 1 with
# the one line WANT, and the interface's peers are what they were.
save_fails() {
	local what=$1 want=$2 before rc=0
	shift 2
	before=$(wg show "$IF_A" peers)
	as_user env WGCTL_CONF_DIR="$S/etc" "$WGCTL" peer "$@" --save >"$S/out" 2>"$S/err" || rc=$?
	expect_eq "$what: status" "$rc" 1
	expect_eq "$what: message" "$(grep '^wgctl:' "$S/err")" "$want"
	expect_eq "$what: peers (nothing changed)" "$(wg show "$IF_A" peers)" "$before"
}

# An AdminGroup member may drive the socket but not write /etc/wgd: peer add and
# peer remove with --save are refused before the daemon is touched, with one line
# naming the file and why, and the file is as it was.
t_save_refused() {
	local conf=$S/etc/$IF_A.conf sum
	topo_up
	test_user
	key_new a
	key_new c
	key_new d
	mkdir -p "$S/etc"
	# the run's directory is 0700: let the user through to etc/ (0755, root's)
	chmod 0711 "$(dirname "$S")" "$S"
	chmod 0755 "$S/etc"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAdminGroup = %s\n' \
		"$(cat "$S/a.key")" "$PORT_A" "$TG" >"$conf"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.13.0/24\n' "$(pub d)" >>"$conf"
	n1 env WGCTL_CONF_DIR="$S/etc" LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGCTL" up "$IF_A" \
		>>"$S/daemon-$IF_A.log" 2>&1 || fail "wgctl up exited with $?"
	as_user "$WGCTL" show "$IF_A" peers >/dev/null || fail "the member cannot use the socket"
	sum=$(sha256sum "$conf")
	# the usual file: root's, 0600
	save_fails "add, unreadable file" \
		"wgctl: Unable to save to \`$conf', nothing changed: Permission denied" \
		add "$IF_A" "$(pub c)" allowed-ips 198.18.14.0/24
	save_fails "remove, unreadable file" \
		"wgctl: Unable to save to \`$conf', nothing changed: Permission denied" \
		remove "$IF_A" "$(pub d)"
	# readable and writable by the group, in a directory only root may write
	chgrp "$TG" "$conf"
	chmod 0660 "$conf"
	save_fails "add, read-only directory" \
		"wgctl: Unable to save to \`$conf', nothing changed: cannot create files in $S/etc: Permission denied" \
		add "$IF_A" "$(pub c)" allowed-ips 198.18.14.0/24
	save_fails "remove, read-only directory" \
		"wgctl: Unable to save to \`$conf', nothing changed: cannot create files in $S/etc: Permission denied" \
		remove "$IF_A" "$(pub d)"
	expect_eq "file after the refusals" "$(sha256sum "$conf")" "$sum"
	# the same request without --save is the member's right
	as_user "$WGCTL" peer add "$IF_A" "$(pub c)" allowed-ips 198.18.14.0/24 ||
		fail "peer add without --save by a member"
	shows "$(pub c)" wg show "$IF_A" peers || fail "peer not added without --save"
}

# The README's PrivateKeyFile config through `wg syncconf IF <(wgctl strip ...)`,
# by path and by interface name; then `wgctl syncconf` with a file of peers alone
# keeps the private key, the port and the tunnel.
t_strip_syncconf() {
	local conf=$S/etc/$IF_A.conf key0 port0 rc=0
	DA=$WGD DB=$WGD
	pair_up 4 nopsk
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no first ping"
	mkdir -p "$S/etc"
	cat >"$conf" <<-EOF
		[Interface]
		PrivateKeyFile = $S/a.key
		ListenPort = $PORT_A
		Address = $INNER_A4/24
		PostUp = false

		[Peer]
		PublicKey = $PUB_B
		AllowedIPs = $INNER_B4/32, $INNER_B6/128, 198.18.15.0/24
		Endpoint = $(site_ep 2 4 "$PORT_B")
	EOF
	key0=$(WG_HIDE_KEYS=never wg show "$IF_A" private-key)
	port0=$(wg show "$IF_A" listen-port)
	wg syncconf "$IF_A" "$conf" 2>"$S/err" || rc=$?
	((rc != 0)) || fail "wg syncconf took a wg-quick file (the idiom needs strip)"
	"$WGCTL" strip "$conf" >"$S/stripped"
	! shows "PrivateKeyFile" cat "$S/stripped" || fail "strip left PrivateKeyFile"
	! shows "Address" cat "$S/stripped" || fail "strip left Address"
	shows "PrivateKey = $(cat "$S/a.key")" cat "$S/stripped" || fail "strip lacks the key"
	wg syncconf "$IF_A" <("$WGCTL" strip "$conf") || fail "wg syncconf <(wgctl strip FILE)"
	expect_eq "allowed ips after strip+syncconf" "$(peer_field "$IF_A" allowed-ips "$PUB_B")" \
		"$INNER_B4/32 $INNER_B6/128 198.18.15.0/24"
	sed -i 's|, 198.18.15.0/24||' "$conf"
	WGCTL_CONF_DIR=$S/etc wg syncconf "$IF_A" <(WGCTL_CONF_DIR=$S/etc "$WGCTL" strip "$IF_A") ||
		fail "wg syncconf <(wgctl strip IF)"
	expect_eq "allowed ips after strip IF" "$(peer_field "$IF_A" allowed-ips "$PUB_B")" \
		"$INNER_B4/32 $INNER_B6/128"
	expect_eq "private key after strip+syncconf" \
		"$(WG_HIDE_KEYS=never wg show "$IF_A" private-key)" "$key0"
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping after strip+syncconf"

	# a file of peers alone: the device keeps its key and port, the tunnel works
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32, %s/128, 198.18.16.0/24\nEndpoint = %s\n' \
		"$PUB_B" "$INNER_B4" "$INNER_B6" "$(site_ep 2 4 "$PORT_B")" >"$S/peers.conf"
	"$WGCTL" syncconf "$IF_A" "$S/peers.conf" || fail "syncconf peers-only: exit $?"
	expect_eq "private key after a peers-only syncconf" \
		"$(WG_HIDE_KEYS=never wg show "$IF_A" private-key)" "$key0"
	expect_eq "port after a peers-only syncconf" "$(wg show "$IF_A" listen-port)" "$port0"
	expect_eq "allowed ips after a peers-only syncconf" \
		"$(peer_field "$IF_A" allowed-ips "$PUB_B")" "$INNER_B4/32 $INNER_B6/128 198.18.16.0/24"
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping after a peers-only syncconf"
	# a new handshake works too, with the key kept: B restarts its session
	wg set "$IF_B" peer "$PUB_A" remove
	wg set "$IF_B" peer "$PUB_A" allowed-ips "$INNER_A4/32,$INNER_A6/128" \
		endpoint "$(site_ep 1 4 "$PORT_A")"
	ping1 "$ns2" "$INNER_A4" >/dev/null || fail "no new handshake after a peers-only syncconf"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	[[ -x $WGD ]] || { echo "wgd/wgd not built"; return 77; }
	command -v promtool >/dev/null || { echo "promtool not installed"; return 77; }
	command -v useradd >/dev/null || { echo "useradd not installed"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# -ge 2 ]] || exit 2; run_set CTL2_TESTS wgd-ctl2 "$2" ;;
*) runner_main CTL2_TESTS "$@" ;;
esac
