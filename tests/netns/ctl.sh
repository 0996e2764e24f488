#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wgctl against live daemons, with Debian's wg(8) as the referee: every `show`
# form prints what `wg show` prints for the same interface, set/syncconf keep
# the sessions of peers that stay, `peer add/remove --save` edits the config
# file in place, `up`/`reload`/`down` drive wgd -c, and the same commands
# manage wireguard-go.  Same topology, helpers and output as netns.sh (lib.sh):
#
#  ns1: wa<id> (daemon A under test)  --veth--  ns0 (router)  --veth--  ns2: wb<id> (wgd)
#
# Usage:
#   ctl.sh --check            0 if this host can run it, else 77 and a reason
#   ctl.sh --list             scenario names (after NETNS_ONLY)
#   ctl.sh run LABEL          run the scenarios
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGD, WIREGUARD_GO and WGCTL (default wgd/wgd, wireguard-go, ctl/wgctl).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck disable=SC2154 # names and addresses come from lib.sh
# shellcheck disable=SC2034 # DA and DB are read by lib.sh's pair_up
WGD=${WGD:-$repo/wgd/wgd}
WIREGUARD_GO=${WIREGUARD_GO:-$(command -v wireguard-go)}
WGCTL=${WGCTL:-$repo/ctl/wgctl}
export WGD WIREGUARD_GO WGCTL

# shellcheck disable=SC2034 # read through a nameref
CTL_TESTS=(
	"show-wgd 60 t_show wgd"
	"show-go 60 t_show go"
	"sessions-wgd 60 t_sessions wgd"
	"sessions-go 60 t_sessions go"
	"peer-save 60 t_peer_save"
	"lifecycle-go 60 t_lifecycle_go"
	"errors 30 t_errors"
)

FIELDS=(public-key private-key listen-port fwmark peers preshared-keys endpoints
	allowed-ips latest-handshakes persistent-keepalive transfer dump)

# --- helpers -------------------------------------------------------------------

daemon_of() {
	case $1 in
	wgd) echo "$WGD" ;;
	go) [[ -n $WIREGUARD_GO ]] || skip "wireguard-go not installed"; echo "$WIREGUARD_GO" ;;
	esac
}

# same_output ARGS...: `wg ARGS` and `wgctl ARGS` print the same; a report
# with "N seconds ago" may straddle a second, so three tries.
same_output() {
	local w c
	for _ in 1 2 3; do
		w=$(wg "$@") || fail "wg $*: exit $?"
		c=$("$WGCTL" "$@") || fail "wgctl $*: exit $?"
		[[ $w == "$c" ]] && return 0
	done
	diff <(echo "$w") <(echo "$c") >&2 || true
	fail "wgctl $* differs from wg $*"
}

# hs IFNAME PEER: the latest handshake (Unix seconds) of PEER.
hs() { peer_field "$1" latest-handshakes "$2"; }

# session_kept IFNAME PEER HS NS DST: a ping still goes through and needed no
# new handshake, so the keypair survived.
session_kept() {
	ping1 "$4" "$5" >/dev/null || fail "$1: no ping to $5 after the change"
	expect_eq "$1: latest handshake after the change (session kept)" "$(hs "$1" "$2")" "$3"
}

# json_matches_dump IFNAME: the JSON rendering carries wg's dump values.
json_matches_dump() {
	"$WGCTL" show "$1" --json >"$S/json"
	wg show "$1" dump >"$S/dump"
	/usr/bin/python3 - "$S/json" "$S/dump" "$1" <<-'PY' || fail "$1: --json disagrees with wg's dump"
		import json, sys
		j = json.load(open(sys.argv[1]))
		lines = [l.split('\t') for l in open(sys.argv[2]).read().splitlines()]
		dev, peers = lines[0], lines[1:]
		assert j['interface'] == sys.argv[3]
		assert j['public_key'] == (None if dev[1] == '(none)' else dev[1])
		assert 'private_key' not in j
		assert j['listen_port'] == int(dev[2])
		assert j['fwmark'] == (0 if dev[3] == 'off' else int(dev[3], 16))
		assert len(j['peers']) == len(peers)
		for p, d in zip(j['peers'], peers):
		    assert p['public_key'] == d[0] and 'preshared_key' not in p
		    assert p['endpoint'] == (None if d[2] == '(none)' else d[2])
		    assert p['allowed_ips'] == ([] if d[3] == '(none)' else d[3].split(','))
		    assert p['latest_handshake'] == int(d[4])
		    assert p['up'] == (int(d[4]) != 0), 'fresh handshake, so up iff any'
		    assert (p['rx_bytes'], p['tx_bytes']) == (int(d[5]), int(d[6]))
		    assert p['persistent_keepalive'] == (0 if d[7] == 'off' else int(d[7]))
	PY
}

