# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Scenarios for tests/netns/netns.sh (bash, sourced).  Each t_* function runs
# in its own process with `set -e`, $S as scratch directory, daemon commands in
# $DA (ns1) and $DB (ns2); netns.sh tears the namespaces down afterwards.
# shellcheck disable=SC2154 # names and addresses come from lib.sh

# Low-order Curve25519 points, as in the kernel selftest (PROTOCOL.md c.5).
LOW_ORDER_KEYS=(
	AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=
	X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=
	7P///////////////////////////////////////38=
	7f///////////////////////////////////////38=
	7v///////////////////////////////////////38=
)

# --- pairs: A ($DA) in ns1, B ($DB) in ns2 ---------------------------------

# First handshake + 10 flood pings from B: exact transfer counters on both
# ends, 148 + 10 x 128 out (+32 keepalive), 92 + 10 x 128 back (kernel a.1 #1).
t_counters() {
	local rx tx
	pair_up "$1" "$2"
	flood "$ns2" "$INNER_A4"
	read -r rx tx <<<"$(peer_field "$IF_B" transfer "$PUB_A")"
	expect_eq "B (pinging side) rx bytes" "$rx" 1372
	expect_eq "B (pinging side) tx bytes" "$tx" 1428 1460
	read -r rx tx <<<"$(peer_field "$IF_A" transfer "$PUB_B")"
	expect_eq "A rx bytes" "$rx" 1428 1460
	expect_eq "A tx bytes" "$tx" 1372
	[[ $(peer_field "$IF_A" latest-handshakes "$PUB_B") != 0 ]] || fail "A: latest-handshake is 0"
	[[ $(peer_field "$IF_B" latest-handshakes "$PUB_A") != 0 ]] || fail "B: latest-handshake is 0"
}

# Inner v4 and v6 flood pings both ways over the given outer family.
t_ping() {
	pair_up "$1" psk
	flood "$ns1" "$INNER_B4"
	flood "$ns2" "$INNER_A4"
	flood "$ns1" "$INNER_B6"
	flood "$ns2" "$INNER_A6"
}

