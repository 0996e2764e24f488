# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by faults.sh: the scenarios about time and repetition.  A daemon stopped for
# longer than a key may live (sigstop), a wall clock that jumps under a running daemon
# (clock-jump, with tests/preload/clockshift.so), and a thousand reloads and hundreds of
# link down/up cycles under traffic, measured for fd and memory growth and once under
# ASan/LSan (reload-cycles, reload-cycles-lsan).  The helpers are faults.sh's and lib.sh's.
# Environment: CLOCKSHIFT=PATH (default build/tests/preload/clockshift.so) and
# WGD_SAN=PATH (default build-san/wgd/wgd, from `make SANITIZE=1 build-san/wgd/wgd`).
# shellcheck disable=SC2154 # repo, S, DA, DB and the like come from faults.sh

CLOCKSHIFT=${CLOCKSHIFT:-$repo/build/tests/preload/clockshift.so}
WGD_SAN=${WGD_SAN:-$repo/build-san/wgd/wgd}

# shellcheck disable=SC2034 # faults.sh appends them to FAULTS_TESTS
FAULTS_CYCLES_TESTS=(
	"clock-jump 90 t_clock_jump"
	"reload-cycles $((SLOW ? 300 : 120)) t_reload_cycles"
	"reload-cycles-lsan 120 t_reload_lsan"
)

DNET_1=198.18.251.0/24 # the extra peers' AllowedIPs in the two configs that alternate
DNET_2=198.18.252.0/24
ENET=198.18.253.0/24

# run_dir_searchable: the worker runs as nobody; let it reach files we put in $S.
# The directories get o+x only: their listings and the logs (umask 077) stay root's.
run_dir_searchable() { chmod 711 "${S%/*}" "$S"; }

# od_hex FILE OFFSET LEN: those bytes of FILE as one hex number, in wire order.
od_hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# --- a daemon stopped past REJECT_AFTER_TIME -----------------------------------

# old_index_counters: the receiver indexes of the session now in use, each way (bytes
# 4..8 of a data message, captured in ns0), and counters in ns1 of the data messages
# that still carry them: old_out (A to B) and old_in (B to A).
old_index_counters() {
	local ia ib
	sniff "$ns0" site1 "$S/data-a.bin" from "$PORT_A" 4 32 2000
	wait "$sniffer" || fail "no A -> B data message captured"
	sniff "$ns0" site1 "$S/data-b.bin" to "$PORT_A" 4 32 2000
	wait "$sniffer" || fail "no B -> A data message captured"
	ia=$(od_hex "$S/data-a.bin" 4 4)
	ib=$(od_hex "$S/data-b.bin" 4 4)
	n1 nft -f - <<-EOF
		table inet faults_old {
			counter old_out { }
			counter old_in { }
			chain out {
				type filter hook output priority filter; policy accept;
				udp sport $PORT_A @th,64,8 4 @th,96,32 0x$ia counter name old_out
			}
			chain in {
				type filter hook input priority filter; policy accept;
				udp dport $PORT_A @th,64,8 4 @th,96,32 0x$ib counter name old_in
			}
		}
	EOF
}

old_count() { nft_counter "$ns1" inet faults_old "old_$1" packets; }

