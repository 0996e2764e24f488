#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The daemon's life as a site admin sees it (wgd -c FILE IF): bring-up of
# addresses, MTU, routes and wg-quick's policy routing; teardown by SIGTERM
# (or `wgctl down` when wgctl has it); config errors that create nothing;
# SIGHUP reloads that keep sessions; the unprivileged worker; systemd
# notification; and the bare xplatform mode under wg-quick.  Same topology,
# helpers and output as netns.sh (lib.sh):
#
#  ns1: wa<id> (daemon A, wgd -c)  --veth--  ns0 (router)  --veth--  ns2: wb<id> (daemon B)
#
# Usage:
#   lifecycle.sh --check            0 if this host can run it, else 77 and a reason
#   lifecycle.sh --list             scenario names (after NETNS_ONLY)
#   lifecycle.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh;
# WGCTL=PATH (default ctl/wgctl) for `wgctl down`/`wgctl reload` when it has them.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
WGCTL=${WGCTL:-$repo/ctl/wgctl}

# shellcheck disable=SC2034 # read through a nameref
LIFECYCLE_TESTS=(
	"config-up-down 60 t_config_up_down"
	"config-parse-error 30 t_parse_error"
	"start-failure 60 t_start_failure"
	"full-tunnel 60 t_full_tunnel"
	"table-reload 60 t_table_reload"
	"reload-keeps-session 60 t_reload_session"
	"reload-invalid 60 t_reload_invalid"
	"worker-privileges 60 t_worker_privs"
	"process-hardening 60 t_hardening"
	"uapi-admin-group 60 t_admin_group"
	"linkdel-conf 60 t_linkdel_conf"
	"supervisor-sigkill 60 t_supervisor_sigkill"
	"systemd-notify 60 t_notify"
	"wg-quick-full-tunnel 90 t_wg_quick_bare"
)

PRIV_NET4=198.18.250.0/24
PRIV_NET6=2001:db8:250::/48
DUMMY_NET_OLD=198.18.251.0/24
DUMMY_NET_NEW=198.18.252.0/24
EXTRA_ADDR=198.18.253.1/24
POLICY_TABLE=51820 # wg-quick's default table and fwmark (wg-quick(8))

# --- helpers -------------------------------------------------------------------

ctl_has() {
	local out
	[[ -x $WGCTL ]] || return 1
	out=$("$WGCTL" help 2>&1) || true
	[[ $out == *"$1"* ]]
}

# stop IFNAME SUPERVISOR WORKER: `wgctl down` or SIGTERM; both processes end.
stop() {
	if ctl_has down; then
		"$WGCTL" down "$1" || fail "wgctl down $1 exited with $?"
	else
		kill -TERM "$2"
	fi
	wait_for 5 all_gone "$2" "$3" || fail "daemon ($2, $3) still runs 5 s after stopping"
	wait_for 2 sock_gone "$1" || fail "socket left behind"
}

# reload IFNAME SUPERVISOR: `wgctl reload` or SIGHUP.
reload() {
	if ctl_has reload; then
		"$WGCTL" reload "$1" || true # a refused file may make it fail; we judge the result
	else
		kill -HUP "$2"
	fi
}

log_has() { shows "$2" daemon_log "$1"; }

# peer_b FILE ALLOWEDIPS: B as A's peer, over the v4 outer path.
peer_b() {
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\nEndpoint = %s\n' \
		"$(pub b)" "$2" "$(site_ep 2 4 "$PORT_B")" >>"$1"
}

