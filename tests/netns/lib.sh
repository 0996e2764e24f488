# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the namespace scripts netns.sh, lifecycle.sh, ctl.sh and
# faults.sh (bash, sourced): topology, daemon lifecycle, keys, small
# assertions, and the scenario runner they share (at the end); no scenario
# logic lives here.
#
# Every address below comes from a documentation or benchmarking range
# (RFC 5737, RFC 3849, RFC 2544) and only ever exists inside the namespaces
# this suite creates, so no packet can leave the machine or hit a real host.
# shellcheck disable=SC2034 # the constants are used by scenarios.sh

SITE1_GW4=192.0.2.1
SITE1_HOST4=192.0.2.100
SITE1_ROAM4=192.0.2.99
SITE2_GW4=198.51.100.1
SITE2_HOST4=198.51.100.100
SITE1_GW6=2001:db8:1::1
SITE1_HOST6=2001:db8:1::100
SITE1_ROAM6=2001:db8:1::99
SITE2_GW6=2001:db8:2::1
SITE2_HOST6=2001:db8:2::100
INNER_A4=198.18.241.1
INNER_B4=198.18.241.2
INNER_NET4=198.18.241.0/24
INNER_A6=2001:db8:241::1
INNER_B6=2001:db8:241::2
PORT_A=10001
PORT_B=10002

# Interface names double as UAPI socket names in the host-wide
# /var/run/wireguard, so they carry the run id to coexist with other users.
RUNID=${NETNS_RUNID:-$$}
ns0=wgdt$RUNID-0
ns1=wgdt$RUNID-1
ns2=wgdt$RUNID-2
ns3=wgdt$RUNID-3
IF_A=wa$RUNID
IF_B=wb$RUNID
IF_C=wc$RUNID
IF_Q=wq$RUNID
SOCK_DIR=/var/run/wireguard
NETNS_LOG_LEVEL=${NETNS_LOG_LEVEL:-verbose}

n0() { ip netns exec "$ns0" "$@"; }
n1() { ip netns exec "$ns1" "$@"; }
n2() { ip netns exec "$ns2" "$@"; }
n3() { ip netns exec "$ns3" "$@"; }
ip0() { ip -n "$ns0" "$@"; }
ip1() { ip -n "$ns1" "$@"; }
ip2() { ip -n "$ns2" "$@"; }

sock_path() { echo "$SOCK_DIR/$1.sock"; }

# Record why the scenario failed (first reason wins) and leave with status 1.
fail() {
	[[ -s $S/reason ]] || echo "$*" >"$S/reason"
	echo "FAIL: $*" >&2
	exit 1
}

# Record why the scenario cannot run here and leave with status 77.
skip() {
	echo "$*" >"$S/reason"
	exit 77
}

# expect_eq WHAT GOT WANT...: GOT must equal one of WANT.
expect_eq() {
	local what=$1 got=$2 want
	shift 2
	for want in "$@"; do
		[[ $got == "$want" ]] && return 0
	done
	fail "$what: got '$got', want '$*'"
}

# shows TEXT CMD...: CMD succeeds and prints TEXT.  (No `CMD | grep -q`:
# under pipefail, grep quitting early can fail CMD with SIGPIPE.)
shows() {
	local text=$1 out
	shift
	out=$("$@") || return 1
	[[ $out == *"$text"* ]]
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		((tries-- > 0)) || return 1
		sleep 0.1
	done
}

udp_bound() { [[ -n $(ip netns exec "$1" ss -Hulna "sport = :$2") ]]; }
tcp_listening() { [[ -n $(ip netns exec "$1" ss -Htln "sport = :$2") ]]; }

