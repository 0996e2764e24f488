#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo-tenants`: one hub, two customers with the same prefixes, isolated.
#
#   a-site1 10.1.0.1 --.                          .-- hub-a (namespace): 10.9.0.1 "customer A"
#   a-site2 10.2.0.1 ---+-- internet -- hub 192.0.2.2 (two wgd, ports 51821/51822)
#   b-site1 10.1.0.1 --'                          '-- hub-b (namespace): 10.9.0.1 "customer B"
#
# Each customer's tunnel is moved into its own namespace (Namespace=), so both can use
# 10.1.0.0/24 and 10.9.0.1; wgd's UDP sockets stay in the hub's public namespace.
# Customer A's site 2 may reach the hub but not site 1 (Isolate + Reach).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
examples=$top/docs/examples
WGCTL=${WGCTL:-$top/ctl/wgctl}
export WGD="${WGD:-$top/wgd/wgd}"
sites="a-site1 a-site2 b-site1"
work=$(mktemp -d /tmp/wgd-demo-tenants.XXXXXX)
export WGCTL_CONF_DIR="$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
show() { printf '%s$ %s\n' "$1" "$(echo "$*" | cut -d' ' -f2- | sed "s|$WGCTL|wgctl|")"; in_ns "$@"; }

cleanup() {
	set +e
	for t in a b; do "$WGCTL" down "wg-hub-$t" >/dev/null 2>&1; done
	for s in $sites; do in_ns "$s" "$WGCTL" down "wg-$s" >/dev/null 2>&1; done
	for n in $sites hub hub-a hub-b internet; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		# shellcheck disable=SC2086 # one word per pid
		[ -z "$pids" ] || kill $pids 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$work"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo-tenants: must run as root (it creates network namespaces)" >&2
	exit 1
fi
[ -x "$WGCTL" ] || { echo "demo-tenants: $WGCTL not built (run make)" >&2; exit 1; }
command -v nft >/dev/null || { echo "demo-tenants: nft not installed (nftables)" >&2; exit 1; }
for n in $sites hub hub-a hub-b internet; do ip netns del "$n" 2>/dev/null || true; done
trap cleanup EXIT INT TERM

say "Creating the hub, two customers' namespaces on it, and three sites"
ip netns add internet
in_ns internet ip link set lo up
in_ns internet sysctl -qw net.ipv4.ip_forward=1
link_site() { # name, outer address, router address
	ip netns add "$1"
	in_ns "$1" ip link set lo up
	ip link add eth0 netns "$1" type veth peer name "$1" netns internet
	in_ns "$1" ip addr add "$2/24" dev eth0
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip route add default via "$3"
	in_ns internet ip addr add "$3/24" dev "$1"
	in_ns internet ip link set "$1" up
	echo "  $1: $2"
}
link_site hub 192.0.2.2 192.0.2.1
link_site a-site1 198.51.100.2 198.51.100.1
link_site a-site2 198.18.0.2 198.18.0.1
link_site b-site1 203.0.113.2 203.0.113.1
for t in a b; do
	ip netns add "hub-$t"
	in_ns "hub-$t" ip link set lo up
	echo "  hub-$t: customer $(echo $t | tr ab AB)'s namespace on the hub"
done

say "Keys and files from docs/examples/tenant-{a,b}.conf"
umask 077
for k in hub-a hub-b $sites; do
	"$WGCTL" genkey > "$work/$k.key"
	"$WGCTL" pubkey < "$work/$k.key" > "$work/$k.pub"
done
sed -e "s|@SITE@|hub-a|" -e "s|@NETNS@|hub-a|" \
	-e "s|@SITE1_PUBLIC_KEY@|$(cat "$work/a-site1.pub")|" \
	-e "s|@SITE2_PUBLIC_KEY@|$(cat "$work/a-site2.pub")|" \
	"$examples/tenant-a.conf" > "$work/wg-hub-a.conf"
sed -e "s|@SITE@|hub-b|" -e "s|@NETNS@|hub-b|" \
	-e "s|@SITE1_PUBLIC_KEY@|$(cat "$work/b-site1.pub")|" \
	"$examples/tenant-b.conf" > "$work/wg-hub-b.conf"
site_conf() { # site, tunnel address, hub key, port, allowed ips
	cat > "$work/wg-$1.conf" <<EOC
[Interface]
PrivateKeyFile = $1.key
Address = $2/24
[Peer]
PublicKey = $(cat "$work/$3.pub")
Endpoint = 192.0.2.2:$4
AllowedIPs = $5
PersistentKeepalive = 25
EOC
}
site_conf a-site1 10.1.0.1 hub-a 51821 "10.9.0.0/24, 10.2.0.0/24"
site_conf a-site2 10.2.0.1 hub-a 51821 "10.9.0.0/24, 10.1.0.0/24"
site_conf b-site1 10.1.0.1 hub-b 51822 "10.9.0.0/24"
grep -v '^#' "$work/wg-hub-a.conf" | sed -e '/^$/d' -e 's/^/  /'

say "Starting both customers' daemons in the hub's public namespace"
for t in a b; do show hub env LOG_LEVEL=error "$WGCTL" up "wg-hub-$t"; done
for s in $sites; do in_ns "$s" env LOG_LEVEL=error "$WGCTL" up "wg-$s"; done
cat > "$work/server.py" <<'EOP'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.0.1", 7777))
s.listen(4)
while True:
    c, _ = s.accept()
    c.sendall(("hello from " + sys.argv[1] + "\n").encode())
    c.close()
EOP
for t in a b; do (in_ns "hub-$t" /usr/bin/python3 "$work/server.py" "customer $t" &); done
# the keepalives bring up each site's session, so the hub knows where each site is
for s in $sites; do in_ns "$s" ping -q -c 1 -W 2 10.9.0.1 >/dev/null || true; done
ask() { in_ns "$1" /usr/bin/python3 -c 'import socket
c = socket.create_connection(("10.9.0.1", 7777), timeout=5)
print(c.makefile().readline().strip())'; }

say "The same 10.9.0.1 answers each customer with its own server"
printf 'a-site1$ connect 10.9.0.1:7777 -> %s\n' "$(ask a-site1)"
printf 'b-site1$ connect 10.9.0.1:7777 -> %s\n' "$(ask b-site1)"

say "The hub's public namespace holds the UDP sockets, not the customers' routes"
show hub ss -Hulpn
show hub ip route
show hub-a ip route

say "Isolate + Reach: a-site1 may reach a-site2, not the other way round"
show a-site1 ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1
show a-site2 ping -c 2 -i 0.2 -W 1 -I 10.2.0.1 10.1.0.1 || echo "  (refused by the hub, as configured)"
show hub "$WGCTL" show wg-hub-a
show hub "$WGCTL" metrics wg-hub-a
show hub-a nft list table inet wgd-reach-wg-hub-a

say "Stopping: wgctl down removes the tunnels and the reach table"
for t in a b; do show hub "$WGCTL" down "wg-hub-$t"; done
echo
echo "demo-tenants: OK"
