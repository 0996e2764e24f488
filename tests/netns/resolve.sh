#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Endpoint host names (wgd -c FILE IF with `Endpoint = NAME:PORT`): a name that
# does not resolve yet must not stop the start; the daemon keeps trying and
# sets the endpoint once the name resolves; the lookup runs in an unprivileged
# process, never as root; a reload while the name does not resolve keeps the
# endpoint in use.  Same topology, helpers and output as netns.sh (lib.sh):
#
#  ns1: wa<id> (wgd -c, names from /etc/netns/ns1/{hosts,resolv.conf})
#        --veth--  ns0 (router)  --veth--  ns2: wb<id> (wgd, bare, wg set)
#
# `ip netns exec NS` bind-mounts /etc/netns/NS/hosts and resolv.conf over
# /etc's, so the names ns1 sees are ours: the hosts file starts with localhost
# only, and resolv.conf points at a local DNS "server" that never answers, so a
# lookup of a name missing from the hosts file hangs until its timeout.
#
# Usage:
#   resolve.sh --check            0 if this host can run it, else 77 and a reason
#   resolve.sh --list             scenario names (after NETNS_ONLY)
#   resolve.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

# shellcheck disable=SC2034 # read through a nameref
RESOLVE_TESTS=(
	"endpoint-name-late 90 t_name_late"
)

NAME=site2-gw.test
OTHER_NAME=nowhere.test
DNS_TIMEOUT_S=5 # how long ns1's silent DNS server keeps a lookup waiting

# --- helpers -------------------------------------------------------------------

etc_dir() { echo "/etc/netns/$ns1"; }

# names_up: ns1's own hosts file (localhost only) and a DNS server that never
# answers; removed again when the scenario process exits, however it exits.
names_up() {
	local dir
	dir=$(etc_dir)
	trap 'rm -rf "$(etc_dir)"; rmdir /etc/netns 2>/dev/null || true' EXIT
	mkdir -p "$dir"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$dir/hosts"
	printf 'nameserver 127.0.0.1\noptions timeout:%s attempts:1\n' "$DNS_TIMEOUT_S" \
		>"$dir/resolv.conf"
	chmod 755 "$dir" # the scenario's umask is 077; the resolver is not root
	chmod 644 "$dir/hosts" "$dir/resolv.conf"
	# Receives queries and never reads them: each lookup waits for its timeout.
	n1 /usr/bin/python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
time.sleep(600)' &
	wait_for 5 udp_bound "$ns1" 53 || fail "silent DNS server did not start"
}

# proc_field PID KEY: the value of KEY in /proc/PID/status, tabs as spaces.
proc_field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# dns_asker: the pid of the process whose socket waits on ns1's DNS server.
dns_asker() {
	local out
	out=$(n1 ss -Hunap "dport = :53") || return 1
	[[ $out =~ pid=([0-9]+) ]] || return 1
	echo "${BASH_REMATCH[1]}"
}
dns_asked() { [[ -n $(dns_asker) ]]; }

endpoint_is() { [[ $(peer_field "$IF_A" endpoints "$(pub b)") == "$1" ]]; }
keepalive_is() { [[ $(peer_field "$IF_A" persistent-keepalive "$(pub b)") == "$1" ]]; }
handshake_done() { [[ $(peer_field "$IF_A" latest-handshakes "$(pub b)") != 0 ]]; }

# conf_a FILE ENDPOINT [EXTRA PEER LINES...]: A with B as its peer at ENDPOINT.
conf_a() {
	local f=$1 endpoint=$2 line
	shift 2
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24\n' \
			"$(cat "$S/a.key")" "$PORT_A" "$INNER_A4"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
			"$(pub b)" "$INNER_B4" "$endpoint"
		for line; do echo "$line"; done
	} >"$f"
}

# --- scenarios -----------------------------------------------------------------

# The peer's name resolves neither from the hosts file nor from DNS at start:
# the launcher still reports the interface up, the peer has no endpoint, and
# the lookup (hanging on DNS) runs as the worker's user without capabilities.
# Once the name is in the hosts file the endpoint follows and traffic flows.
# A reload naming a name that does not resolve keeps the endpoint in use.
t_name_late() {
	local conf=$S/a.conf rc=0 w s asker
	topo_up
	names_up
	key_new a
	key_new b
	daemon_start "$ns2" "$IF_B" "$WGD"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$(pub a)" allowed-ips "$INNER_A4/32"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	conf_a "$conf" "$NAME:$PORT_B"
	timeout -k 2 15 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -c "$conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 || rc=$?
	expect_eq "launcher exit status with an unresolvable endpoint name" "$rc" 0
	expect_eq "endpoint before the name resolves" \
		"$(peer_field "$IF_A" endpoints "$(pub b)")" "(none)"
	w=$(daemon_pid "$ns1" "$IF_A")
	s=$(proc_field "$w" PPid)
	wait_for 5 dns_asked || fail "nobody asks ns1's DNS server for $NAME"
	asker=$(dns_asker)
	[[ $asker != "$w" && $asker != "$s" ]] || fail "the DNS query comes from wgd's $asker itself"
	expect_eq "resolver's parent" "$(proc_field "$asker" PPid)" "$s"
	expect_eq "resolver's uids" "$(proc_field "$asker" Uid)" "65534 65534 65534 65534"
	expect_eq "resolver's groups" "$(proc_field "$asker" Groups)" ""
	expect_eq "resolver's effective capabilities" "$(proc_field "$asker" CapEff)" 0000000000000000
	expect_eq "resolver's permitted capabilities" "$(proc_field "$asker" CapPrm)" 0000000000000000
	expect_eq "resolver's NoNewPrivs" "$(proc_field "$asker" NoNewPrivs)" 1
	# In place: the bind mount follows the inode, so no sed -i or mv.
	printf '%s\t%s\n' "$SITE2_HOST4" "$NAME" >>"$(etc_dir)/hosts"
	# The pending lookup ends after DNS_TIMEOUT_S, the retry after 1 s more.
	wait_for $((DNS_TIMEOUT_S + 20)) endpoint_is "$SITE2_HOST4:$PORT_B" ||
		fail "endpoint not set after $NAME resolved (shows '$(peer_field "$IF_A" endpoints "$(pub b)")')"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel"
	handshake_done || fail "no handshake with the peer"
	# Reload to a name that does not resolve: the endpoint in use stays.
	conf_a "$conf" "$OTHER_NAME:$PORT_B" "PersistentKeepalive = 25"
	kill -HUP "$s"
	wait_for 10 keepalive_is 25 || fail "the reload did not apply"
	wait_for 5 dns_asked || fail "nobody asks ns1's DNS server for $OTHER_NAME"
	endpoint_is "$SITE2_HOST4:$PORT_B" ||
		fail "reload cleared the endpoint (shows '$(peer_field "$IF_A" endpoints "$(pub b)")')"
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping after the reload"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x /usr/bin/python3 ]] || { echo "/usr/bin/python3 missing (the silent DNS server)"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set RESOLVE_TESTS wgd-resolve "$2" ;;
*) runner_main RESOLVE_TESTS "$@" ;;
esac
