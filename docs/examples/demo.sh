#!/bin/sh
# SPDX-License-Identifier: MIT
# The wgd demo: a cloud hub and two branch sites, each in its own network namespace,
# joined through an "internet" namespace and linked by wgd tunnels. Each site is brought
# up by `wgctl up` from a wgd.conf(5) file made from docs/examples/{cloud,branch}.conf.
#
#   branch1 10.66.1.1 -- 198.51.100.2 --.
#                                        internet -- 192.0.2.2 -- cloud 10.66.0.1 (hub)
#   branch2 10.66.2.1 -- 203.0.113.2 ---'
#
# Branch-to-branch traffic is carried through the hub: branch1 -> cloud -> branch2.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
examples=$top/docs/examples
WGCTL=${WGCTL:-$top/ctl/wgctl}
sites="cloud branch1 branch2"
work=$(mktemp -d /tmp/wgd-demo.XXXXXX)
export WGCTL_CONF_DIR="$work"
export WGD="${WGD:-$top/wgd/wgd}" # wgctl up starts this daemon

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
show() { printf '%s$ %s\n' "$1" "$(echo "$*" | cut -d' ' -f2- | sed "s|$WGCTL|wgctl|")"; in_ns "$@"; }

cleanup() {
	set +e
	for s in $sites; do in_ns "$s" "$WGCTL" down "wg-$s" >/dev/null 2>&1; done
	for s in $sites internet; do ip netns del "$s" 2>/dev/null; done
	rm -rf "$work"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root (it creates network namespaces)" >&2
	exit 1
fi
[ -x "$WGCTL" ] || { echo "demo: $WGCTL not built (run make)" >&2; exit 1; }
for s in $sites internet; do ip netns del "$s" 2>/dev/null || true; done
trap cleanup EXIT INT TERM

say "Creating three sites and the internet between them"
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
	echo "  $1: $2"
}
link_site cloud 192.0.2.2 192.0.2.1
link_site branch1 198.51.100.2 198.51.100.1
link_site branch2 203.0.113.2 203.0.113.1

say "Generating fresh keys with wgctl (files of mode 0600, never in argv)"
umask 077
for s in $sites; do
	"$WGCTL" genkey > "$work/$s.key"
	"$WGCTL" pubkey < "$work/$s.key" > "$work/$s.pub"
	echo "  $s: $(cat "$work/$s.pub")"
done

say "Writing each site's wgd.conf from docs/examples"
# UAPI sockets live in the shared /var/run/wireguard, so each site's interface has its own name.
fill() { # template, site, address
	sed -e "s|@SITE@|$2|" -e "s|@ADDRESS@|$3|" \
		-e "s|@CLOUD_PUBLIC_KEY@|$(cat "$work/cloud.pub")|" \
		-e "s|@BRANCH1_PUBLIC_KEY@|$(cat "$work/branch1.pub")|" \
		-e "s|@BRANCH2_PUBLIC_KEY@|$(cat "$work/branch2.pub")|" \
		"$examples/$1" > "$work/wg-$2.conf"
}
fill cloud.conf cloud 10.66.0.1
fill branch.conf branch1 10.66.1.1
fill branch.conf branch2 10.66.2.1
sed -n '/^\[Interface\]/,$p' "$work/wg-branch1.conf" | sed 's/^/  /'

say "Starting each site: wgctl up (wgd -c FILE: addresses, routes, MTU, privilege drop)"
for s in $sites; do
	show "$s" env LOG_LEVEL=error "$WGCTL" up "wg-$s"
done

say "branch1 -> cloud"
show branch1 ping -c 3 -i 0.2 -W 2 10.66.0.1
say "branch2 -> cloud"
show branch2 ping -c 3 -i 0.2 -W 2 10.66.0.1
say "branch1 -> branch2, through the cloud hub"
show branch1 ping -c 3 -i 0.2 -W 2 10.66.2.1

say "The hub, as the admin sees it"
show cloud "$WGCTL" show wg-cloud
show cloud "$WGCTL" peer list wg-cloud
show branch1 ip route show dev wg-branch1

if command -v iperf3 >/dev/null 2>&1; then
	say "A short iperf3 run through the tunnel, branch1 -> cloud (2 s)"
	in_ns cloud iperf3 -s -1 -D -B 10.66.0.1 >/dev/null
	sleep 0.3
	in_ns branch1 iperf3 -c 10.66.0.1 -t 2 -f m | grep -E 'sender|receiver'
fi

say "Stopping: wgctl down removes routes and addresses and stops wgd"
for s in $sites; do show "$s" "$WGCTL" down "wg-$s"; done
echo
echo "demo: OK"
