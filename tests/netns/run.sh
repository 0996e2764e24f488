#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Interop matrix over network namespaces (`make check-netns`, `make check`).
# Runs tests/netns/netns.sh for each daemon pair (A in ns1, B in ns2), then
# the one-daemon scenarios once per daemon type; the last line is always
#   netns: N passed, N failed, N skipped
# and the status is 1 if anything failed.  An unusable host (not root, no
# /dev/net/tun, no netns) reports every scenario skipped and exits 0.
#
# Pairs: wgd-wgd, wgd-go, go-wgd by default.  go-go only checks the harness
# itself against wireguard-go, so it runs only on request.
#
# Environment:
#   NETNS_PAIRS="wgd-go go-wgd"  pairs to run (wgd-wgd wgd-go go-wgd go-go)
#   NETNS_SELFTEST=1             add go-go (and wireguard-go's single-daemon runs)
#   NETNS_ONLY=REGEX             only scenarios whose name matches
#   NETNS_REPEAT=N               run the pairs N times (one-daemon scenarios once)
#   NETNS_SINGLE=0               skip the one-daemon scenarios
#   NETNS_CONTROL=0              skip the control-plane scripts (lifecycle.sh, ctl.sh)
#   NETNS_FAULTS=0               skip the fault and flood scenarios (faults.sh)
#   SLOW=1                       their long versions (64 MiB, 200 s SIGSTOP, 60 s floods)
#   WGD=PATH WIREGUARD_GO=PATH   daemon commands (default wgd/wgd, wireguard-go)
#   NETNS_LOG_LEVEL, NETNS_VERBOSE=1   see netns.sh

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
WGD=${WGD:-$repo/wgd/wgd}
WIREGUARD_GO=${WIREGUARD_GO:-$(command -v wireguard-go)}
WGCTL=${WGCTL:-$repo/ctl/wgctl}
export WGD WIREGUARD_GO WGCTL
repeat=${NETNS_REPEAT:-1}
pairs=${NETNS_PAIRS:-wgd-wgd wgd-go go-wgd}
if [ "${NETNS_SELFTEST:-0}" = 1 ] && [ -z "${NETNS_PAIRS:-}" ]; then
	pairs="$pairs go-go"
fi
pairs=$(echo "$pairs" | tr ',' ' ')
passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/wgd-netns-run.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

daemon_cmd() {
	case $1 in
	wgd) echo "$WGD" ;;
	go) echo "$WIREGUARD_GO" ;;
	esac
}

# missing TYPE: why that daemon cannot run, or nothing.
missing() {
	case $1 in
	wgd) [ -x "$WGD" ] || echo "wgd/wgd not built ($WGD)" ;;
	go) [ -n "$WIREGUARD_GO" ] && [ -x "$WIREGUARD_GO" ] || echo "wireguard-go not installed" ;;
	*) echo "unknown daemon type '$1'" ;;
	esac
}

# skip_set KIND LABEL REASON: one skip line per scenario of the set.
skip_set() {
	names=$(bash "$here/${NETNS_SCRIPT:-netns.sh}" --list "$1" 2>/dev/null)
	[ -n "$names" ] || names=all
	for name in $names; do
		echo "skip - $2/$name: $3"
		skipped=$((skipped + 1))
	done
}

# run_set LIMIT LABEL ARGS...: run netns.sh (or $NETNS_SCRIPT), stream and count its lines.
run_set() {
	limit=$1 label=$2
	shift 2
	{
		# --foreground: a ^C reaches netns.sh, which then cleans up.
		timeout --foreground -k 30 "$limit" bash "$here/${NETNS_SCRIPT:-netns.sh}" "$@"
		echo $? >"$tmp/rc"
	} | tee -i "$tmp/out"
	rc=$(cat "$tmp/rc")
	p=$(grep -c '^ok - ' "$tmp/out")
	f=$(grep -c '^not ok - ' "$tmp/out")
	s=$(grep -c '^skip - ' "$tmp/out")
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - $label: set timed out after $limit s"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $label: ${NETNS_SCRIPT:-netns.sh} exited with $rc"
		f=$((f + 1))
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_pair() { # LABEL ROUND
	a=${1%-*} b=${1#*-}
	label=$1
	[ "$repeat" -gt 1 ] && label="$1#$2"
	why=$(missing "$a")
	[ -n "$why" ] || why=$(missing "$b")
	if [ -n "$why" ]; then
		skip_set pair "$label" "$why"
		return
	fi
	start=$(date +%s)
	run_set 360 "$label" pair "$label" "$(daemon_cmd "$a")" "$(daemon_cmd "$b")"
	echo "# time $label: $(($(date +%s) - start)) s"
}

run_single() { # TYPE
	why=$(missing "$1")
	if [ -n "$why" ]; then
		skip_set single "$1" "$why"
		return
	fi
	start=$(date +%s)
	run_set 600 "$1" single "$1" "$(daemon_cmd "$1")"
	echo "# time $1 (single daemon): $(($(date +%s) - start)) s"
}

finish() {
	echo "netns: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}

# Types whose one-daemon scenarios run: wgd whenever a pair uses it;
# wireguard-go only with go-go (a harness self-check).
singles=""
for pair in $pairs; do
	case $pair in
	*wgd*) case " $singles " in *" wgd "*) ;; *) singles="$singles wgd" ;; esac ;;
	esac
	[ "$pair" = go-go ] && singles="$singles go"