# metrics_match IFNAME: the Prometheus samples carry wg's counters.
metrics_match() {
	"$WGCTL" metrics "$1" >"$S/metrics"
	wg show "$1" dump >"$S/dump"
	/usr/bin/python3 - "$S/metrics" "$S/dump" "$1" <<-'PY' || fail "$1: metrics disagree with wg"
		import re, sys
		text = open(sys.argv[1]).read()
		peers = [l.split('\t') for l in open(sys.argv[2]).read().splitlines()[1:]]
		samples = {}
		for line in text.splitlines():
		    if line.startswith('#'):
		        assert re.match(r'# (HELP|TYPE) wgd_\w+ ', line), line
		        continue
		    m = re.match(r'(\w+)\{interface="([^"]*)"(?:,public_key="([^"]*)")?\} (\d+)$', line)
		    assert m, line
		    samples[m.group(1), m.group(2), m.group(3)] = int(m.group(4))
		ifn = sys.argv[3]
		assert samples['wgd_peers', ifn, None] == len(peers)
		for d in peers:
		    assert samples['wgd_peer_last_handshake_timestamp_seconds', ifn, d[0]] == int(d[4])
		    assert samples['wgd_peer_up', ifn, d[0]] == (int(d[4]) != 0)
		    assert samples['wgd_peer_receive_bytes_total', ifn, d[0]] == int(d[5])
		    assert samples['wgd_peer_transmit_bytes_total', ifn, d[0]] == int(d[6])
	PY
}

# --- scenarios -----------------------------------------------------------------

# After a handshake and traffic: every show form of wgctl equals wg's.
t_show() {
	local f
	DA=$(daemon_of "$1") DB=$WGD
	pair_up 4 psk
	wg set "$IF_A" fwmark 0x1234 peer "$PUB_B" persistent-keepalive 25
	flood "$ns1" "$INNER_B4"
	same_output show "$IF_A"
	WG_HIDE_KEYS=never same_output show "$IF_A"
	WG_COLOR_MODE=always same_output show "$IF_A"
	for f in "${FIELDS[@]}"; do
		same_output show "$IF_A" "$f"
	done
	same_output showconf "$IF_A"
	same_output show "$IF_B" dump
	# `all` lists every daemon on the host: compare only our interfaces' lines
	expect_eq "show all dump, our lines" \
		"$("$WGCTL" show all dump | grep -E "^($IF_A|$IF_B)	")" \
		"$(wg show all dump | grep -E "^($IF_A|$IF_B)	")"
	shows "$IF_A" "$WGCTL" show interfaces
	json_matches_dump "$IF_A"
	metrics_match "$IF_A"
	"$WGCTL" show --json | /usr/bin/python3 -c 'import json, sys; json.load(sys.stdin)' ||
		fail "show --json (all) is not JSON"
}