# A (both processes) is stopped for 20 s (SLOW: 200 s) with traffic both ways and
# keepalives every second: after SIGCONT at most 2 initiations in 5 s, and the tunnel
# works again.  With SLOW, the stop outlasts REJECT_AFTER_TIME (180 s): from 180 s after
# the handshake no data message either way may carry that session's receiver index
# (whitepaper §6.1, "no key older than 180 s used").  After 20 s the old session is still
# good, so there its use is only reported; it shows that the counters match.
t_sigstop() {
	local stop_s=$((SLOW ? 200 : 20)) w s c0 c1 k0 k1 t0 rec o0 o1 i0 i1 t_hs t_stop t_i0
	pair
	n1 nft -f - <<-EOF
		table inet faults_stop {
			counter init_out { }
			counter keepalive_out { }
			chain out {
				type filter hook output priority filter; policy accept;
				udp sport $PORT_A udp length 156 @th,64,8 1 counter name init_out
				udp sport $PORT_A udp length 40 @th,64,8 4 counter name keepalive_out
			}
		}
	EOF
	wg set "$IF_A" peer "$PUB_B" persistent-keepalive 1
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no tunnel before the stop"
	t_hs=$SECONDS
	n1 timeout $((stop_s + 40)) ping -q -i 0.2 "$INNER_B4" >/dev/null 2>&1 &
	n2 timeout $((stop_s + 40)) ping -q -i 0.2 "$INNER_A4" >/dev/null 2>&1 &
	old_index_counters
	sleep 1
	(($(old_count out) > 0 && $(old_count in) > 0)) ||
		fail "the receiver-index counters saw nothing before the stop: they prove nothing"
	read -r w s <<<"$(wgd_pids "$ns1" "$IF_A")"
	kill -STOP "$w" "$s"
	t_stop=$SECONDS
	# B too must have let the session go 180 s after the handshake (+2 s of slack)
	((SLOW == 0)) || sleep $((t_hs + 182 - SECONDS))
	i0=$(old_count in)
	t_i0=$((SECONDS - t_hs))
	sleep $((t_stop + stop_s - SECONDS))
	c0=$(nft_counter "$ns1" inet faults_stop init_out packets)
	k0=$(nft_counter "$ns1" inet faults_stop keepalive_out packets)
	o0=$(old_count out)
	((c0 > 0)) || fail "A's first initiation was not counted: the counter proves nothing"
	t0=$(now)
	kill -CONT "$s" "$w"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "A -> B does not recover after SIGCONT"
	rec=$(since "$t0")
	sleep "$(awk -v r="$rec" 'BEGIN { print r < 5 ? 5 - r : 0 }')"
	c1=$(nft_counter "$ns1" inet faults_stop init_out packets)
	k1=$(nft_counter "$ns1" inet faults_stop keepalive_out packets)
	o1=$(old_count out)
	i1=$(old_count in)
	ping1 "$ns2" "$INNER_A4" >/dev/null || fail "B -> A does not recover after SIGCONT"
	figure "after a ${stop_s} s SIGSTOP: $((c1 - c0)) initiations and $((k1 - k0)) keepalives" \
		"(persistent-keepalive 1) in the next 5 s; A -> B answered $rec s after SIGCONT"
	figure "data messages on the session from before the stop: A sent $((o1 - o0)) after" \
		"SIGCONT; B sent $((i1 - i0)) from $t_i0 s after the handshake on"
	(((c1 - c0) <= 2)) || fail "$((c1 - c0)) initiations in the 5 s after SIGCONT: a timer storm"
	((SLOW == 0)) || expect_eq "A's data messages on a session older than 180 s" $((o1 - o0)) 0
	((SLOW == 0)) || expect_eq "B's data messages on a session older than 180 s" $((i1 - i0)) 0
}

# --- wall-clock jumps ----------------------------------------------------------

# clock_set SECONDS: A's wall-clock offset, replaced by rename as clockshift.c wants.
clock_set() {
	echo "$1" >"$S/clockshift.tmp"
	chmod 644 "$S/clockshift.tmp"
	mv -f "$S/clockshift.tmp" "$S/clockshift"
}

# shifted_launcher WGD: $S/wgd-shifted, WGD under clockshift.so with the offset in
# $S/clockshift.
shifted_launcher() {
	[[ -r $CLOCKSHIFT ]] || skip "$CLOCKSHIFT not built (make tools)"
	run_dir_searchable
	clock_set 0
	printf '#!/bin/sh\nexec env LD_PRELOAD=%q CLOCKSHIFT_FILE=%q %q "$@"\n' \
		"$CLOCKSHIFT" "$S/clockshift" "$1" >"$S/wgd-shifted"
	chmod 700 "$S/wgd-shifted"
}

# last_probe: arrival time (B's clock, not shifted) of the latest probe B received.
last_probe() { tail -n 1 "$S/probe.log" | cut -d ' ' -f 1; }
probe_after() { fle "$1" "$(last_probe)"; }

# init_count A|B: initiations that side sent.
init_count() {
	local v=ns$1
	nft_counter "${!v}" inet faults_clock init_out packets
}