# iperf_once CLIENT_NS SERVER_NS SERVER_ADDR [IPERF ARGS]: one 3 s run that
# both ends finish with status 0 and in which the receiver counted bytes.
iperf_once() {
	local cns=$1 sns=$2 addr=$3 spid got
	shift 3
	ip netns exec "$sns" timeout 20 iperf3 -s -1 -B "$addr" >"$S/iperf-server.log" 2>&1 &
	spid=$!
	wait_for 5 tcp_listening "$sns" 5201 || fail "iperf3 server on $addr did not start"
	ip netns exec "$cns" timeout 20 iperf3 -c "$addr" -t 3 -J "$@" >"$S/iperf.json" ||
		fail "iperf3 -c $addr $*: client exited with $?"
	wait "$spid" || fail "iperf3 server on $addr exited with $?"
	# What the receiver counted: bytes for TCP, packets not lost for UDP.
	got=$(/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(r["packets"] - r["lost_packets"] if "lost_packets" in r else r["bytes"])' "$S/iperf.json")
	((got > 0)) || fail "iperf3 -c $addr $*: the receiver counted nothing"
	echo "iperf3 -c $addr $*: received $got (bytes for TCP, packets for UDP)"
}

# iperf3 for 3 s each way, TCP or UDP at 200 Mbit/s, inner and outer family
# alike.
t_iperf() {
	local proto=$1 fam=$2 extra=() a b
	command -v iperf3 >/dev/null || skip "iperf3 not installed"
	[[ $proto == udp ]] && extra=(-u -b 200M)
	pair_up "$fam" psk
	a=INNER_A$fam
	b=INNER_B$fam
	iperf_once "$ns1" "$ns2" "${!b}" "${extra[@]}"
	iperf_once "$ns2" "$ns1" "${!a}" "${extra[@]}"
}

# Roaming: ns1 moves to a new address and listen port; B must learn the new
# endpoint from authenticated packets alone (kernel a.1 #5).
t_roaming() {
	local fam=$1 old new gw len inner_a inner_b port=$((PORT_A + 100))
	pair_up "$fam" psk
	if [[ $fam == 4 ]]; then
		old=$SITE1_HOST4 new=$SITE1_ROAM4 gw=$SITE1_GW4 len=24
		inner_a=$INNER_A4 inner_b=$INNER_B4
	else
		old=$SITE1_HOST6 new=$SITE1_ROAM6 gw=$SITE1_GW6 len=64
		inner_a=$INNER_A6 inner_b=$INNER_B6
	fi
	ping1 "$ns1" "$inner_b" || fail "no tunnel before roaming"
	ip1 addr add "$new/$len" dev up0 nodad
	ip1 addr del "$old/$len" dev up0
	ip1 -"$fam" route replace default via "$gw"
	wg set "$IF_A" listen-port "$port" peer "$PUB_B" endpoint "$(site_ep 2 "$fam" "$PORT_B")"
	wait_for 5 udp_bound "$ns1" "$port" || fail "A did not rebind to port $port"
	ping1 "$ns1" "$inner_b" || fail "A -> B ping failed after roaming"
	expect_eq "B's endpoint for A" "$(peer_field "$IF_B" endpoints "$PUB_A")" "$(ep "$new" "$port")"
	ping1 "$ns2" "$inner_a" || fail "B -> A ping failed after roaming"
}

# Crypto-RP filter: once another peer owns B's inner /32, A drops what B
# sends from it, yet A still takes B's new endpoint from those packets
# (kernel a.1 #6).
t_crypto_rp() {
	local port=$((PORT_B + 100))
	pair_up 4 psk
	wg set "$IF_A" peer "$PUB_B" allowed-ips "$INNER_NET4,$INNER_B6/128"
	ping1 "$ns2" "$INNER_A4" || fail "B -> A ping failed with a /24 allowed-ips"
	key_new c
	wg set "$IF_A" peer "$(pub c)" allowed-ips "$INNER_B4/32"
	wg set "$IF_B" listen-port "$port"
	wait_for 5 udp_bound "$ns2" "$port" || fail "B did not rebind to port $port"
	! n2 timeout 6 ping -q -c 2 -W 1 -w 3 "$INNER_A4" ||
		fail "A accepted $INNER_B4 from B although another peer owns $INNER_B4/32"
	expect_eq "A's endpoint for B (updated by the dropped packets)" \
		"$(peer_field "$IF_A" endpoints "$PUB_B")" "$(ep "$SITE2_HOST4" "$port")"
	wg set "$IF_A" peer "$(pub c)" remove
	ping1 "$ns2" "$INNER_A4" || fail "B -> A ping failed after the /32 owner was removed"
}

# A changes its private key and B swaps its peer entry: the very next ping
# needs a handshake at once, not after REKEY_TIMEOUT (kernel a.1 #7).
t_key_change() {
	pair_up 4 psk
	flood "$ns1" "$INNER_B4"
	key_new a2
	wg set "$IF_A" private-key "$S/a2.key"
	wg set "$IF_B" peer "$(pub a2)" preshared-key "$S/psk" \
		allowed-ips "$INNER_A4/32,$INNER_A6/128" peer "$PUB_A" remove
	# 3 s: well below the 5 s a rate-limited initiation would have to wait.
	n1 timeout 6 ping -q -c 1 -W 3 "$INNER_B4" || fail "no handshake within 3 s of the key change"
	expect_eq "B's peers" "$(wg show "$IF_B" peers)" "$(pub a2)"
}

# nat_up: ns0 masquerades site1 behind 198.51.100.1 with a 2 s UDP
# conntrack timeout, and lets nothing new in from site2.
nat_up() {
	n0 nft -f - <<-EOF
		table inet wgdnat {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				ip saddr 192.0.2.0/24 oifname "site2" snat ip to $SITE2_GW4
			}
			chain forward_new {
				type filter hook forward priority filter; policy accept;
				iifname "site2" oifname "site1" ct state new drop
			}
		}
	EOF
	n0 sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 \
		net.netfilter.nf_conntrack_udp_timeout_stream=2
}