# wgctl set and syncconf leave the running session alone; syncconf removes a
# peer that left the file and adds one that joined.
t_sessions() {
	local h0 conf=$S/a.conf
	DA=$(daemon_of "$1") DB=$WGD
	pair_up 4 nopsk
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no first ping"
	h0=$(hs "$IF_A" "$PUB_B")
	[[ $h0 != 0 ]] || fail "no handshake"
	sleep 1.1 # a new handshake would now show a different second
	"$WGCTL" set "$IF_A" peer "$PUB_B" persistent-keepalive 25 allowed-ips +198.18.9.0/24
	expect_eq "allowed ips after +" "$(peer_field "$IF_A" allowed-ips "$PUB_B")" \
		"$INNER_B4/32 $INNER_B6/128 198.18.9.0/24"
	session_kept "$IF_A" "$PUB_B" "$h0" "$ns1" "$INNER_B4"
	if [[ $1 == wgd ]]; then
		"$WGCTL" set "$IF_A" peer "$PUB_B" allowed-ips -198.18.9.0/24
	else
		# Debian's wireguard-go predates "allowed_ip=-": refused whole, reported once
		! "$WGCTL" set "$IF_A" peer "$PUB_B" allowed-ips -198.18.9.0/24 2>"$S/err" ||
			fail "wireguard-go accepted a removal"
		expect_eq "go: refusal" "$(cat "$S/err")" \
			"wgctl: Unable to modify interface \`$IF_A': Invalid argument"
		"$WGCTL" set "$IF_A" peer "$PUB_B" allowed-ips "$INNER_B4/32,$INNER_B6/128"
	fi
	expect_eq "allowed ips after -" "$(peer_field "$IF_A" allowed-ips "$PUB_B")" \
		"$INNER_B4/32 $INNER_B6/128"

	# the running state as a file, plus a new peer C, then C gone again
	key_new c
	"$WGCTL" showconf "$IF_A" >"$conf"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.10.0/24\n' "$(pub c)" >>"$conf"
	sed -i 's/^PersistentKeepalive = 25$/PersistentKeepalive = 15/' "$conf"
	"$WGCTL" syncconf "$IF_A" "$conf"
	expect_eq "peers after syncconf" "$(wg show "$IF_A" peers | sort)" \
		"$(printf '%s\n%s\n' "$PUB_B" "$(pub c)" | sort)"
	expect_eq "keepalive after syncconf" \
		"$(peer_field "$IF_A" persistent-keepalive "$PUB_B")" 15
	session_kept "$IF_A" "$PUB_B" "$h0" "$ns1" "$INNER_B4"
	"$WGCTL" showconf "$IF_A" | sed '/^\[Peer\]$/,$d' >"$conf"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32, %s/128\nEndpoint = %s\n' "$PUB_B" \
		"$INNER_B4" "$INNER_B6" "$(site_ep 2 4 "$PORT_B")" >>"$conf"
	"$WGCTL" syncconf "$IF_A" "$conf"
	expect_eq "peers after the second syncconf" "$(wg show "$IF_A" peers)" "$PUB_B"
	expect_eq "keepalive dropped with the file's" \
		"$(peer_field "$IF_A" persistent-keepalive "$PUB_B")" off
	session_kept "$IF_A" "$PUB_B" "$h0" "$ns1" "$INNER_B4"

	# setconf replaces everything; the result is what the file says
	"$WGCTL" setconf "$IF_A" "$conf"
	expect_eq "showconf after setconf" "$("$WGCTL" showconf "$IF_A")" "$(wg showconf "$IF_A")"
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping after setconf"
}

# wgctl up/peer add --save/peer list/peer remove --save/reload/down with wgd -c.
t_peer_save() {
	local etc=$S/etc conf w
	conf=$etc/$IF_A.conf
	topo_up
	key_new a
	key_new c
	wg genpsk >"$S/psk"
	mkdir -p "$etc"
	cat >"$conf" <<-EOF
		# site A: kept through every edit
		[Interface]
		PrivateKey = $(cat "$S/a.key")
		ListenPort = $PORT_A
		Address = $INNER_A4/24

		# trailing comment
	EOF
	n1 env WGCTL_CONF_DIR="$etc" LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGCTL" up "$IF_A" \
		>>"$S/daemon-$IF_A.log" 2>&1 || fail "wgctl up exited with $?"
	[[ -S $(sock_path "$IF_A") ]] || fail "no socket after wgctl up"
	WGCTL_CONF_DIR=$etc "$WGCTL" peer add "$IF_A" "$(pub c)" allowed-ips 198.18.11.0/24 \
		endpoint "$(site_ep 2 4 "$PORT_B")" keepalive 25 psk-file "$S/psk" --save
	expect_eq "peers after add" "$(wg show "$IF_A" peers)" "$(pub c)"
	expect_eq "psk after add" "$(WG_HIDE_KEYS=never peer_field "$IF_A" preshared-keys "$(pub c)")" \
		"$(cat "$S/psk")"
	shows "# site A: kept through every edit" cat "$conf" || fail "comment lost by --save"
	shows "# trailing comment" cat "$conf" || fail "trailing comment lost by --save"
	shows "PublicKey = $(pub c)" cat "$conf" || fail "peer not saved"
	# the edited file parses, and syncing it changes nothing
	WGCTL_CONF_DIR=$etc "$WGCTL" syncconf "$IF_A" "$conf"
	expect_eq "peers after syncing the saved file" "$(wg show "$IF_A" allowed-ips)" \
		"$(pub c)	198.18.11.0/24"
	shows "$(pub c)	$(site_ep 2 4 "$PORT_B")	198.18.11.0/24	never	" "$WGCTL" peer list "$IF_A" ||
		fail "peer list"
	WGCTL_CONF_DIR=$etc "$WGCTL" reload "$IF_A"
	sleep 0.5
	expect_eq "peers after reload" "$(wg show "$IF_A" peers)" "$(pub c)"
	WGCTL_CONF_DIR=$etc "$WGCTL" peer remove "$IF_A" "$(pub c)" --save
	expect_eq "peers after remove" "$(wg show "$IF_A" peers)" ""
	! shows "$(pub c)" cat "$conf" || fail "removed peer still in the file"
	shows "# trailing comment" cat "$conf" || fail "comment lost by remove --save"
	! "$WGCTL" peer remove "$IF_A" "$(pub c)" 2>"$S/err" || fail "removing an absent peer succeeded"
	w=$(daemon_pid "$ns1" "$IF_A")
	"$WGCTL" down "$IF_A" || fail "wgctl down exited with $?"
	sock_gone "$IF_A" || fail "socket left after wgctl down"
	wait_for 5 pid_gone "$w" || fail "worker $w still runs after wgctl down"
}