# clock_jump OFFSET: move A's wall clock to OFFSET s, check the stream goes on, then make
# A start a new handshake (its peer removed and added again: it forgets the session) and
# time until A's datagrams reach B again.  Sets JUMP_REC (s), JUMP_IA and JUMP_IB (the
# initiations A and B sent meanwhile) and JUMP_SKEW (A's latest handshake minus its
# shifted clock now, s).
clock_jump() {
	local off=$1 t_jump t_force ia ib hs
	t_jump=$(now)
	clock_set "$off"
	sleep 1.5 # clockshift looks at the file every 100 ms
	probe_after "$(awk -v t="$t_jump" 'BEGIN { printf "%.6f", t + 1 }')" ||
		fail "the stream stopped when A's clock moved by $off s"
	ia=$(init_count 1)
	ib=$(init_count 2)
	wg set "$IF_A" peer "$PUB_B" remove
	wg set "$IF_A" peer "$PUB_B" preshared-key "$S/psk" allowed-ips "$INNER_B4/32" \
		endpoint "$(site_ep 2 4 "$PORT_B")"
	t_force=$(now)
	wait_for 25 probe_after "$t_force" || fail "no datagram of A's 25 s after the handshake at $off s"
	JUMP_REC=$(awk -v a="$t_force" -v b="$(last_probe)" 'BEGIN { printf "%.2f", b - a }')
	# A's latest handshake is A's wall clock then; it must show the offset
	hs=$(peer_field "$IF_A" latest-handshakes "$PUB_B")
	JUMP_SKEW=$((hs - $(date +%s) - off))
	sleep 2 # initiations still on their way count as part of this jump
	JUMP_IA=$(($(init_count 1) - ia))
	JUMP_IB=$(($(init_count 2) - ib))
}

# A's wall clock (clockshift.so) jumps +1 day, then back 2 days (1 day before the real
# time), then back to the real time, under a stream A -> B (20/s) and pings B -> A
# (5/s); a new handshake from A is forced after each jump.  Protocol timers run on
# CLOCK_BOOTTIME (wgd/clock.h), so no jump may stop the stream or set off a burst of
# initiations.  After +1 day A's timestamp is newer and B answers at once.  After each
# backward jump B refuses A's initiations: their TAI64N timestamp is not after the +1 day
# one B saw (whitepaper §5.1, replay protection); the kernel module drops them the same
# way, and until the real time passes +1 day only B can start a session.  B does, once
# its data has gone unanswered for KEEPALIVE + REKEY_TIMEOUT (15 s), so A's stream must
# come back within 20 s, and A may send at most one initiation per REKEY_TIMEOUT (5 s)
# meanwhile, plus two.
t_clock_jump() {
	local DA=$DA off n rec ia ib skew res="" lim
	shifted_launcher "$DA"
	DA=$S/wgd-shifted # A's; B stays $DB
	pair
	for n in "$ns1" "$ns2"; do
		ip netns exec "$n" nft -f - <<-EOF
			table inet faults_clock {
				counter init_out { }
				chain out {
					type filter hook output priority filter; policy accept;
					udp length 156 @th,64,8 1 counter name init_out
				}
			}
		EOF
	done
	ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no tunnel before the jumps"
	n2 "$PY" "$FAULTS_PY" probe-recv 0.0.0.0 7006 "$S/probe.log" &
	wait_for 5 udp_bound "$ns2" 7006 || fail "probe receiver did not start"
	n1 timeout 80 "$PY" "$FAULTS_PY" probe-send "$INNER_B4" 7006 0.05 75 &
	n2 timeout 80 ping -q -i 0.2 -w 75 "$INNER_A4" >/dev/null 2>&1 &
	wait_for 5 test -s "$S/probe.log" || fail "no probe arrived"
	for off in 86400 -86400 0; do
		clock_jump "$off"
		rec=$JUMP_REC ia=$JUMP_IA ib=$JUMP_IB skew=$JUMP_SKEW
		res+="clock at $off s: A's datagrams back $rec s after the forced handshake,"
		res+=" initiations $ia from A and $ib from B, A's latest handshake ${skew} s off; "
		((skew >= -5 && skew <= 5)) ||
			fail "A's latest handshake is $skew s away from its clock at $off s: the shift did not apply"
		fle "$rec" 20 || fail "A's stream came back only $rec s after the handshake at $off s"
		lim=$(awk -v r="$rec" 'BEGIN { printf "%d", r / 5 + 2 }')
		((ia <= lim)) || fail "$ia initiations from A in $rec s at $off s: a timer storm"
		if [[ $off == 86400 ]]; then
			((ib == 0)) || fail "B initiated after the forward jump, A's timestamp was newer"
		else
			((ib >= 1)) || fail "A's stream came back at $off s without B initiating"
		fi
	done
	figure "${res%; }"
	figure "B logged $(daemon_log "$IF_B" | grep -c "Invalid handshake initiation" || true)" \
		"invalid initiations (rate-limited log); A sent $(init_count 1), B $(init_count 2)" \
		"initiations in all"
}

# --- reloads and link cycles ----------------------------------------------------