# topo_up: three namespaces, ns0 routing between two sites over veth pairs
# with v4 and v6 on every hop (the drawing is at the top of netns.sh).
topo_up() {
	local n
	for n in "$ns0" "$ns1" "$ns2"; do
		ip netns add "$n"
		ip -n "$n" link set lo up
	done
	ip0 link add site1 type veth peer name up0 netns "$ns1"
	ip0 link add site2 type veth peer name up0 netns "$ns2"
	n0 sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# Roaming swaps ns1's primary address; keep the rest when it goes.
	n1 sysctl -qw net.ipv4.conf.up0.promote_secondaries=1
	ip0 link set site1 up
	ip0 link set site2 up
	ip1 link set up0 up
	ip2 link set up0 up
	ip0 addr add "$SITE1_GW4/24" dev site1
	ip0 addr add "$SITE2_GW4/24" dev site2
	ip0 addr add "$SITE1_GW6/64" dev site1 nodad
	ip0 addr add "$SITE2_GW6/64" dev site2 nodad
	ip1 addr add "$SITE1_HOST4/24" dev up0
	ip1 addr add "$SITE1_HOST6/64" dev up0 nodad
	ip2 addr add "$SITE2_HOST4/24" dev up0
	ip2 addr add "$SITE2_HOST6/64" dev up0 nodad
	ip1 route add default via "$SITE1_GW4"
	ip1 -6 route add default via "$SITE1_GW6"
	ip2 route add default via "$SITE2_GW4"
	ip2 -6 route add default via "$SITE2_GW6"
	wait_for 5 n1 ping -q -c 1 -W 1 "$SITE2_HOST4" >/dev/null ||
		fail "topology: no v4 route from ns1 to ns2"
	wait_for 5 n1 ping -q -c 1 -W 1 "$SITE2_HOST6" >/dev/null ||
		fail "topology: no v6 route from ns1 to ns2"
}

# The flood namespace (faults.sh, tests/soak/soak.sh): ns3 behind ns0 on
# 203.0.113.0/24, owning every address of FLOOD_NET through an AnyIP route, so
# tests/tools/flood and hsload can send from thousands of source addresses.
FLOOD_GW=203.0.113.1
FLOOD_HOST=203.0.113.100
FLOOD_BASE=198.19.0.0
FLOOD_NET=198.19.0.0/16

# flood_ns_up: ns3 behind ns0, owning every address of FLOOD_NET (after topo_up).
flood_ns_up() {
	ip netns add "$ns3"
	ip -n "$ns3" link set lo up
	ip0 link add site3 type veth peer name up0 netns "$ns3"
	ip0 addr add "$FLOOD_GW/24" dev site3
	ip0 link set site3 up
	ip -n "$ns3" addr add "$FLOOD_HOST/24" dev up0
	ip -n "$ns3" link set up0 up
	ip -n "$ns3" route add default via "$FLOOD_GW"
	ip -n "$ns3" route add local "$FLOOD_NET" dev lo
	ip0 route add "$FLOOD_NET" via "$FLOOD_HOST"
	wait_for 5 n3 ping -q -c 1 -W 1 -I 198.19.0.1 "$SITE1_HOST4" >/dev/null ||
		fail "topology: the flood sources do not reach ns1"
}

pid_gone() {
	[[ ! -e /proc/$1 ]] || [[ $(cut -d ' ' -f 3 "/proc/$1/stat" 2>/dev/null) == Z ]]
}

all_gone() {
	local p
	for p; do
		pid_gone "$p" || return 1
	done
}

# topo_down: stop whatever runs in our namespaces (only processes this run
# started live there), delete them, and drop sockets a killed daemon left.
topo_down() {
	local n pids=() ifn
	for n in "$ns0" "$ns1" "$ns2" "$ns3"; do
		[[ -e /var/run/netns/$n ]] || continue
		mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$n")
	done
	if ((${#pids[@]})); then
		kill -TERM "${pids[@]}" 2>/dev/null
		wait_for 3 all_gone "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null
		wait_for 2 all_gone "${pids[@]}"
	fi
	for n in "$ns0" "$ns1" "$ns2" "$ns3"; do
		[[ ! -e /var/run/netns/$n ]] || ip netns del "$n" || echo "# could not delete namespace $n"
	done
	for ifn in "$IF_A" "$IF_B" "$IF_C" "$IF_Q"; do
		rm -f "$(sock_path "$ifn")"
		# A TUN can outlive its namespace if its owner survived; ours only.
		ip link show dev "$ifn" >/dev/null 2>&1 && ip link del dev "$ifn"
	done
	return 0
}

# daemon_start NS IFNAME CMD: launch the way wg-quick does; the launcher
# daemonises and returns once the TUN and the UAPI socket exist.
daemon_start() {
	local ns=$1 ifn=$2 cmd=$3
	timeout -k 2 15 ip netns exec "$ns" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$cmd" "$ifn" </dev/null >>"$S/daemon-$ifn.log" 2>&1 ||
		fail "$cmd $ifn: launcher exited with $?"
	[[ -S $(sock_path "$ifn") ]] || fail "$cmd $ifn: no UAPI socket after launch"
	ip -n "$ns" link show dev "$ifn" >/dev/null 2>&1 ||
		fail "$cmd $ifn: no link in $ns after launch"
}

# A daemonised wgd logs to syslog once ready.  syslog_start makes those lines
# readable: on a host without /dev/log it runs a sink there
# (tests/tools/syslog_sink.py) writing to $WGD_TEST_SYSLOG; with journald it
# reads the journal; a parent run (run.sh) may already provide either.
SYSLOG_SINK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)/syslog_sink.py
syslog_start() { # FILE
	local pid
	[[ -n ${WGD_TEST_SYSLOG:-} ]] && return 0
	if pid=$(python3 "$SYSLOG_SINK" start /dev/log "$1"); then
		SYSLOG_SINK_PID=$pid
		export WGD_TEST_SYSLOG=$1
	elif [[ -S /run/systemd/journal/socket ]]; then
		export WGD_TEST_SYSLOG=journal
	else
		echo "# /dev/log belongs to a syslog daemon of its own: daemon logs after ready unread"
		export WGD_TEST_SYSLOG=none
	fi
}
syslog_stop() {
	[[ -n ${SYSLOG_SINK_PID:-} ]] || return 0
	python3 "$SYSLOG_SINK" stop /dev/log "$SYSLOG_SINK_PID"
	SYSLOG_SINK_PID=
}

# daemon_log IFNAME: all the daemon said: its launcher's stderr
# ($S/daemon-IFNAME.log: start-up, or everything under -f), then its syslog
# lines (they carry the interface name, which carries the run id).
daemon_log() {
	cat "$S/daemon-$1.log" 2>/dev/null || true
	case ${WGD_TEST_SYSLOG:-none} in
	none) ;;
	journal) journalctl -q --no-pager -o cat -t wgd | grep -F "$1: " || true ;;
	*) grep -F " $1: " "$WGD_TEST_SYSLOG" | sed 's/^[^]]*]: //' || true ;;
	esac
}