# NAT + persistent keepalive 1: B only knows A's SNAT address; A's keepalives
# hold the 2 s mapping so B still reaches A after 3 s (kernel a.1 #10).
t_nat() {
	pair_up 4 psk a-only
	nat_up
	wg set "$IF_A" peer "$PUB_B" persistent-keepalive 1
	ping1 "$ns1" "$INNER_B4" || fail "A -> B ping through NAT failed"
	ping1 "$ns2" "$INNER_A4" || fail "B -> A ping through NAT failed"
	expect_eq "B's endpoint for A" "$(peer_field "$IF_B" endpoints "$PUB_A")" \
		"$(ep "$SITE2_GW4" "$PORT_A")"
	sleep 3
	ping1 "$ns2" "$INNER_A4" || fail "B -> A failed after 3 s: keepalives did not hold the NAT mapping"
}

# conf_norm FILE: showconf output with peers and allowed-ips in a fixed order
# (wireguard-go lists peers in map order).
conf_norm() {
	/usr/bin/python3 - "$1" <<-'EOF'
		import sys
		blocks, cur = [], []
		for line in open(sys.argv[1]).read().splitlines():
		    if line.startswith("[") and cur:
		        blocks.append(cur)
		        cur = []
		    if line.startswith("AllowedIPs = "):
		        ips = sorted(line[13:].split(", "))
		        line = "AllowedIPs = " + ", ".join(ips)
		    if line:
		        cur.append(line)
		blocks.append(cur)
		head, peers = blocks[0], sorted(blocks[1:])
		print("\n".join(head + [l for b in peers for l in b]))
	EOF
}