# cycles_conf N: A's config N (1 or 2) as $S/a.conf.  They differ in B's keepalive, in
# D's AllowedIPs (so in a route) and in a peer E present only in the second.
cycles_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$(cat "$S/a.key")" "$PORT_A"
		printf 'Address = %s/24\nMTU = %s\n' "$INNER_A4" "$TUNNEL_MTU"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
			"$PUB_B" "$INNER_B4" "$(site_ep 2 4 "$PORT_B")"
		printf 'PersistentKeepalive = %s\n' $(($1 == 1 ? 25 : 0))
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$(pub d)" "$([[ $1 == 1 ]] &&
			echo "$DNET_1" || echo "$DNET_2")"
		[[ $1 == 1 ]] ||
			printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\nEndpoint = 192.0.2.50:1234\n' \
				"$(pub e)" "$ENET"
	} >"$S/a.conf.tmp"
	mv -f "$S/a.conf.tmp" "$S/a.conf"
}

# cycles_up WGD [ENV...]: B a bare $DB in ns2, A `WGD -c $S/a.conf` in ns1 (ENV added to
# its environment); the two at the tunnel MTU, pinging each other 100 times a second.
cycles_up() {
	local wgd=$1
	shift
	topo_up
	key_new a
	key_new b
	key_new d
	key_new e
	PUB_A=$(pub a) PUB_B=$(pub b)
	daemon_start "$ns2" "$IF_B" "$DB"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" peer "$PUB_A" \
		allowed-ips "$INNER_A4/32" endpoint "$(site_ep 1 4 "$PORT_A")"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	tunnel_mtu "$ns2" "$IF_B"
	cycles_conf 1
	timeout -k 2 15 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" "$@" \
		"$wgd" -c "$S/a.conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c $IF_A: launcher exited with $?"
	wait_for 5 udp_bound "$ns1" "$PORT_A" || fail "A did not bind its port"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "no tunnel A -> B"
	# not through n1/n2: $! must be ping itself (ip netns exec execs it) to stop it
	ip netns exec "$ns1" ping -q -i 0.01 -w 280 "$INNER_B4" >"$S/ping-a.txt" 2>&1 &
	PING_A=$!
	ip netns exec "$ns2" ping -q -i 0.01 -w 280 "$INNER_A4" >"$S/ping-b.txt" 2>&1 &
	PING_B=$!
}

reloads_done() { daemon_log "$IF_A" | grep -c "info: Reloaded " || true; }

# reload_wait N: until the log says N reloads are done (5 s at most).
reload_wait() {
	local i
	for ((i = 0; i < 1000; i++)); do
		(($(reloads_done) >= $1)) && return 0
		sleep 0.005
	done
	fail "reload $1 not done within 5 s"
}

# proc_usage W S: "FDS_W RSS_W FDS_S RSS_S" (RSS in KiB) of the worker W and supervisor S.
proc_usage() {
	local p
	for p; do
		echo -n "$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 | wc -l) $(rss_kib "$p") "
	done
}

# grown WHAT BEFORE AFTER: figures and checks of one phase from two proc_usage lines.
grown() {
	local what=$1 fw0 rw0 fs0 rs0 fw1 rw1 fs1 rs1
	read -r fw0 rw0 fs0 rs0 <<<"$2"
	read -r fw1 rw1 fs1 rs1 <<<"$3"
	figure "$what: worker fds $fw0 -> $fw1, RSS $rw0 -> $rw1 KiB;" \
		"supervisor fds $fs0 -> $fs1, RSS $rs0 -> $rs1 KiB"
	((CYCLES_RSS_CHECK)) || return 0
	expect_eq "worker fds after $what" "$fw1" "$fw0"
	expect_eq "supervisor fds after $what" "$fs1" "$fs0"
	((rw1 - rw0 < 1024)) || fail "the worker grew by $((rw1 - rw0)) KiB in $what"
	((rs1 - rs0 < 1024)) || fail "the supervisor grew by $((rs1 - rs0)) KiB in $what"
}

