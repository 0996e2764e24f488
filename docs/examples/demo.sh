#!/bin/sh
# SPDX-License-Identifier: MIT
# The wgd demo: a cloud hub and two branch sites, each in its own network namespace,
# joined through an "internet" namespace, linked by wgd tunnels configured with wg(8).
#
#   branch1 (10.66.1.1) --.                     .-- cloud (10.66.0.1, hub)
#   198.51.100.2/24        `-- internet (router) -- 192.0.2.2/24
#   branch2 (10.66.2.1) --'   203.0.113.2/24
#
# Branch-to-branch traffic is carried through the hub: branch1 -> cloud -> branch2.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
WGD=${WGD:-$top/wgd/wgd}
sites="cloud branch1 branch2"
work=$(mktemp -d /tmp/wgd-demo.XXXXXX)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

cleanup() {
	set +e
	for s in $sites; do
		in_ns "$s" ip link del "wg-$s" 2>/dev/null
	done
	sleep 0.3
	for s in $sites internet; do ip netns del "$s" 2>/dev/null; done
	rm -rf "$work"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root (it creates network namespaces)" >&2
	exit 1
fi
[ -x "$WGD" ] || { echo "demo: $WGD not built (run make)" >&2; exit 1; }
for s in $sites internet; do ip netns del "$s" 2>/dev/null || true; done
trap cleanup EXIT INT TERM

say "Creating the sites and the internet between them"
ip netns add internet
in_ns internet ip link set lo up
in_ns internet sysctl -qw net.ipv4.ip_forward=1
link_site() { # site, outer address, router address
	ip netns add "$1"
	in_ns "$1" ip link set lo up
	ip link add eth0 netns "$1" type veth peer name "$1" netns internet
	in_ns "$1" ip addr add "$2/24" dev eth0
	in_ns "$1" ip link set eth0 up
	in_ns "$1" ip route add default via "$3"
	in_ns internet ip addr add "$3/24" dev "$1"
	in_ns internet ip link set "$1" up
}
link_site cloud 192.0.2.2 192.0.2.1
link_site branch1 198.51.100.2 198.51.100.1
link_site branch2 203.0.113.2 203.0.113.1

say "Generating fresh keys (never passed in argv: files, mode 0600)"
umask 077
for s in $sites; do
	wg genkey > "$work/$s.key"
	wg pubkey < "$work/$s.key" > "$work/$s.pub"
done
pub() { cat "$work/$1.pub"; }

say "Writing each site's configuration"
# The embedded default configuration: the hub knows both branches; each branch knows the hub
# and routes the whole overlay 10.66.0.0/16 through it.
cat > "$work/cloud.conf" <<CONF
[Interface]
PrivateKey = $(cat "$work/cloud.key")
ListenPort = 51820

[Peer]
# branch1
PublicKey = $(pub branch1)
AllowedIPs = 10.66.1.0/24

[Peer]
# branch2
PublicKey = $(pub branch2)
AllowedIPs = 10.66.2.0/24
CONF
for b in branch1 branch2; do
	cat > "$work/$b.conf" <<CONF
[Interface]
PrivateKey = $(cat "$work/$b.key")

[Peer]
# cloud hub
PublicKey = $(pub cloud)
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.66.0.0/16
PersistentKeepalive = 25
CONF
done

say "Starting wgd at each site"
# UAPI sockets live in the shared /var/run/wireguard, so each site's interface has its own name.
up_site() { # site, overlay address
	in_ns "$1" env LOG_LEVEL=error "$WGD" "wg-$1"
	in_ns "$1" wg setconf "wg-$1" "$work/$1.conf"
	in_ns "$1" ip addr add "$2/16" dev "wg-$1"
	in_ns "$1" ip link set "wg-$1" up
}
up_site cloud 10.66.0.1
up_site branch1 10.66.1.1
up_site branch2 10.66.2.1
# The hub forwards branch-to-branch traffic back into the tunnel.
# Both branches sit behind the hub's one tunnel interface, so no ICMP redirect applies.
in_ns cloud sysctl -qw net.ipv4.ip_forward=1
in_ns cloud sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.wg-cloud.send_redirects=0

say "branch1 -> cloud"
in_ns branch1 ping -c 3 -i 0.2 -W 2 10.66.0.1
say "branch2 -> cloud"
in_ns branch2 ping -c 3 -i 0.2 -W 2 10.66.0.1
say "branch1 -> branch2, through the cloud hub"
in_ns branch1 ping -c 3 -i 0.2 -W 2 10.66.2.1

say "The tunnels, as wg(8) sees them at the hub"
in_ns cloud wg show wg-cloud

if command -v iperf3 >/dev/null 2>&1; then
	say "A short iperf3 run, branch1 -> cloud (2 s)"
	in_ns cloud iperf3 -s -1 -D -B 10.66.0.1 >/dev/null
	sleep 0.3
	in_ns branch1 iperf3 -c 10.66.0.1 -t 2 -f m | tail -n 4
fi

say "Tearing down"
