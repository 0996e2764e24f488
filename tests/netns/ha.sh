#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Gateway redundancy (issue 14, docs/examples/ha/README.md): each scenario runs
# docs/examples/ha/demo-ha.sh in namespaces of its own (names carry the run id)
# with the real BIRD 2, keepalived, nftables and wgd, and fails with the first
# "ha: FAIL:" line the demo prints. What the demo asserts:
#
#   ha-bfd   two gateways, BGP over each tunnel with BFD, wgd with Table = off.
#            gw1's wgd killed, then gw1's link cut: the branch routes to the DC
#            through gw2's tunnel and the DC back through gw2, a ping gets
#            through; gw1 back: both go through gw1 again, its BGP session is up
#            again, and gw2's sessions never went down (no flap).
#   ha-vrrp  keepalived moves 192.0.2.10 between two gateways with one key:
#            gw1's keepalived stops, gw2 takes the address, the branch
#            handshakes with gw2 and its pings reach the DC; gw1 then sends
#            through its old session and the branch must stay on 192.0.2.10
#            (vrrp-source.nft); gw2 dies, gw1 takes over the same way; gw2
#            back stays backup, the branch still on 192.0.2.10.
#
# The outages the 10 ms ping saw are printed as "# ha/NAME: ..." lines, never
# asserted (timings depend on the machine).
#
# Usage:
#   ha.sh --check            0 if this host can run it, else 77 and a reason
#   ha.sh --list             scenario names (after NETNS_ONLY)
#   ha.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_VERBOSE=1 as for netns.sh; WGCTL.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

# shellcheck disable=SC2034 # read through a nameref
HA_TESTS=(
	"ha-bfd 120 t_demo bfd"
	"ha-vrrp 120 t_demo vrrp"
)

# t_demo MODE: the demo in MODE under this run's names; its "ha: " lines are
# the figures, its first "ha: FAIL: " line the reason.
t_demo() {
	local rc=0
	HA_TAG=h$RUNID WGD=$WGD WGCTL=${WGCTL:-$repo/ctl/wgctl} \
		bash "$repo/docs/examples/ha/demo-ha.sh" "$1" >"$S/demo" 2>&1 || rc=$?
	cat "$S/demo" # into the scenario's log
	grep '^ha: ' "$S/demo" | grep -v '^ha: FAIL: \|^ha: logs kept' | sed 's/^ha: //' \
		| awk '!seen[$0]++' >"$S/figures" || true
	grep -q '^demo-ha: OK' "$S/demo" ||
		fail "$(grep -m 1 '^ha: FAIL: ' "$S/demo" | sed 's/^ha: FAIL: //' |
			grep . || echo "demo-ha.sh $1 exited with $rc")"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	local bin
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	for bin in bird birdc keepalived nft wg ping; do
		command -v "$bin" >/dev/null || { echo "$bin missing (tests/deps.sh)"; return 77; }
	done
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3; run_set HA_TESTS wgd-ha "$2" ;;
*) runner_main HA_TESTS "$@" ;;
esac