done
[ "${NETNS_SINGLE:-1}" = 0 ] && singles=""

if ! command -v bash >/dev/null; then
	why="bash not installed"
elif why=$(bash "$here/netns.sh" --check 2>&1); then
	why=""
else
	[ -n "$why" ] || why="netns.sh --check failed"
fi
if [ -n "$why" ]; then
	echo "# netns suite cannot run here: $why"
	for pair in $pairs; do skip_set pair "$pair" "$why"; done
	for type in $singles; do skip_set single "$type" "$why"; done
	finish
fi

# A daemonised wgd logs to syslog once ready; the scripts read it back (lib.sh,
# daemon_log). Without /dev/log, one sink serves the whole run.
if pid=$(python3 "$repo/tests/tools/syslog_sink.py" start /dev/log "$tmp/syslog"); then
	trap 'python3 "$repo/tests/tools/syslog_sink.py" stop /dev/log "$pid"; rm -rf "$tmp"' EXIT
	WGD_TEST_SYSLOG=$tmp/syslog
	export WGD_TEST_SYSLOG
fi

round=1
while [ "$round" -le "$repeat" ]; do
	for pair in $pairs; do
		run_pair "$pair" "$round"
	done
	round=$((round + 1))
done
for type in $singles; do
	run_single "$type"
done
# The control plane: wgd's supervisor, config files and reload (lifecycle.sh), wgctl
# against wgd and wireguard-go (ctl.sh, ctl2.sh, control.sh), the daemon's descriptors and
# logs (daemon.sh), routes that follow the peers (routes.sh), endpoint names (resolve.sh),
# the worker's confinement (confine.sh), the kernel selftest's cases (selftest.sh),
# the data plane's loop and small-MTU cases (dataplane.sh), a hung worker (distrust.sh),
# a multi-tenant hub (tenants.sh), crypt threads (threads.sh), endpoint lists and names
# (endpoints.sh), drop-in files and plans (dropin.sh), gateway failover (ha.sh).
# They need wgd and wgctl.
if [ "${NETNS_CONTROL:-1}" = 1 ]; then
	for script in lifecycle ctl ctl2 daemon routes resolve control confine selftest dataplane distrust \
		tenants threads endpoints dropin ha; do
		why=$(missing wgd)
		if [ -z "$why" ] && [ ! -x "$WGCTL" ]; then
			why="ctl/wgctl not built"
		fi
		if [ -z "$why" ] && ! out=$(bash "$here/$script.sh" --check 2>&1); then
			why=${out:-"$script.sh --check failed"}
		fi
		if [ -n "$why" ]; then
			NETNS_SCRIPT=$script.sh skip_set "" "$script" "$why"
			continue
		fi
		start=$(date +%s)
		NETNS_SCRIPT=$script.sh run_set 600 "$script" run "$script" "$WGD"
		echo "# time $script: $(($(date +%s) - start)) s"
	done
	# The README's main job must keep working: docs/examples/demo.sh end to end.
	if [ -n "$(missing wgd)" ] || [ ! -x "$WGCTL" ]; then
		echo "skip - demo: wgd or wgctl not built"
		skipped=$((skipped + 1))
	elif timeout -k 10 120 sh "$repo/docs/examples/demo.sh" >"$tmp/demo" 2>&1 &&
		grep -q '^demo: OK' "$tmp/demo"; then
		echo "ok - demo"
		passed=$((passed + 1))
	else
		tail -n 20 "$tmp/demo"
		echo "not ok - demo: docs/examples/demo.sh failed"
		failed=$((failed + 1))
	fi
fi
# Faults and floods (issue "Reliability and security"): loss, reordering, restarts, MTU
# changes, clock jumps, reload cycles, handshake floods; docs/TESTING.md.
if [ "${NETNS_FAULTS:-1}" = 1 ]; then
	why=$(missing wgd)
	if [ -z "$why" ] && ! out=$(bash "$here/faults.sh" --check 2>&1); then
		why=${out:-"faults.sh --check failed"}
	fi
	if [ -n "$why" ]; then
		NETNS_SCRIPT=faults.sh skip_set "" faults "$why"
	else
		limit=600
		[ "${SLOW:-0}" = 1 ] && limit=1800
		start=$(date +%s)
		NETNS_SCRIPT=faults.sh run_set "$limit" faults run faults "$WGD"
		echo "# time faults: $(($(date +%s) - start)) s"
	fi
fi
finish