lacks_route() { ! shows "$1" ip1 route show "${@:2}"; }
link_gone() { ! ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
has_lines() { [[ -e $1 ]] && (($(wc -l <"$1") >= $2)); }

# no_daemon NS: no live process of $WGD's name in NS.
no_daemon() {
	local p name=${WGD##*/}
	for p in $(ip netns pids "$1"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == "${name:0:15}" ]] && ! pid_gone "$p" &&
			return 1
	done
	return 0
}

hooks_lines() { tr '\n' ' ' <"$S/hooks" | sed 's/ $//'; }

no_rules() { ! shows "lookup $POLICY_TABLE" ip1 "$1" rule show; }

# --- scenarios -----------------------------------------------------------------

# wgd -c: addresses, link up, MTU from the route towards the endpoint minus 80,
# one route per AllowedIPs prefix, hooks with %i; all gone after stopping.
t_config_up_down() {
	local conf=$S/a.conf w s mtu
	topo_up
	ip1 link set up0 mtu 1400 # the path towards B's endpoint: tunnel MTU 1320
	key_new a
	key_new b
	conf_a "$conf" "Address = $INNER_A4/24, $INNER_A6/64" \
		"PostUp = echo postup %i >>$S/hooks" "PreDown = echo predown %i >>$S/hooks" \
		"PostDown = echo postdown %i >>$S/hooks"
	peer_b "$conf" "$INNER_B4/32, $PRIV_NET4, $PRIV_NET6"
	start_conf "$ns1" "$IF_A" "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	shows "inet $INNER_A4/24" ip1 addr show dev "$IF_A" || fail "no $INNER_A4/24"
	shows "inet6 $INNER_A6/64" ip1 addr show dev "$IF_A" || fail "no $INNER_A6/64"
	shows ",UP," ip1 link show dev "$IF_A" || fail "link not up"
	mtu=$(ip1 -o link show dev "$IF_A" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	expect_eq "MTU (1400 path - 80)" "$mtu" 1320
	shows "$PRIV_NET4 proto static" ip1 route show dev "$IF_A" || fail "no route $PRIV_NET4"
	shows "$PRIV_NET6 proto static" ip1 -6 route show dev "$IF_A" || fail "no route $PRIV_NET6"
	shows "$INNER_B4 proto static" ip1 route show dev "$IF_A" || fail "no route $INNER_B4"
	expect_eq "allowed ips" "$(peer_field "$IF_A" allowed-ips "$(pub b)" | tr ' ' '\n' | sort | xargs)" \
		"$(printf '%s\n' "$INNER_B4/32" "$PRIV_NET4" "$PRIV_NET6" | sort | xargs)"
	expect_eq "hooks after up" "$(hooks_lines)" "postup $IF_A"
	stop "$IF_A" "$s" "$w"
	! ip1 link show dev "$IF_A" 2>/dev/null || fail "link left behind"
	! shows "$PRIV_NET4" ip1 route show || fail "route $PRIV_NET4 left behind"
	expect_eq "hooks after down" "$(hooks_lines)" "postup $IF_A predown $IF_A postdown $IF_A"
}

# expect_parse_error CONF LINE [ARGS...]: exit 1, stderr exactly one
# "FILE:LINE: message" line, and no link, socket or process.
expect_parse_error() {
	local conf=$1 line=$2 rc=0 err
	shift 2
	ip netns exec "$ns1" timeout 10 "$WGD" "$@" -c "$conf" "$IF_A" </dev/null \
		>"$S/out" 2>"$S/err" || rc=$?
	err=$(cat "$S/err")
	expect_eq "exit status" "$rc" 1
	expect_eq "stderr lines" "$(wc -l <"$S/err")" 1
	[[ $err =~ ^"$conf:$line: "[^[:space:]].* ]] || fail "stderr '$err' is not '$conf:$line: message'"
	expect_eq "stdout" "$(cat "$S/out")" ""
	! ip1 link show dev "$IF_A" 2>/dev/null || fail "a link was created"
	[[ ! -e $(sock_path "$IF_A") ]] || fail "a socket was created"
	expect_eq "processes in ns1" "$(ip netns pids "$ns1" | wc -l)" 0
}

# A config error (line 4 here) stops wgd before it creates anything, with or
# without -f.
t_parse_error() {
	local conf=$S/bad.conf
	topo_up
	key_new a
	conf_a "$conf" "FwMark = not-a-mark"
	expect_parse_error "$conf" 4
	expect_parse_error "$conf" 4 -f
	conf_a "$conf" "Address = $INNER_A4/24"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/8\nNoSuchKey = 1\n' "$(pub a)" >>"$conf"
	expect_parse_error "$conf" 8
}

# expect_start_failure CONF WHAT: `wgd -c CONF` exits 1 with an error on
# stderr mentioning WHAT, and leaves no link, socket, rule or process.
expect_start_failure() {
	local rc=0
	ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" timeout 10 "$WGD" -c "$1" "$IF_A" \
		</dev/null >"$S/out" 2>"$S/err" || rc=$?
	expect_eq "exit status" "$rc" 1
	shows "$2" cat "$S/err" || fail "stderr lacks '$2': $(cat "$S/err")"
	wait_for 2 link_gone "$ns1" "$IF_A" || fail "link left behind"
	[[ ! -e $(sock_path "$IF_A") ]] || fail "socket left behind"
	wait_for 2 no_daemon "$ns1" || fail "daemon processes left in $ns1"
	no_rules -4 || fail "policy rule left behind"
}

# A start that fails after the interface exists undoes everything: a PostUp
# hook that fails (PreDown/PostDown must not run), a ListenPort in use.
t_start_failure() {
	local conf=$S/a.conf upid
	topo_up
	key_new a
	key_new b
	conf_a "$conf" "Address = $INNER_A4/24" "PostUp = false" \
		"PreDown = echo predown >>$S/hooks" "PostDown = echo postdown >>$S/hooks"
	peer_b "$conf" "0.0.0.0/0"
	expect_start_failure "$conf" "PostUp hook 1 failed"
	[[ ! -e $S/hooks ]] || fail "down hooks ran after a failed start: $(hooks_lines)"
	n1 /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", int(sys.argv[1])))
time.sleep(30)' "$PORT_A" &
	upid=$!
	wait_for 5 udp_bound "$ns1" "$PORT_A" || fail "could not occupy port $PORT_A"
	conf_a "$conf" "Address = $INNER_A4/24"
	peer_b "$conf" "$PRIV_NET4"
	expect_start_failure "$conf" "wgd: cannot bind UDP port $PORT_A: Address already in use"
	kill "$upid"
}

# Table=auto with /0 routes: wg-quick's fwmark, rules and table 51820 for v4
# and v6; the rules (which outlive the link) are removed at shutdown.
t_full_tunnel() {
	local conf=$S/a.conf w s fam
	topo_up
	key_new a
	key_new b
	conf_a "$conf" "Address = $INNER_A4/24"
	peer_b "$conf" "0.0.0.0/0, ::/0"
	start_conf "$ns1" "$IF_A" "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "fwmark" "$(wg show "$IF_A" fwmark)" "$(printf '0x%x' $POLICY_TABLE)"
	for fam in -4 -6; do
		shows "not from all fwmark $(printf '0x%x' $POLICY_TABLE) lookup $POLICY_TABLE" \
			ip1 "$fam" rule show || fail "ip $fam: no 'not fwmark' rule"
		shows "lookup main suppress_prefixlength 0" ip1 "$fam" rule show ||
			fail "ip $fam: no suppress_prefixlength rule"
		shows "default dev $IF_A" ip1 "$fam" route show table $POLICY_TABLE ||
			fail "ip $fam: no default route in table $POLICY_TABLE"
	done
	expect_eq "src_valid_mark" "$(n1 sysctl -n net.ipv4.conf.all.src_valid_mark)" 1
	# wg-quick's nftables rules: anti-spoofing for the address, the fwmark through conntrack
	shows "iifname != \"$IF_A\" ip daddr $INNER_A4 fib saddr type != local drop" \
		n1 nft list table ip "wgd-$IF_A" || fail "no anti-spoofing rule for $INNER_A4"
	shows "meta l4proto udp meta mark $(printf '0x%08x' $POLICY_TABLE) ct mark set meta mark" \
		n1 nft list table ip "wgd-$IF_A" || fail "no postmangle rule"
	shows "meta l4proto udp meta mark set ct mark" n1 nft list table ip6 "wgd-$IF_A" ||
		fail "no ip6 premangle rule"
	stop "$IF_A" "$s" "$w"
	! n1 nft list table ip "wgd-$IF_A" >/dev/null 2>&1 || fail "ip table left behind"
	! n1 nft list table ip6 "wgd-$IF_A" >/dev/null 2>&1 || fail "ip6 table left behind"
	no_rules -4 || fail "v4 policy rule left behind"
	no_rules -6 || fail "v6 policy rule left behind"
	! shows "suppress_prefixlength" ip1 rule show || fail "suppress rule left behind"
}

# conf_a without its ListenPort line: any port will do.
no_port() { sed -i '/^ListenPort/d' "$1"; }

# Table=N puts the routes in table N; reloading to Table=off takes them away,
# and to Table=auto brings them to main.  Without a ListenPort the daemon
# keeps the random port it has across reloads.
t_table_reload() {
	local conf=$S/a.conf w s port
	topo_up
	key_new a
	key_new b
	conf_a "$conf" "Table = 1234"
	peer_b "$conf" "$PRIV_NET4"
	no_port "$conf"
	start_conf "$ns1" "$IF_A" "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	port=$(wg show "$IF_A" listen-port)
	shows "$PRIV_NET4 dev $IF_A" ip1 route show table 1234 || fail "no route in table 1234"
	! shows "$PRIV_NET4" ip1 route show table main || fail "route in main with Table=1234"
	conf_a "$conf" "Table = off"
	peer_b "$conf" "$PRIV_NET4"
	no_port "$conf"
	reload "$IF_A" "$s"
	wait_for 5 lacks_route "$PRIV_NET4" table 1234 ||
		fail "route still in table 1234 after reload to Table=off"
	! shows "$PRIV_NET4" ip1 route show table main || fail "Table=off added a route"
	conf_a "$conf"
	peer_b "$conf" "$PRIV_NET4"
	no_port "$conf"
	reload "$IF_A" "$s"
	wait_for 5 shows "$PRIV_NET4 dev $IF_A" ip1 route show table main ||
		fail "no route in main after reload to Table=auto"
	expect_eq "listen port after two reloads" "$(wg show "$IF_A" listen-port)" "$port"
	stop "$IF_A" "$s" "$w"
}

# A's config for the session scenario: B, plus a dummy peer D whose
# AllowedIPs is DNET; ADDRS the Address line.
conf_session() {
	conf_a "$S/a.conf" "Address = $1"
	peer_b "$S/a.conf" "$INNER_B4/32, $INNER_B6/128"
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(pub d)" "$2" >>"$S/a.conf"
}

# SIGHUP: B's session survives (same latest handshake, counters go on, no new
# handshake) while D's new AllowedIPs and a new address are applied.
t_reload_session() {
	local w s hs rx tx rx2 tx2
	topo_up
	key_new a
	key_new b
	key_new d
	conf_session "$INNER_A4/24" "$DUMMY_NET_OLD"
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' \
		"$(cat "$S/b.key")" "$PORT_B" "$INNER_B4" "$(pub a)" "$INNER_A4" >"$S/b.conf"
	start_conf "$ns2" "$IF_B" "$S/b.conf"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	ping1 "$ns1" "$INNER_B4" || fail "A -> B ping failed"
	hs=$(peer_field "$IF_A" latest-handshakes "$(pub b)")
	[[ $hs != 0 ]] || fail "no handshake"
	read -r rx tx <<<"$(peer_field "$IF_A" transfer "$(pub b)")"
	sleep 2 # a new handshake would now show a later second
	conf_session "$INNER_A4/24, $EXTRA_ADDR" "$DUMMY_NET_NEW"
	reload "$IF_A" "$s"
	wait_for 5 shows "$DUMMY_NET_NEW" wg show "$IF_A" allowed-ips || fail "reload not applied"
	expect_eq "D's allowed ips" "$(peer_field "$IF_A" allowed-ips "$(pub d)")" "$DUMMY_NET_NEW"
	shows "inet $EXTRA_ADDR" ip1 addr show dev "$IF_A" || fail "new address not added"
	shows "$DUMMY_NET_NEW dev $IF_A" ip1 route show || fail "no route for D's new prefix"
	! shows "$DUMMY_NET_OLD" ip1 route show || fail "D's old route left behind"
	ping1 "$ns1" "$INNER_B4" || fail "A -> B ping failed after the reload"
	expect_eq "B's latest handshake" "$(peer_field "$IF_A" latest-handshakes "$(pub b)")" "$hs"
	read -r rx2 tx2 <<<"$(peer_field "$IF_A" transfer "$(pub b)")"
	((rx2 > rx && tx2 > tx)) || fail "counters restarted: rx $rx -> $rx2, tx $tx -> $tx2"
	wait_for 5 log_has "$IF_A" "Reloaded" || fail "no 'Reloaded' in the log"
}

# A file that does not parse changes nothing: same dump, addresses and routes;
# its FILE:LINE: error is logged and the daemon goes on.
t_reload_invalid() {
	local conf=$S/a.conf w s
	topo_up
	key_new a
	key_new b
	conf_a "$conf" "Address = $INNER_A4/24"
	peer_b "$conf" "$PRIV_NET4"
	start_conf "$ns1" "$IF_A" "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	wg show "$IF_A" dump >"$S/dump.before"
	ip1 addr show dev "$IF_A" >"$S/addr.before"
	ip1 route show >"$S/route.before"
	# valid changes first, then an error on line 11: all or nothing
	conf_a "$conf" "Address = $EXTRA_ADDR" "MTU = 1300"
	peer_b "$conf" "$DUMMY_NET_NEW"
	echo "AllowedIPs = 10.1.2.3/33" >>"$conf"
	kill -HUP "$s" # the daemon's own check: `wgctl reload' refuses first (control.sh)
	wait_for 5 log_has "$IF_A" "Reload aborted" || fail "no 'Reload aborted' in the log"
	wait_for 5 log_has "$IF_A" "$conf:11: " || fail "the log lacks '$conf:11: ...'"
	wg show "$IF_A" dump >"$S/dump.after"
	ip1 addr show dev "$IF_A" >"$S/addr.after"
	ip1 route show >"$S/route.after"
	cmp -s "$S/dump.before" "$S/dump.after" || fail "wg show dump changed"
	cmp -s "$S/addr.before" "$S/addr.after" || fail "addresses changed"
	cmp -s "$S/route.before" "$S/route.after" || fail "routes changed"
	kill -0 "$s" "$w" || fail "the daemon died"
}

# The worker: wgd (else nobody; or User=), only CAP_NET_BIND_SERVICE and,
# with an fwmark, CAP_NET_ADMIN (confine.sh has the rest), no_new_privs, no
# groups; still able to set an fwmark; the socket stays root's and 0600.
t_worker_privs() {
	local w s ids uid gid
	topo_up
	key_new a
	conf_a "$S/a.conf" "FwMark = 0x4321"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	ids=$(getent passwd wgd | cut -d : -f 3,4 | tr : ' ') || ids="65534 65534"
	read -r uid gid <<<"$ids"
	expect_eq "worker Uid" "$(status_field "$w" Uid)" "$uid $uid $uid $uid"
	expect_eq "worker Gid" "$(status_field "$w" Gid)" "$gid $gid $gid $gid"
	expect_eq "worker Groups" "$(status_field "$w" Groups)" ""
	expect_eq "worker CapEff" "$(status_field "$w" CapEff)" 0000000000001400
	expect_eq "worker CapPrm" "$(status_field "$w" CapPrm)" 0000000000001400
	expect_eq "worker NoNewPrivs" "$(status_field "$w" NoNewPrivs)" 1
	expect_eq "supervisor Uid" "$(status_field "$s" Uid)" "0 0 0 0"
	expect_eq "socket owner and mode" "$(stat -c '%U %a' "$(sock_path "$IF_A")")" "root 600"
	wg set "$IF_A" fwmark 0x1234 || fail "wg set fwmark failed in the worker"
	expect_eq "fwmark" "$(wg show "$IF_A" fwmark)" 0x1234
	stop "$IF_A" "$s" "$w"
	getent passwd daemon >/dev/null || return 0
	conf_a "$S/a.conf" "User = daemon"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "worker Uid with User=daemon" "$(status_field "$w" Uid | cut -d ' ' -f 1)" \
		"$(getent passwd daemon | cut -d : -f 3)"
	stop "$IF_A" "$s" "$w"
	start_conf "$ns1" "$IF_A" "$S/a.conf" --user nobody
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "worker Uid with --user nobody" "$(status_field "$w" Uid | cut -d ' ' -f 1)" 65534
	stop "$IF_A" "$s" "$w"
}

# limit NAME PID: "soft hard" of one line of /proc/PID/limits.
limit() {
	awk -v k="$1" 'index($0, k) == 1 { n = split(substr($0, length(k) + 1), f, " +");
		for (i = 1; i <= n; i++) if (f[i] != "") o = o (o == "" ? "" : " ") f[i];
		split(o, g, " "); print g[1], g[2] }' "/proc/$2/limits"
}

# No core dumps and no ptrace/proc access by the worker's own user (PR_SET_DUMPABLE 0:
# the kernel then gives the worker's /proc files to root although it runs as nobody);
# key memory locked (VmLck), under the RLIMIT_MEMLOCK the supervisor raised.
t_hardening() {
	local w s soft hard
	topo_up
	key_new a
	key_new b
	conf_a "$S/a.conf"
	peer_b "$S/a.conf" "$INNER_B4/32"
	# started with a low soft memlock limit, which wgd raises (at least to the hard one)
	(ulimit -S -l 64 && start_conf "$ns1" "$IF_A" "$S/a.conf")
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "supervisor core limit" "$(limit "Max core file size" "$s")" "0 0"
	expect_eq "worker core limit" "$(limit "Max core file size" "$w")" "0 0"
	expect_eq "worker Uid" "$(status_field "$w" Uid | cut -d ' ' -f 1)" 65534
	expect_eq "owner of the worker's /proc entry" "$(stat -c %u "/proc/$w/status")" 0
	read -r soft hard <<<"$(limit "Max locked memory" "$w")"
	[[ $soft == "$hard" || $soft == 1073741824 ]] ||
		fail "worker memlock limit $soft (hard $hard): not raised from 64 KiB"
	(($(status_field "$w" VmLck | awk '{ print $1 }') >= 8)) ||
		fail "worker VmLck $(status_field "$w" VmLck): the device and peer are not locked"
	# nobody cannot read the worker's memory map, though it runs as nobody
	! setpriv --reuid 65534 --regid 65534 --clear-groups cat "/proc/$w/maps" \
		>/dev/null 2>&1 || fail "nobody can read /proc/$w/maps"
	stop "$IF_A" "$s" "$w"
}

# AdminGroup (or --admin-group): the socket becomes group-accessible (0660) and members
# (primary or supplementary group) may drive the daemon with the stock wg; others are
# refused by the daemon's SO_PEERCRED check even when the file's mode would let them in.
t_admin_group() {
	local w s gid=4242 as_nobody=(setpriv --reuid 65534 --regid 65534 --clear-groups)
	topo_up
	key_new a
	conf_a "$S/a.conf" "AdminGroup = $gid"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "socket owner, group and mode" "$(stat -c '%U %g %a' "$(sock_path "$IF_A")")" \
		"root $gid 660"
	expect_eq "listen port read by a member (primary group)" \
		"$(setpriv --reuid 65534 --regid "$gid" --clear-groups wg show "$IF_A" listen-port)" \
		"$PORT_A"
	setpriv --reuid 65534 --regid 65534 --groups "$gid" wg set "$IF_A" listen-port \
		$((PORT_A + 1)) || fail "a member (supplementary group) could not set the port"
	expect_eq "port set by a member" "$(wg show "$IF_A" listen-port)" $((PORT_A + 1))
	! "${as_nobody[@]}" wg show "$IF_A" >/dev/null 2>&1 || fail "a non-member could connect"
	chmod 0666 "$(sock_path "$IF_A")"
	! "${as_nobody[@]}" wg set "$IF_A" listen-port "$PORT_A" 2>/dev/null ||
		fail "the daemon served a non-member through a 0666 socket"
	! "${as_nobody[@]}" wg show "$IF_A" >/dev/null 2>&1 ||
		fail "the daemon answered a non-member through a 0666 socket"
	expect_eq "port after a refused set" "$(wg show "$IF_A" listen-port)" $((PORT_A + 1))
	stop "$IF_A" "$s" "$w"
	# without AdminGroup, the worker's own user (nobody) is refused too
	conf_a "$S/a.conf"
	start_conf "$ns1" "$IF_A" "$S/a.conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	expect_eq "socket mode without AdminGroup" "$(stat -c '%U %a' "$(sock_path "$IF_A")")" \
		"root 600"
	chmod 0666 "$(sock_path "$IF_A")"
	! "${as_nobody[@]}" wg show "$IF_A" >/dev/null 2>&1 ||
		fail "the daemon answered nobody, the worker's own user"
	stop "$IF_A" "$s" "$w"
}

# The link deleted under a configured daemon (as wg-quick down would): both
# processes exit, PostDown runs (PreDown cannot: the link is gone), and the
# policy rules, which outlive the link, are removed.
t_linkdel_conf() {
	local conf=$S/a.conf w s
	topo_up
	key_new a
	key_new b
	conf_a "$conf" "PreDown = echo predown >>$S/hooks" "PostDown = echo postdown >>$S/hooks"
	peer_b "$conf" "0.0.0.0/0"
	start_conf "$ns1" "$IF_A" "$conf"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	no_rules -4 && fail "no policy rule to begin with"
	ip1 link del dev "$IF_A"
	wait_for 5 all_gone "$w" "$s" || fail "daemon still runs 5 s after its link went"
	wait_for 2 sock_gone "$IF_A" || fail "socket left behind"
	no_rules -4 || fail "policy rule left behind"
	expect_eq "hooks" "$(hooks_lines)" postdown
}

# SIGKILL of the supervisor takes the worker (and so the link) down; a new
# daemon then starts over the stale socket.
t_supervisor_sigkill() {
	local w s
	topo_up
	daemon_start "$ns1" "$IF_A" "$WGD"
	read -r w s <<<"$(pids "$ns1" "$IF_A")"
	kill -KILL "$s"
	wait_for 5 pid_gone "$w" || fail "worker $w still runs 5 s after its supervisor was killed"
	wait_for 2 link_gone "$ns1" "$IF_A" || fail "link left behind"
	daemon_start "$ns1" "$IF_A" "$WGD"
	wg show "$IF_A" >/dev/null || fail "the new daemon does not answer"
}

# NOTIFY_SOCKET: READY=1 with MAINPID = the process we started (-f), then
# RELOADING=1 + MONOTONIC_USEC and READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
t_notify() {
	local pid rpid rc=0 msgs
	topo_up
	key_new a
	conf_a "$S/a.conf"
	/usr/bin/python3 - "$S/notify" "$S/messages" <<-'EOF' &
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[1])
		s.settimeout(20)
		with open(sys.argv[2], "w") as out:
		    while True:
		        m = s.recv(4096).decode()
		        out.write(m.replace("\n", " ") + "\n")
		        out.flush()
		        if m.startswith("STOPPING=1"):
		            break
	EOF
	rpid=$!
	wait_for 5 test -S "$S/notify" || fail "notify receiver did not start"
	ip netns exec "$ns1" env NOTIFY_SOCKET="$S/notify" LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" -f -c "$S/a.conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 &
	pid=$!
	wait_for 5 shows READY=1 cat "$S/messages" || fail "no READY=1"
	expect_eq "first message" "$(head -n 1 "$S/messages")" "READY=1 MAINPID=$pid"
	kill -HUP "$pid"
	wait_for 5 has_lines "$S/messages" 3 || fail "no notification after SIGHUP"
	[[ $(sed -n 2p "$S/messages") =~ ^RELOADING=1\ MONOTONIC_USEC=[0-9]+$ ]] ||
		fail "second message: '$(sed -n 2p "$S/messages")'"
	expect_eq "third message" "$(sed -n 3p "$S/messages")" "READY=1 MAINPID=$pid"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	expect_eq "exit status after SIGTERM" "$rc" 0
	wait "$rpid" || fail "notify receiver failed"
	msgs=$(wc -l <"$S/messages")
	expect_eq "last message" "$(tail -n 1 "$S/messages")" STOPPING=1
	expect_eq "message count" "$msgs" 4
}