# cycles_run RELOADS UPDOWNS: RELOADS SIGHUPs alternating the two configs, each waited
# for; then UPDOWNS `ip link set down; up` of A's link.  fds and RSS are compared with
# the state after the first 50 of each (warm-up).  Then both pings must work, and the
# last config must be what the device runs.  Sets CYCLES_W and CYCLES_S.
cycles_run() {
	local nr=$1 nu=$2 w s i base="" t0 tr tu
	read -r w s <<<"$(wgd_pids "$ns1" "$IF_A")"
	CYCLES_W=$w CYCLES_S=$s
	figure "at start: $(proc_usage "$w" "$s")(worker fds, RSS KiB, supervisor fds, RSS KiB)"
	t0=$(now)
	for ((i = 1; i <= nr; i++)); do
		cycles_conf $((i % 2 + 1))
		kill -HUP "$s"
		reload_wait "$i"
		if ((i == 50)); then base=$(proc_usage "$w" "$s"); fi
	done
	tr=$(since "$t0")
	((nr <= 50)) || grown "$((nr - 50)) reloads after 50" "$base" "$(proc_usage "$w" "$s")"
	kill -0 "$w" "$s" || fail "A died during the reloads"
	expect_eq "A's peers after reload $nr" "$(wg show "$IF_A" peers | wc -l)" $((nr % 2 + 2))
	expect_eq "B's keepalive after reload $nr" \
		"$(peer_field "$IF_A" persistent-keepalive "$PUB_B")" "$( ((nr % 2)) && echo off || echo 25)"
	base=""
	t0=$(now)
	for ((i = 1; i <= nu; i++)); do
		ip1 link set "$IF_A" down
		ip1 link set "$IF_A" up
		if ((i == 50)); then base=$(proc_usage "$w" "$s"); fi
	done
	tu=$(since "$t0")
	wait_for 5 udp_bound "$ns1" "$PORT_A" || fail "A's port not bound after the link cycles"
	wait_for 10 ping1 "$ns1" "$INNER_B4" >/dev/null || fail "A -> B dead after the link cycles"
	((nu <= 50)) || grown "$((nu - 50)) link down/up cycles after 50" "$base" "$(proc_usage "$w" "$s")"
	ping1 "$ns2" "$INNER_A4" >/dev/null || fail "B -> A dead after the link cycles"
	kill -0 "$w" "$s" || fail "A died during the link cycles"
	figure "$nr reloads in $tr s, $nu link down/up cycles in $tu s, under pings both ways" \
		"every 10 ms (lost: A -> B $(ping_loss "$PING_A" "$S/ping-a.txt"), B -> A" \
		"$(ping_loss "$PING_B" "$S/ping-b.txt"))"
}

# ping_loss PID FILE: stop the background ping PID (ip netns exec became ping) and print
# the loss it reported in FILE.
ping_loss() {
	kill -INT "$1" 2>/dev/null || true
	wait "$1" || true
	grep -o '[0-9.]*% packet loss' "$2" | cut -d ' ' -f 1 || echo "?"
}

# 1000 reloads (SIGHUP, two configs in turn) and 500 link down/up cycles of a configured A
# (default profile: 300 and 200) under pings both ways every 10 ms: no crash, the tunnel
# works at the end, the fd counts of worker and supervisor are what they were after the
# first 50 of each, and neither grew by 1 MiB or more of RSS.
t_reload_cycles() {
	CYCLES_RSS_CHECK=1
	cycles_up "$DA"
	cycles_run $((SLOW ? 1000 : 300)) $((SLOW ? 500 : 200))
}

# 50 reloads and 50 link cycles with the ASan/UBSan/LSan build of A, which is then
# stopped with SIGTERM: no sanitizer report, and LeakSanitizer ran its check in every
# process of A (log_threads makes each check name the threads it scanned).  LSan works
# in the worker despite nobody, NO_NEW_PRIVS and PR_SET_DUMPABLE 0: its tracer sets the
# process dumpable while it stops the threads.
t_reload_lsan() {
	local wgd=$WGD_SAN opts why
	[[ -x $wgd ]] || skip "$wgd not built (make SANITIZE=1 build-san/wgd/wgd)"
	run_dir_searchable
	mkdir -m 1777 "$S/asan"
	opts="log_path=$S/asan/san:detect_leaks=1"
	CYCLES_RSS_CHECK=0
	cycles_up "$wgd" ASAN_OPTIONS="$opts" UBSAN_OPTIONS="$opts:print_stacktrace=1" \
		LSAN_OPTIONS=log_threads=1
	cycles_run 50 50
	kill -TERM "$CYCLES_S"
	wait_for 10 all_gone "$CYCLES_S" "$CYCLES_W" || fail "A still runs 10 s after SIGTERM"
	why=$(san_problems "$S/asan" "$CYCLES_S" "$CYCLES_W") || fail "A: $why"
	figure "LeakSanitizer checked $(grep -l "Processing thread" "$S"/asan/san.* | wc -l)" \
		"processes of A (launcher, supervisor $CYCLES_S, worker $CYCLES_W): no leak, no ASan or" \
		"UBSan report"
}
