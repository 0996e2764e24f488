#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Interoperability scenarios for a userspace WireGuard daemon, after the
# Linux selftest tools/testing/selftests/wireguard/netns.sh and
# wireguard-go's tests/netns.sh.  A "daemon" is any command with the
# wireguard-go contract: `CMD IFNAME` daemonises and serves
# /var/run/wireguard/IFNAME.sock; it exits on SIGTERM or when its link goes.
#
#  +-------- ns1 ---------+      +--------------- ns0 ---------------+      +-------- ns2 ---------+
#  | wa<id>: daemon A     |      | the "internet": forwards v4       |      | wb<id>: daemon B     |
#  |   198.18.241.1/24    |      | and v6 between the sites;         |      |   198.18.241.2/24    |
#  |   2001:db8:241::1/64 |      | SNAT for nat-keepalive            |      |   2001:db8:241::2/64 |
#  |   udp port 10001     |      |                                   |      |   udp port 10002     |
#  |                      |      |                                   |      |                      |
#  | up0                  +-veth-+ site1            site2            +-veth-+ up0                  |
#  |   192.0.2.100/24     |      | 192.0.2.1/24     198.51.100.1/24  |      |   198.51.100.100/24  |
#  |   2001:db8:1::100/64 |      | 2001:db8:1::1/64 2001:db8:2::1/64 |      |   2001:db8:2::100/64 |
#  +----------------------+      +-----------------------------------+      +----------------------+
#  ns3 (wg-tools only) is an empty namespace for a third daemon that must not
#  reach B.
#
# Each scenario gets fresh namespaces and daemons, runs as its own bash
# process under `timeout`, and prints one of
#   ok - LABEL/NAME | not ok - LABEL/NAME: reason | skip - LABEL/NAME: reason
#
# Usage:
#   netns.sh --check                    0 if this host can run the suite, else 77 and a reason
#   netns.sh --list pair|single         scenario names (after NETNS_ONLY)
#   netns.sh pair LABEL DAEMON_A DAEMON_B
#   netns.sh single LABEL DAEMON
# Environment: NETNS_ONLY (extended regex on scenario names), NETNS_LOG_LEVEL
# (daemon LOG_LEVEL, default verbose), NETNS_VERBOSE=1 (times, kept logs).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR
source "$here/scenarios.sh"

# name, time limit (s), function and arguments; read through namerefs
# shellcheck disable=SC2034
PAIR_TESTS=(
	"counters-v4-psk 60 t_counters 4 psk"
	"counters-v4-nopsk 60 t_counters 4 nopsk"
	"counters-v6-psk 60 t_counters 6 psk"
	"counters-v6-nopsk 60 t_counters 6 nopsk"
	"ping-v4outer 60 t_ping 4"
	"ping-v6outer 60 t_ping 6"
	"iperf-tcp-v4 60 t_iperf tcp 4"
	"iperf-udp-v4 60 t_iperf udp 4"
	"iperf-tcp-v6 60 t_iperf tcp 6"
	"roaming-v4 60 t_roaming 4"
	"roaming-v6 60 t_roaming 6"
	"crypto-rp 60 t_crypto_rp"
	"key-change 60 t_key_change"
	"nat-keepalive 60 t_nat"
	"wg-tools 60 t_tools"
	"wg-quick 90 t_wg_quick"
)
# shellcheck disable=SC2034
SINGLE_TESTS=(
	"allowedips-130560 240 t_allowedips_big"
	"allowedips-40x52 60 t_allowedips_many"
	"low-order-keys 60 t_low_order"
	"uapi-keys 60 t_uapi_keys"
	"exit-on-linkdel 60 t_exit_linkdel"
	"exit-on-sigterm 60 t_exit_sigterm"
	"foreground 60 t_foreground"
	"default-mtu 60 t_default_mtu"
	"link-down 60 t_link_down"
	"show-doesnotexist 60 t_show_missing"
)

env_check() {
	local tool probe=wgdt$$-probe
	[[ $(id -u) == 0 ]] || { echo "not root"; return 77; }
	[[ -c /dev/net/tun ]] || { echo "/dev/net/tun missing"; return 77; }
	{ exec 3<>/dev/net/tun; } 2>/dev/null || { echo "/dev/net/tun cannot be opened"; return 77; }
	exec 3>&-
	for tool in ip wg ping ss nft timeout awk sysctl; do
		command -v "$tool" >/dev/null || { echo "$tool not installed"; return 77; }
	done
	[[ -x /usr/bin/python3 ]] || { echo "/usr/bin/python3 missing"; return 77; }
	ip netns add "$probe" 2>/dev/null || { echo "cannot create network namespaces"; return 77; }
	if ! ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null ||
		! ip netns exec "$probe" true 2>/dev/null; then
		ip netns del "$probe"
		echo "veth or ip netns exec unusable"
		return 77
	fi
	ip netns del "$probe"
}

case ${1:-} in
pair) [[ $# == 4 ]] || exit 2; export DA=$3 DB=$4; run_set PAIR_TESTS wgd-netns "$2" ;;
single) [[ $# == 3 ]] || exit 2; export DA=$3 DB=$3; run_set SINGLE_TESTS wgd-netns "$2" ;;
*) runner_main "${2^^}_TESTS" "$@" ;; # --list KIND: PAIR_TESTS or SINGLE_TESTS
esac