# wg show / showconf / setconf / addconf / syncconf against the daemons: A's
# config survives a round trip through B's daemon type; syncconf leaves an
# unchanged peer's session alone.
t_tools() {
	local hs0 hs1 rx0 tx0 rx1 tx1 out
	pair_up 4 psk
	key_new x
	key_new y
	key_new z
	wg set "$IF_A" fwmark 0x2a peer "$PUB_B" persistent-keepalive 25 \
		peer "$(pub x)" allowed-ips 198.18.250.0/24,2001:db8:250::/48 \
		endpoint "$(ep "$SITE2_HOST6" 4444)"
	wg showconf "$IF_A" >"$S/a.conf"
	out=$(wg show "$IF_A")
	for want in "interface: $IF_A" "public key: $PUB_A" "listening port: $PORT_A" \
		"fwmark: 0x2a" "peer: $PUB_B" "preshared key: (hidden)" \
		"endpoint: $SITE2_HOST4:$PORT_B" "allowed ips: $INNER_B4/32, $INNER_B6/128" \
		"persistent keepalive: every 25 seconds" "peer: $(pub x)" \
		"endpoint: [$SITE2_HOST6]:4444"; do
		grep -qF -- "$want" <<<"$out" || fail "wg show lacks '$want'"
	done
	wg show "$IF_A" dump >"$S/dump"
	[[ $(awk 'NR == 1 { print NF }' "$S/dump") == 4 ]] || fail "dump: interface line is not 4 fields"
	[[ $(awk 'NR > 1 && NF == 8' "$S/dump" | wc -l) == 2 ]] || fail "dump: want 2 peer lines of 8 fields"

	# C takes A's identity; an isolated namespace keeps it from talking to B.
	ip netns add "$ns3"
	daemon_start "$ns3" "$IF_C" "$DB"
	wg setconf "$IF_C" "$S/a.conf"
	wg showconf "$IF_C" >"$S/c.conf"
	diff -u <(conf_norm "$S/a.conf") <(conf_norm "$S/c.conf") ||
		fail "showconf -> setconf -> showconf changed the config"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.251.0/24\n' "$(pub y)" >"$S/y.conf"
	wg addconf "$IF_C" "$S/y.conf"
	expect_eq "peers after addconf" "$(wg show "$IF_C" peers | sort | xargs)" \
		"$(printf '%s\n' "$PUB_B" "$(pub x)" "$(pub y)" | sort | xargs)"
	expect_eq "B's allowed-ips after addconf" "$(peer_field "$IF_C" allowed-ips "$PUB_B")" \
		"$INNER_B4/32 $INNER_B6/128"
	expect_eq "new peer's allowed-ips" "$(peer_field "$IF_C" allowed-ips "$(pub y)")" 198.18.251.0/24

	flood "$ns1" "$INNER_B4"
	hs0=$(peer_field "$IF_A" latest-handshakes "$PUB_B")
	read -r rx0 tx0 <<<"$(peer_field "$IF_A" transfer "$PUB_B")"
	sleep 1.2 # a fresh handshake would now show another second
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nFwMark = 0x2a\n' \
			"$(cat "$S/a.key")" "$PORT_A"
		printf '[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = %s\n' \
			"$PUB_B" "$(cat "$S/psk")" "$INNER_B4/32, $INNER_B6/128"
		printf 'Endpoint = %s\nPersistentKeepalive = 25\n' "$(site_ep 2 4 "$PORT_B")"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.252.0/24\n' "$(pub z)"
	} >"$S/sync.conf"
	wg syncconf "$IF_A" "$S/sync.conf"
	expect_eq "peers after syncconf" "$(wg show "$IF_A" peers | sort | xargs)" \
		"$(printf '%s\n' "$PUB_B" "$(pub z)" | sort | xargs)"
	flood "$ns1" "$INNER_B4"
	hs1=$(peer_field "$IF_A" latest-handshakes "$PUB_B")
	read -r rx1 tx1 <<<"$(peer_field "$IF_A" transfer "$PUB_B")"
	expect_eq "latest-handshake of the unchanged peer after syncconf" "$hs1" "$hs0"
	((rx1 > rx0 && tx1 > tx0)) || fail "counters restarted after syncconf: rx $rx0 -> $rx1, tx $tx0 -> $tx1"
}

# wg-quick up/down with the daemon as WG_QUICK_USERSPACE_IMPLEMENTATION:
# address, routes and traffic after up; link, daemon and socket gone after
# down.
t_wg_quick() {
	local conf=$S/$IF_Q.conf pid
	command -v wg-quick >/dev/null || skip "wg-quick not installed"
	[[ -e /sys/module/wireguard ]] && skip "kernel WireGuard loaded: wg-quick would not use the daemon"
	topo_up
	daemon_start "$ns2" "$IF_B" "$DB"
	key_new a
	key_new b
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$(pub a)" allowed-ips "$INNER_A4/32,$INNER_A6/128"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	cat >"$conf" <<-EOF
		[Interface]
		PrivateKey = $(cat "$S/a.key")
		ListenPort = $PORT_A
		Address = $INNER_A4/24, $INNER_A6/64

		[Peer]
		PublicKey = $(pub b)
		AllowedIPs = $INNER_B4/32, $INNER_B6/128
		Endpoint = $(site_ep 2 4 "$PORT_B")
	EOF
	n1 env WG_QUICK_USERSPACE_IMPLEMENTATION="$DA" LOG_LEVEL="$NETNS_LOG_LEVEL" \
		timeout 30 wg-quick up "$conf" || fail "wg-quick up exited with $?"
	shows "tun " ip1 -d link show dev "$IF_Q" || fail "$IF_Q is not a TUN device"
	shows "inet $INNER_A4/24" ip1 addr show dev "$IF_Q" || fail "no $INNER_A4/24 on $IF_Q"
	shows "inet6 $INNER_A6/64" ip1 addr show dev "$IF_Q" || fail "no $INNER_A6/64 on $IF_Q"
	shows "dev $IF_Q " ip1 route get "$INNER_B4" || fail "no v4 route to $INNER_B4 via $IF_Q"
	shows "dev $IF_Q " ip1 route get "$INNER_B6" || fail "no v6 route to $INNER_B6 via $IF_Q"
	pid=$(daemon_pid "$ns1" "$IF_Q")
	[[ -n $pid ]] || fail "no process serves $(sock_path "$IF_Q")"
	ping1 "$ns1" "$INNER_B4" || fail "v4 ping over the wg-quick tunnel failed"
	wait_for 3 ping1 "$ns1" "$INNER_B6" || fail "v6 ping over the wg-quick tunnel failed"
	n1 timeout 30 wg-quick down "$conf" || fail "wg-quick down exited with $?"
	! ip1 link show dev "$IF_Q" 2>/dev/null || fail "$IF_Q still exists after down"
	wait_for 5 ns_quiet "$ns1" || fail "daemon still runs 5 s after down: $(ip netns pids "$ns1" | xargs)"
	wait_for 2 sock_gone "$IF_Q" || fail "socket left behind after down"
}