# daemon_pid NS IFNAME: pid of the process listening on the UAPI socket.
daemon_pid() {
	local out
	out=$(ip netns exec "$1" ss -Hxlpn src "$(sock_path "$2")") || true
	if [[ $out =~ pid=([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

# wgd's two processes (lifecycle.sh, daemon.sh)
# status_field PID KEY: the value of KEY in /proc/PID/status, tabs as spaces.
status_field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# The worker serves the socket; its parent is the supervisor.
worker_pid() { daemon_pid "$1" "$2"; }
supervisor_of() { status_field "$1" PPid; }

# start_conf NS IFNAME FILE [ARGS...]: `wgd -c FILE IFNAME`, which returns once up.
start_conf() {
	local ns=$1 ifn=$2 file=$3
	shift 3
	timeout -k 2 15 ip netns exec "$ns" env LOG_LEVEL="$NETNS_LOG_LEVEL" \
		"$WGD" "$@" -c "$file" "$ifn" </dev/null >>"$S/daemon-$ifn.log" 2>&1 ||
		fail "wgd -c $file $ifn: launcher exited with $?"
	[[ -S $(sock_path "$ifn") ]] || fail "wgd -c $file $ifn: no UAPI socket after launch"
}

# pids NS IFNAME: "WORKER SUPERVISOR" of the daemon serving IFNAME.
pids() {
	local w s
	w=$(worker_pid "$1" "$2")
	[[ -n $w ]] || fail "no process serves $(sock_path "$2")"
	s=$(supervisor_of "$w")
	[[ -n $s && $s != 1 ]] || fail "worker $w has no supervisor (PPid '$s')"
	echo "$w $s"
}

# conf_a FILE [EXTRA INTERFACE LINES...]: A's [Interface] with its key and port.
conf_a() {
	local f=$1 line
	shift
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$S/a.key")"
		echo "ListenPort = $PORT_A"
		for line; do echo "$line"; done
	} >"$f"
}

# san_problems DIR PID...: why the sanitizer logs of a daemon run under the
# ASan/UBSan/LSan build (build-san/wgd/wgd, with ASAN_OPTIONS=log_path=DIR/san
# and LSAN_OPTIONS=log_threads=1, stopped by SIGTERM) are not clean: LeakSanitizer
# did not run in one of the PIDs (each check names the threads it scanned), or
# something reported a leak, an ASan or a UBSan error.  Prints nothing and returns
# 0 when clean (faults_cycles.sh, tests/soak/soak.sh).
san_problems() {
	local dir=$1 p reports
	shift
	for p; do
		if [[ ! -e $dir/san.$p ]] || ! shows "Processing thread $p." cat "$dir/san.$p"; then
			echo "LeakSanitizer did not run in process $p"
			return 1
		fi
	done
	mapfile -t reports < <(grep -lE "ERROR|runtime error|leaked" "$dir"/san.* || true)
	((${#reports[@]} == 0)) && return 0
	echo "sanitizer report: $(grep -hE "ERROR|runtime error|SUMMARY" "${reports[@]}" | head -n 3)"
	return 1
}

# ns_quiet NS: no process left in NS.  A daemon may be several processes
# (a privilege-separated worker, say); all of them must go.
ns_quiet() { [[ -z $(ip netns pids "$1") ]]; }

sock_gone() { [[ ! -e $(sock_path "$1") ]]; }

# key_new NAME: $S/NAME.key and $S/NAME.pub; pub NAME prints the public key.
key_new() {
	wg genkey >"$S/$1.key"
	wg pubkey <"$S/$1.key" >"$S/$1.pub"
}
pub() { cat "$S/$1.pub"; }

# ep HOST PORT: endpoint notation, brackets for v6.
ep() {
	if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi
}

# peer_field IFNAME FIELD PUB: the value(s) `wg show IFNAME FIELD` has for PUB.
peer_field() {
	wg show "$1" "$2" | awk -v p="$3" '$1 == p { $1 = ""; sub(/^ /, ""); print }'
}

# pair_up OUTER PSK [a-only]: fresh topology, daemon A in ns1 and B in ns2,
# each the other's only peer, endpoints over the OUTER (4|6) family; with
# a-only, B has no endpoint for A and must learn it.
pair_up() {
	local outer=$1 psk=$2 pskarg=() epb=()
	topo_up
	daemon_start "$ns1" "$IF_A" "$DA"
	daemon_start "$ns2" "$IF_B" "$DB"
	key_new a
	key_new b
	PUB_A=$(pub a)
	PUB_B=$(pub b)
	wg genpsk >"$S/psk"
	[[ $psk == psk ]] && pskarg=(preshared-key "$S/psk")
	[[ ${3:-} == a-only ]] || epb=(endpoint "$(site_ep 1 "$outer" "$PORT_A")")
	wg set "$IF_A" private-key "$S/a.key" listen-port "$PORT_A" \
		peer "$PUB_B" "${pskarg[@]}" allowed-ips "$INNER_B4/32,$INNER_B6/128" \
		endpoint "$(site_ep 2 "$outer" "$PORT_B")"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" \
		peer "$PUB_A" "${pskarg[@]}" allowed-ips "$INNER_A4/32,$INNER_A6/128" "${epb[@]}"
	inner_up "$ns1" "$IF_A" "$INNER_A4" "$INNER_A6" "$PORT_A"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
}

# site_ep SITE FAMILY PORT: the outer endpoint of the host at SITE (1|2).
site_ep() {
	local var=SITE$1_HOST$2
	ep "${!var}" "$3"
}

# inner_up NS IFNAME ADDR4 ADDR6 PORT: address the tunnel, bring it up and
# wait until the daemon has bound its UDP port (it binds when up).
inner_up() {
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$1" addr add "$4/64" dev "$2" nodad
	ip -n "$1" link set "$2" up
	wait_for 5 udp_bound "$1" "$5" || fail "$2: UDP port $5 not bound after link up"
}

# flood NS DST: 10 flood pings that must all come back within 10 s.
flood() {
	ip netns exec "$1" timeout 15 ping -q -c 10 -f -w 10 -W 1 "$2" ||
		fail "flood ping $2 from $1: lost packets"
}

# ping1 NS DST: one ping, two seconds to answer (a handshake included).
ping1() { ip netns exec "$1" timeout 5 ping -q -c 1 -W 2 "$2"; }

# --- the scenario runner -------------------------------------------------------
#
# A scenario table is an array of "NAME LIMIT FN ARGS..." entries: LIMIT in
# seconds, ARGS split on blanks.  Each selected scenario runs as
# `bash SCRIPT --one FN ARGS...` in a process of its own, with fresh
# namespaces, and prints one of
#   ok - LABEL/NAME | not ok - LABEL/NAME: reason | skip - LABEL/NAME: reason
# then its figures ($S/figures, one "# LABEL/NAME: ..." line each) and, if it
# failed, the end of its log; NETNS_VERBOSE=1 adds its time and keeps the logs.
# A script ends with its own run commands and `*) runner_main TABLE "$@"`.

selected() { [[ -z ${NETNS_ONLY:-} || $1 =~ $NETNS_ONLY ]]; }

# list_tests TABLE: the names in TABLE that NETNS_ONLY selects.
list_tests() {
	local -n tests=$1
	local entry name
	for entry in "${tests[@]}"; do
		read -r name _ <<<"$entry"
		selected "$name" && echo "$name"
	done
	return 0
}

# one FN ARGS...: the body of a scenario process (see run_one).
one() {
	S=$NETNS_S
	umask 077
	set -eE -o pipefail
	trap '[[ -s $S/reason ]] || echo "line $LINENO: $BASH_COMMAND (status $?)" >"$S/reason"' ERR
	PS4='+ ${FUNCNAME[0]:-main}:$LINENO: '
	set -x
	"$@"
}

# run_one LABEL NAME LIMIT FN ARGS...: run a scenario in its own process,
# always tear its namespaces down, print its verdict.
# shellcheck disable=SC2154 # here: the sourcing script's directory
run_one() {
	local label=$1 name=$2 limit=$3 t0=$SECONDS rc reason
	shift 3
	S=$T/$name
	mkdir -p "$S"
	topo_down >/dev/null 2>&1 # a clean slate even if a teardown went wrong
	# In the background so that a signal to us interrupts `wait`; timeout
	# gives the scenario its own process group, which cleanup can end.
	NETNS_S=$S timeout -k 5 "$limit" bash "$here/${0##*/}" --one "$@" \
		>"$S/log" 2>&1 </dev/null &
	scenario=$!
	wait "$scenario"
	rc=$?
	scenario=
	# Tear down even if the log cannot be written any more.
	topo_down >>"$S/log" 2>&1 || topo_down >/dev/null 2>&1
	reason=$(head -n 1 "$S/reason" 2>/dev/null)
	case $rc in
	0) echo "ok - $label/$name"; ((passed++)) ;;
	77) echo "skip - $label/$name: $reason"; ((skipped++)) ;;
	124 | 137) echo "not ok - $label/$name: timed out after $limit s"; ((failed++)) ;;
	*) echo "not ok - $label/$name: ${reason:-exit status $rc}"; ((failed++)) ;;
	esac
	[[ -e $S/figures ]] && sed "s|^|# $label/$name: |" "$S/figures"
	if [[ $rc != 0 && $rc != 77 ]]; then
		tail -n 25 "$S/log" | sed 's/^/#   /'
		keep=1
	fi
	[[ ${NETNS_VERBOSE:-0} == 1 ]] && echo "# $label/$name: $((SECONDS - t0)) s"
	rm -f "$S"/*.big # kept logs need not keep 100 MB configs
	return 0
}

# run_set TABLE PREFIX LABEL [SETUP ARGS...]: run the selected scenarios of
# TABLE in a fresh /tmp/PREFIX.XXXXXX ($T), after `SETUP ARGS...` if given
# (which may use $T), and print the summary; 1 if any failed.
run_set() {
	local label=$3 entry name limit fn args t0=$SECONDS
	local -n tests=$1
	passed=0 failed=0 skipped=0 keep=0
	T=$(mktemp -d "/tmp/$2.XXXXXX") || exit 1
	shift 3
	export NETNS_RUNID=$$
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	syslog_start "$T/syslog"
	(($# == 0)) || "$@"
	for entry in "${tests[@]}"; do
		read -r name limit fn args <<<"$entry"
		selected "$name" || continue
		# shellcheck disable=SC2086 # args are words by design
		run_one "$label" "$name" "$limit" "$fn" $args
	done
	echo "# $label: $passed passed, $failed failed, $skipped skipped in $((SECONDS - t0)) s"
	((failed == 0))
}

# cleanup: runs on every exit, even a failed or interrupted one.
cleanup() {
	# A second ^C (timeout forwards one too) must not cut the cleanup short.
	trap '' INT TERM HUP PIPE
	if [[ -n ${scenario:-} ]]; then
		kill -TERM -- "-$scenario" 2>/dev/null
		wait_for 3 pid_gone "$scenario"
	fi
	topo_down >/dev/null 2>&1
	syslog_stop
	if ((keep)) || [[ ${NETNS_VERBOSE:-0} == 1 ]]; then
		echo "# logs kept in $T"
	else
		rm -rf "$T"
	fi
}

# runner_main TABLE ARGS...: the commands every script has; TABLE is what
# --list prints.  Anything else prints the script's Usage block.
runner_main() {
	case ${2:-} in
	--check) env_check ;;
	--list) list_tests "$1" ;;
	--one) shift 2; one "$@" ;; # no locals here: the scenario would see them
	*) sed -n '/^# Usage:/,/^# Environment/p' "$0" >&2; exit 2 ;;
	esac
}