# The same commands run wireguard-go: reload falls back to syncing the file,
# down sends SIGTERM to the process that holds the socket.
t_lifecycle_go() {
	local etc=$S/etc pid
	[[ -n $WIREGUARD_GO ]] || skip "wireguard-go not installed"
	topo_up
	daemon_start "$ns1" "$IF_A" "$WIREGUARD_GO"
	key_new a
	key_new c
	mkdir -p "$etc"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.12.0/24\n' \
		"$(cat "$S/a.key")" "$PORT_A" "$(pub c)" >"$etc/$IF_A.conf"
	WGCTL_CONF_DIR=$etc "$WGCTL" reload "$IF_A"
	expect_eq "go: peers after reload" "$(wg show "$IF_A" allowed-ips)" "$(pub c)	198.18.12.0/24"
	expect_eq "go: key after reload" "$(wg show "$IF_A" public-key)" "$(pub a)"
	pid=$(daemon_pid "$ns1" "$IF_A")
	# from the daemon's network namespace: elsewhere wgctl refuses (control.sh)
	n1 "$WGCTL" down "$IF_A" || fail "wgctl down (go) exited with $?"
	wait_for 5 pid_gone "$pid" || fail "wireguard-go $pid still runs"
}

# Bad input: one "wgctl: ..." line naming it, exit status 1.
t_errors() {
	local out
	expect_line() { # WANT ARGS...
		local want=$1 rc=0
		shift
		"$WGCTL" "$@" >"$S/out" 2>"$S/err" || rc=$?
		expect_eq "wgctl $* status" "$rc" 1
		expect_eq "wgctl $* stderr" "$(head -n 1 "$S/err")" "$want"
		[[ ! -s $S/out ]] || fail "wgctl $* wrote to stdout"
	}
	expect_line "wgctl: Unable to access interface \`wgnone$$': No such device" show "wgnone$$"
	expect_line "wgctl: Invalid port: \`abc'" set "wgnone$$" listen-port abc
	expect_line "wgctl: Invalid subcommand: \`bogus'" bogus
	expect_line "wgctl: Invalid interface name: \`a/b'" showconf a/b
	expect_line "wgctl: Key is not the correct length or format" pubkey </dev/null
	out=$("$WGCTL" --version)
	[[ $out == "wgctl v"* ]] || fail "--version: $out"
	shows "peer:" "$WGCTL" help || fail "help lacks the peer subcommand"
	out=$(wg genkey | tee "$S/k" | "$WGCTL" pubkey)
	expect_eq "pubkey" "$out" "$(wg pubkey <"$S/k")"
	"$WGCTL" genkey >"$S/k2"
	wg pubkey <"$S/k2" >/dev/null || fail "genkey output is not a key to wg"
	umask 022
	"$WGCTL" genkey >"$S/k3" 2>"$S/err"
	shows "Warning: writing to world accessible file." cat "$S/err" || fail "no genkey warning"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x $WGCTL ]] || { echo "ctl/wgctl not built"; return 77; }
	[[ -x $WGD ]] || { echo "wgd/wgd not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# -ge 2 ]] || exit 2; run_set CTL_TESTS wgd-ctl "$2" ;;
*) runner_main CTL_TESTS "$@" ;;
esac