# --- single daemon ($DA in ns1) -----------------------------------------------

# One peer with 255 x 256 v4 /16 and as many v6 /128 set in one setconf:
# `wg show allowed-ips` gives back the key and all 130 560 (kernel a.1 #16).
t_allowedips_big() {
	local words
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	key_new a
	key_new p
	awk -v k="$(cat "$S/a.key")" -v p="$(pub p)" 'BEGIN {
		print "[Interface]\nPrivateKey = " k "\n[Peer]\nPublicKey = " p
		for (a = 1; a <= 255; a++)
			for (b = 0; b <= 255; b++)
				printf "AllowedIPs = %d.%d.0.0/16, %d::%d/128\n", a, b, a, b
	}' >"$S/conf.big"
	timeout 120 wg setconf "$IF_A" "$S/conf.big" || fail "wg setconf exited with $? (124: timed out)"
	words=$(timeout 60 wg show "$IF_A" allowed-ips | wc -w)
	expect_eq "words in wg show allowed-ips" "$words" 130561
}

# 40 peers with 52 allowed-ips each: one line per peer, key plus 52 ranges
# (kernel a.1 #16, split UAPI answers).
t_allowedips_many() {
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	/usr/bin/python3 - "$(wg genkey)" <<-'EOF' >"$S/conf"
		import base64, os, sys
		print("[Interface]\nPrivateKey = " + sys.argv[1])
		for a in range(1, 41):
		    print("[Peer]\nPublicKey = " + base64.b64encode(os.urandom(32)).decode())
		    for b in range(1, 53):
		        print("AllowedIPs = %d.%d.0.0/16" % (a, b))
	EOF
	timeout 60 wg setconf "$IF_A" "$S/conf"
	wg show "$IF_A" allowed-ips >"$S/out"
	expect_eq "peer lines" "$(wc -l <"$S/out")" 40
	expect_eq "lines without 53 words" "$(awk 'NF != 53' "$S/out" | wc -l)" 0
}