# The bare daemon under wg-quick with a full tunnel: wg-quick's own `wg set
# fwmark` must work in the unprivileged worker; `wg-quick down` ends both
# processes and the socket.
t_wg_quick_bare() {
	local conf=$S/$IF_Q.conf w s
	command -v wg-quick >/dev/null || skip "wg-quick not installed"
	[[ -e /sys/module/wireguard ]] && skip "kernel WireGuard loaded: wg-quick would not use the daemon"
	topo_up
	key_new a
	key_new b
	printf '[Interface]\nPrivateKey = %s\nAddress = %s/24\n[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0\nEndpoint = %s\n' \
		"$(cat "$S/a.key")" "$INNER_A4" "$(pub b)" "$(site_ep 2 4 "$PORT_B")" >"$conf"
	n1 env WG_QUICK_USERSPACE_IMPLEMENTATION="$WGD" LOG_LEVEL="$NETNS_LOG_LEVEL" \
		timeout 30 wg-quick up "$conf" || fail "wg-quick up exited with $?"
	read -r w s <<<"$(pids "$ns1" "$IF_Q")"
	expect_eq "fwmark set by wg-quick" "$(wg show "$IF_Q" fwmark)" "$(printf '0x%x' $POLICY_TABLE)"
	expect_eq "worker Uid" "$(status_field "$w" Uid | cut -d ' ' -f 1)" 65534
	n1 timeout 30 wg-quick down "$conf" || fail "wg-quick down exited with $?"
	wait_for 5 all_gone "$w" "$s" || fail "daemon ($s, $w) still runs 5 s after down"
	wait_for 2 sock_gone "$IF_Q" || fail "socket left behind after down"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set LIFECYCLE_TESTS wgd-lifecycle "$2" ;;
*) runner_main LIFECYCLE_TESTS "$@" ;;
esac