counter_packets() {
	n1 nft list counter inet wgdcount "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# Seven peers with low-order public keys and keepalive 1: no packet may leave
# in 2 s (kernel a.1 #19); a normal peer beside them proves we would see one.
t_low_order() {
	local k lo ctl
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	key_new a
	key_new ctl
	n1 nft -f - <<-EOF
		table inet wgdcount {
			counter loworder { }
			counter control { }
			chain out {
				type filter hook output priority filter; policy accept;
				udp dport 1111 counter name loworder
				udp dport 2222 counter name control
			}
		}
	EOF
	ip1 link set "$IF_A" up
	wg set "$IF_A" private-key "$S/a.key" listen-port "$PORT_A"
	for k in "${LOW_ORDER_KEYS[@]}"; do
		# Refusing such a peer outright is fine as well.
		wg set "$IF_A" peer "$k" persistent-keepalive 1 endpoint "$(ep "$SITE2_HOST4" 1111)" ||
			echo "daemon refused low-order peer $k"
	done
	wg set "$IF_A" peer "$(pub ctl)" persistent-keepalive 1 endpoint "$(ep "$SITE2_HOST4" 2222)"
	sleep 2
	lo=$(counter_packets loworder)
	ctl=$(counter_packets control)
	expect_eq "packets sent to low-order peers" "$lo" 0
	((ctl > 0)) || fail "the control peer sent nothing either, so the check proves nothing"
}

# Key semantics over UAPI: /dev/null clears keys, a peer with our own public
# key is ignored and one that becomes ours is dropped (kernel a.1 #18).
t_uapi_keys() {
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	key_new a
	key_new b
	key_new p
	wg set "$IF_A" private-key "$S/a.key" peer "$(pub p)" preshared-key "$S/b.key"
	expect_eq "private key" "$(wg show "$IF_A" private-key)" "$(cat "$S/a.key")"
	expect_eq "public key" "$(wg show "$IF_A" public-key)" "$(pub a)"
	expect_eq "preshared key" "$(peer_field "$IF_A" preshared-keys "$(pub p)")" "$(cat "$S/b.key")"
	wg set "$IF_A" peer "$(pub p)" preshared-key /dev/null
	expect_eq "preshared key after /dev/null" "$(peer_field "$IF_A" preshared-keys "$(pub p)")" "(none)"
	wg set "$IF_A" peer "$(pub a)"
	expect_eq "peers after adding our own key" "$(wg show "$IF_A" peers)" "$(pub p)"
	wg set "$IF_A" private-key "$S/p.key"
	expect_eq "peers after taking a peer's key" "$(wg show "$IF_A" peers)" ""
	wg set "$IF_A" private-key /dev/null
	expect_eq "private key after /dev/null" "$(wg show "$IF_A" private-key)" "(none)"
}

# Deleting the link ends every process of the daemon and removes its UAPI
# socket.
t_exit_linkdel() {
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	[[ -n $(daemon_pid "$ns1" "$IF_A") ]] || fail "no process serves $(sock_path "$IF_A")"
	ip1 link del dev "$IF_A"
	wait_for 5 ns_quiet "$ns1" ||
		fail "daemon still runs 5 s after its link was deleted: $(ip netns pids "$ns1" | xargs)"
	wait_for 2 sock_gone "$IF_A" || fail "socket left behind"
}

# SIGTERM to the process serving the UAPI socket ends every process of the
# daemon; its link and its UAPI socket go with it.
t_exit_sigterm() {
	local pid
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	pid=$(daemon_pid "$ns1" "$IF_A")
	[[ -n $pid ]] || fail "no process serves $(sock_path "$IF_A")"
	kill -TERM "$pid"
	wait_for 5 ns_quiet "$ns1" ||
		fail "daemon still runs 5 s after SIGTERM to $pid: $(ip netns pids "$ns1" | xargs)"
	wait_for 2 sock_gone "$IF_A" || fail "socket left behind"
	! ip1 link show dev "$IF_A" 2>/dev/null || fail "link left behind"
}

# --foreground: the process we started stays (a service manager watches
# that pid) until SIGTERM to it, which ends the daemon with status 0.
t_foreground() {
	local pid rc=0
	topo_up
	ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" "$DA" --foreground "$IF_A" \
		</dev/null >>"$S/daemon-$IF_A.log" 2>&1 &
	pid=$!
	wait_for 5 test -S "$(sock_path "$IF_A")" || fail "no UAPI socket 5 s after start"
	[[ -n $(daemon_pid "$ns1" "$IF_A") ]] || fail "no process serves $(sock_path "$IF_A")"
	ip1 link show dev "$IF_A" >/dev/null || fail "no link"
	sleep 0.5
	! pid_gone "$pid" || fail "the started process $pid exited: it did not stay in the foreground"
	kill -TERM "$pid"
	wait_for 5 pid_gone "$pid" || fail "daemon still runs 5 s after SIGTERM"
	wait "$pid" || rc=$?
	expect_eq "exit status after SIGTERM" "$rc" 0
	wait_for 5 ns_quiet "$ns1" || fail "daemon processes left: $(ip netns pids "$ns1" | xargs)"
	wait_for 2 sock_gone "$IF_A" || fail "socket left behind"
}

# `ip link set IF down` stops the tunnel, as the kernel module's wg_stop does:
# sessions and timers go, so A sends nothing to B even with persistent
# keepalive 1 (nft counts A's datagrams to B's port); the peer's latest
# handshake time stays, as it does in the kernel and wireguard-go (a peer
# attribute wg_stop leaves alone). `ip link set IF up` brings the tunnel
# back with a new handshake. Debian's wireguard-go (0.0.20220316) cannot be the
# reference here: on this kernel an empty TUN write gives EINVAL whether the link
# is up or down, which its probe reads as "up", so it never sees the link go down.
t_link_down() {
	local hs before after t0
	[[ ${DA##*/} != wireguard-go ]] ||
		skip "wireguard-go 0.0.20220316 does not see the link go down on this kernel"
	pair_up 4 nopsk
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no ping through the tunnel before down"
	n1 nft -f - <<-EOF
		table inet wgdcount {
			counter tob { }
			chain out {
				type filter hook output priority filter; policy accept;
				udp dport $PORT_B counter name tob
			}
		}
	EOF
	wg set "$IF_A" peer "$PUB_B" persistent-keepalive 1
	sleep 2
	(($(counter_packets tob) > 0)) || fail "A sent nothing to B while up: the count proves nothing"
	hs=$(peer_field "$IF_A" latest-handshakes "$PUB_B")
	ip1 link set "$IF_A" down
	sleep 1
	before=$(counter_packets tob)
	sleep 10
	after=$(counter_packets tob)
	expect_eq "datagrams A sent to B in 10 s while down" "$((after - before))" 0
	expect_eq "latest handshake while down" "$(peer_field "$IF_A" latest-handshakes "$PUB_B")" "$hs"
	expect_eq "listen port while down" "$(wg show "$IF_A" listen-port)" "$PORT_A"
	ip1 link set "$IF_A" up
	t0=$SECONDS
	until ping1 "$ns1" "$INNER_B4" >/dev/null; do
		((SECONDS - t0 < 5)) || fail "no ping through the tunnel 5 s after up"
	done
	(($(peer_field "$IF_A" latest-handshakes "$PUB_B") > hs)) ||
		fail "no new handshake after up"
	expect_eq "listen port after up" "$(wg show "$IF_A" listen-port)" "$PORT_A"
}

# A bare daemon's link starts at 1420 (1500 - 80), as wireguard-go's and the kernel's do,
# so a tunnel configured with wg alone fits a 1500-byte path unfragmented; checked both
# with `ip` and with a maximum-size DF ping through the tunnel.
t_default_mtu() {
	pair_up 4 nopsk
	ip1 -o link show dev "$IF_A" | grep -q ' mtu 1420 ' ||
		fail "MTU of $IF_A: $(ip1 -o link show dev "$IF_A" | grep -o 'mtu [0-9]*')"
	ip netns exec "$ns1" ping -c 2 -W 2 -i 0.3 -M do -s 1392 "$INNER_B4" >/dev/null ||
		fail "a 1420-byte DF ping through the tunnel failed"
	! ip netns exec "$ns1" ping -c 1 -W 1 -M do -s 1393 "$INNER_B4" >/dev/null 2>&1 ||
		fail "a 1421-byte DF ping left $IF_A"
}

# `wg show` of a name no daemon serves fails (kernel a.1 #17), while a real
# one beside it answers.
t_show_missing() {
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	! wg show doesnotexist || fail "wg show doesnotexist succeeded"
	wg show "$IF_A" >/dev/null || fail "wg show $IF_A failed"
}
