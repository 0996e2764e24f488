#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The soak (issue 12 item 11; `make soak`, docs/TESTING.md "Soak"): a hub wgd with 1 000
# peers from a config file, run for SOAK_MINUTES (30) under everything at once:
#
#   - handshakes renewing: every 10 s, tests/tools/hsload sends two fresh valid initiations
#     for each of the hub's peers but B (999 keys) from 64 source addresses and checks
#     the responses (the first 128 of each round consumed in full);
#   - churn: every second a peer is added through the UAPI (`wg set`) and the one added a
#     second before is removed;
#   - a reload every 10 s (`wgctl reload`) of an edited file (B's PersistentKeepalive
#     alternates between 25 and off; a reload also drops the churned peer of the moment);
#   - a handshake flood one minute in every five: B's captured initiation replayed by
#     tests/tools/flood from 4 096 sources at SOAK_FLOOD_PPS (20 000/s);
#   - traffic: one real peer B (a bare wgd) sends TCP (iperf3 at 20 Mbit/s) and UDP
#     (iperf3 at 10 Mbit/s) to the hub for the whole run, and every 30 s 8 MiB of random
#     bytes cross the tunnel over TCP, each way in turn, checked by SHA-256 at both ends.
#
# After a warm-up (10% of the run, at least until 10 s after the first flood) it samples
# every 10 s the RSS and open fds of the hub's supervisor and worker and its peer count
# (the churned peers left out); at the end each (the median of the last minute's samples)
# must be within 5% of its value after the warm-up (the median of the first minute's).  Topology (tests/netns/lib.sh, RFC 5737/2544 addresses, namespaces only):
#
#  ns1: hub A (wa<id>, wgd -c)  --veth--  ns0 (router)  --veth--  ns2: B (wb<id>)
#                                           |  203.0.113.0/24
#                      ns3: flood and hsload sources 198.19.0.0/16 (AnyIP on lo)
#
# Output: the figures as "# soak: ..." lines, one "ok - soak/CHECK" or
# "not ok - soak/CHECK: why" line per check, and last "soak: N passed, N failed".
# The status is 1 if a check failed, 77 if this host cannot run it.
#
# Usage:
#   soak.sh              run the soak
#   soak.sh --check      0 if this host can run it, else 77 and a reason
# Environment:
#   SOAK_MINUTES=30      the length of the loaded phase (1 for a smoke run)
#   SOAK_PEERS=1000      the hub's peers from its config file (B included)
#   SOAK_LSAN=1          the hub is build-san/wgd/wgd (ASan, UBSan, LSan); stopped at the
#                        end, it must report nothing; RSS is then reported, not checked
#   SOAK_FLOOD_PPS=20000 the flood's rate
#   WGD WGD_SAN WGCTL HSLOAD FLOOD   the binaries (default wgd/wgd, build-san/wgd/wgd,
#                        ctl/wgctl, build/tests/tools/hsload and flood)
#   SOAK_B=PATH          B's daemon (default: WGD; wireguard-go works too)
#   NETNS_LOG_LEVEL (info), NETNS_VERBOSE=1 (keep the logs)

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
NETNS_LOG_LEVEL=${NETNS_LOG_LEVEL:-info}
# shellcheck source-path=SCRIPTDIR/../netns
source "$repo/tests/netns/lib.sh"
PY=/usr/bin/python3
FAULTS_PY=$repo/tests/netns/faults.py
WGD=${WGD:-$repo/wgd/wgd}
WGD_SAN=${WGD_SAN:-$repo/build-san/wgd/wgd}
WGCTL=${WGCTL:-$repo/ctl/wgctl}
HSLOAD=${HSLOAD:-$repo/build/tests/tools/hsload}
FLOOD=${FLOOD:-$repo/build/tests/tools/flood}
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_PEERS=${SOAK_PEERS:-1000}
SOAK_LSAN=${SOAK_LSAN:-0}
SOAK_FLOOD_PPS=${SOAK_FLOOD_PPS:-20000}

TUNNEL_MTU=1420
HS_NET=198.19.128.0 # hsload's sources; the flood's are 198.19.0.1 and up (FLOOD_BASE)
HS_SOURCES=64
HS_PORT=40100 # flood replay binds 40000
CHURN_KEYS=250
TRANSFER_BYTES=$((8 << 20))
TRANSFER_PORT=7101
TOLERANCE_PCT=5
SAMPLE_EVERY=10
RELOAD_EVERY=10
HS_EVERY=10 # in step with the reloads, so every sample finds both at the same point

# --- schedule -----------------------------------------------------------------------
# Times are seconds after the loaded phase starts (T0_US, in microseconds).

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# sleep_to SEC [MS]: until SEC seconds (and MS milliseconds) into the loaded phase.
sleep_to() {
	local d=$((T0_US + $1 * 1000000 + ${2:-0} * 1000 - $(now_us)))
	((d <= 0)) || sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
}

# schedule: the phase's length and when the floods, samples and transfers happen.  A
# run shorter than 5 min floods for a fifth of it; the warm-up ends 10 s after the first
# flood, so the pools a flood fills are in the baseline.  Samples are taken 5.5 s after
# a reload and 0.5 s after a churn operation, so that neither one's short-lived
# descriptors (a control or UAPI connection) is counted.
schedule() {
	DUR=$((SOAK_MINUTES * 60))
	FLOOD_EVERY=$((DUR < 300 ? DUR : 300))
	FLOOD_FOR=$((FLOOD_EVERY / 5))
	FLOOD_AT=$((DUR < 300 ? 5 : 10))
	WARMUP=$((FLOOD_AT + FLOOD_FOR + 10))
	((WARMUP >= DUR / 10)) || WARMUP=$((DUR / 10))
	WARMUP=$(((WARMUP + 9) / 10 * 10 + 5))
	TRANSFER_EVERY=$((DUR < 120 ? 15 : 30))
}

# --- small helpers --------------------------------------------------------------------

figure() { echo "$*" >>"$S/figures"; }

# verdict NAME ok|TEXT: one check's outcome (TEXT: why it failed).
verdict() {
	if [[ $2 == ok ]]; then echo "ok - soak/$1"; else echo "not ok - soak/$1: $2"; fi >>"$S/checks"
}

# note_error TEXT: what went wrong in the background loop $LOOP.
note_error() { echo "$*" >>"$S/errors-$LOOP"; }

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
anon_kib() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# static_peers: the hub's peers that are not churned ones.
static_peers() { wg show "$IF_A" peers | grep -cvxF -f "$S/churn.pub" || true; }

# jsum FILE KEY: KEY summed over the JSON lines of FILE.
jsum() {
	"$PY" -c 'import json, sys
print(sum(json.loads(l)[sys.argv[2]] for l in open(sys.argv[1]) if l.strip()))' "$1" "$2"
}

# within NAME WHAT BASE END: END within TOLERANCE_PCT of BASE.
within() {
	local d=$(($4 - $3))
	((d < 0)) && d=$((-d))
	if ((d * 100 <= $3 * TOLERANCE_PCT)); then
		verdict "$1" ok
	else
		verdict "$1" "$2 $3 after the warm-up, $4 at the end (more than $TOLERANCE_PCT% apart)"
	fi
}

# pct BASE END: the change in percent, one decimal.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", a ? 100 * (b - a) / a : 0 }'; }

# --- setup ----------------------------------------------------------------------------

# hub_conf KEEPALIVE: the hub's file; B's PersistentKeepalive is what changes between
# reloads.  The other peers' sections are rendered once (hub_peers).
hub_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' "$(cat "$S/a.key")" "$PORT_A"
		printf 'Address = %s/24\nMTU = %s\n' "$INNER_A4" "$TUNNEL_MTU"
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
			"$PUB_B" "$INNER_B4" "$(site_ep 2 4 "$PORT_B")"
		printf 'PersistentKeepalive = %s\n' "$1"
		cat "$S/hs.peers"
	} >"$S/a.conf.tmp"
	mv -f "$S/a.conf.tmp" "$S/a.conf"
}

# keys_up: the hub's and B's keys, hsload's initiators (their sections of the hub's
# file, each with a /32 of 198.18.100.0 and up) and the churned peers' keys.
keys_up() {
	key_new a
	key_new b
	PUB_A=$(pub a) PUB_B=$(pub b)
	"$HSLOAD" keygen $((SOAK_PEERS - 1)) >"$S/hs.keys"
	awk '{ i = NR - 1; printf "\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.18.%d.%d/32\n",
		$2, 100 + int(i / 250), i % 250 + 1 }' "$S/hs.keys" >"$S/hs.peers"
	"$HSLOAD" keygen "$CHURN_KEYS" | cut -d ' ' -f 2 >"$S/churn.pub"
}

# hub_up: A, `wgd -c` in ns1 (the sanitizer build under SOAK_LSAN=1, logging to
# $S/asan); sets HUB_W and HUB_S (worker and supervisor).
hub_up() {
	local env=() wgd=$WGD opts
	hub_conf 0
	if ((SOAK_LSAN)); then
		# The worker runs unprivileged: it must reach $S/asan to write its log.
		chmod 711 "${S%/*}" "$S"
		mkdir -m 1777 "$S/asan"
		opts="log_path=$S/asan/san:detect_leaks=1"
		env=(ASAN_OPTIONS="$opts" UBSAN_OPTIONS="$opts:print_stacktrace=1"
			LSAN_OPTIONS=log_threads=1)
		wgd=$WGD_SAN
	fi
	timeout -k 2 60 ip netns exec "$ns1" env LOG_LEVEL="$NETNS_LOG_LEVEL" "${env[@]}" \
		"$wgd" -c "$S/a.conf" "$IF_A" </dev/null >>"$S/daemon-$IF_A.log" 2>&1 ||
		fail "wgd -c $IF_A: launcher exited with $?"
	wait_for 10 udp_bound "$ns1" "$PORT_A" || fail "A did not bind its port"
	read -r HUB_W HUB_S <<<"$(pids "$ns1" "$IF_A")"
}

# b_up: B, a bare daemon in ns2 with the hub as its peer; its first initiation to A,
# captured in ns0, is what the floods replay ($S/init.bin).
b_up() {
	local sniffer
	daemon_start "$ns2" "$IF_B" "$DB"
	wg set "$IF_B" private-key "$S/b.key" listen-port "$PORT_B" peer "$PUB_A" \
		allowed-ips "$INNER_A4/32" endpoint "$(site_ep 1 4 "$PORT_A")"
	inner_up "$ns2" "$IF_B" "$INNER_B4" "$INNER_B6" "$PORT_B"
	ip2 link set dev "$IF_B" mtu "$TUNNEL_MTU"
	ip netns exec "$ns0" timeout 20 "$PY" "$FAULTS_PY" sniff site1 "$S/init.bin" 15 \
		to "$PORT_A" 1 148 148 &
	sniffer=$!
	wait_for 5 test -e "$S/init.bin.ready" || fail "sniffer on site1 did not start"
	wait_for 10 ping1 "$ns2" "$INNER_A4" >/dev/null || fail "no tunnel B -> A"
	wait "$sniffer" || fail "no initiation from B captured"
}

# --- the loads, each a background loop until DUR ---------------------------------------

# churn_loop: every second one peer in through the UAPI, the previous one out.
churn_loop() {
	local LOOP=churn t i=0 key prev="" ops=0 keys
	set +x
	mapfile -t keys <"$S/churn.pub"
	for ((t = 1; t < DUR; t++)); do
		sleep_to "$t"
		key=${keys[i % CHURN_KEYS]}
		if wg set "$IF_A" peer "$key" allowed-ips "198.18.250.$((i % CHURN_KEYS + 1))/32"; then
			((++ops))
		else
			note_error "wg set $IF_A peer $key (add) exited with $? at $t s"
		fi
		if [[ -n $prev ]]; then
			if wg set "$IF_A" peer "$prev" remove; then
				((++ops))
			else
				note_error "wg set $IF_A peer $prev remove exited with $? at $t s"
			fi
		fi
		prev=$key
		((++i))
	done
	[[ -z $prev ]] || { wg set "$IF_A" peer "$prev" remove && ((++ops)); } ||
		note_error "the last churned peer could not be removed"
	echo "$ops" >"$S/churn.ops"
}

# reload_loop: every RELOAD_EVERY s the file with B's keepalive flipped, `wgctl reload`.
reload_loop() {
	local LOOP=reload k t out ndone=0
	set +x
	for ((k = 1; (t = k * RELOAD_EVERY) < DUR; k++)); do
		sleep_to "$t"
		hub_conf $((k % 2 ? 25 : 0))
		if out=$(ip netns exec "$ns1" timeout 30 "$WGCTL" reload "$IF_A" 2>&1) &&
			[[ $out == Reloaded* ]]; then
			((++ndone))
			echo "$t $out" >>"$S/reloads.log"
		else
			note_error "reload at $t s: $out"
		fi
	done
	echo "$ndone $(((k - 1) % 2 ? 25 : 0))" >"$S/reload.result"
}

# hs_loop: every HS_EVERY s a fresh pool (timestamps of now) of two initiations per key,
# sent by hsload from ns3; one JSON line per round.  Two: hsload puts the hub under load
# itself, so the first initiation from each source meets a cookie reply (hsload does not
# send that one again), and the same keys would come first in every round.
hs_loop() {
	local LOOP=hs k t
	set +x
	for ((k = 0; (t = 1 + k * HS_EVERY) <= DUR - 10; k++)); do
		sleep_to "$t"
		if ! "$HSLOAD" pool --keys "$S/hs.keys" --responder "$PUB_A" \
			--count $((2 * (SOAK_PEERS - 1))) --verify 128 --out "$S/pool.bin"; then
			note_error "hsload pool exited with $? at $t s"
			continue
		fi
		ip netns exec "$ns3" timeout 60 "$HSLOAD" run --keys "$S/hs.keys" \
			--pool "$S/pool.bin" --to "$SITE1_HOST4" --to-port "$PORT_A" --src-net "$HS_NET" \
			--sources "$HS_SOURCES" --port "$HS_PORT" --window 32 --timeout-ms 2000 \
			--warmup 0 --duration 30 >>"$S/hs.jsonl" ||
			note_error "hsload run exited with $? at $t s"
	done
}

# flood_loop: from FLOOD_AT s in every FLOOD_EVERY s, FLOOD_FOR s of replays.
flood_loop() {
	local LOOP=flood k t
	set +x
	for ((k = 0; (t = FLOOD_AT + k * FLOOD_EVERY) + FLOOD_FOR <= DUR; k++)); do
		sleep_to "$t"
		ip netns exec "$ns3" timeout $((FLOOD_FOR + 15)) "$FLOOD" replay \
			--packet "$S/init.bin" --to "$SITE1_HOST4:$PORT_A" --src-net "$FLOOD_BASE" \
			--sources 4096 --pps "$SOAK_FLOOD_PPS" --duration "$FLOOD_FOR" >>"$S/flood.jsonl" ||
			note_error "flood exited with $? at $t s"
	done
}

# transfer_loop: every TRANSFER_EVERY s, TRANSFER_BYTES random bytes over TCP through
# the tunnel, A -> B and B -> A in turn; one line "SECONDS DIRECTION BYTES SENT-SHA256
# RECEIVED-BYTES RECEIVED-SHA256" per transfer.
transfer_loop() {
	local LOOP=transfer k t from to addr sink
	set +x
	for ((k = 0; (t = 10 + k * TRANSFER_EVERY) <= DUR - 10; k++)); do
		sleep_to "$t"
		if ((k % 2)); then from=$ns2 to=$ns1 addr=$INNER_A4; else from=$ns1 to=$ns2 addr=$INNER_B4; fi
		rm -f "$S/tx.src" "$S/tx.sink"
		ip netns exec "$to" timeout 120 "$PY" "$FAULTS_PY" tcp-sink "$addr" "$TRANSFER_PORT" \
			"$S/tx.sink" &
		sink=$!
		if ! wait_for 5 tcp_listening "$to" "$TRANSFER_PORT"; then
			note_error "transfer $k: the TCP sink did not start"
			kill "$sink" 2>/dev/null
			wait "$sink" || true
			continue
		fi
		ip netns exec "$from" timeout 120 "$PY" "$FAULTS_PY" tcp-source "$addr" \
			"$TRANSFER_PORT" "$TRANSFER_BYTES" 0 "$S/tx.src" ||
			note_error "transfer $k: the TCP source exited with $?"
		wait "$sink" || note_error "transfer $k: the TCP sink exited with $?"
		echo "$t $( ((k % 2)) && echo B-A || echo A-B)" \
			"$(jget_or "$S/tx.src" 'j["bytes"], j["sha256"]')" \
			"$(jget_or "$S/tx.sink" 'j["bytes"], j["sha256"]')" >>"$S/transfers"
	done
}

# jget_or FILE EXPR: EXPR's values over the JSON in FILE, blank-separated, or "- -".
jget_or() {
	"$PY" -c 'import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(*eval(sys.argv[2]))
except Exception:
    print("- -")' "$1" "$2"
}

# sampler: from the warm-up's end, every SAMPLE_EVERY s "SECONDS WORKER-RSS SUPERVISOR-RSS
# WORKER-FDS SUPERVISOR-FDS PEERS WORKER-ANON SUPERVISOR-ANON" (VmRSS and its anonymous
# part RssAnon, in KiB) while the loads run.
sampler() {
	local LOOP=sample t
	set +x
	for ((t = WARMUP; t < DUR; t += SAMPLE_EVERY)); do
		sleep_to "$t" 500
		echo "$t $(rss_kib "$HUB_W") $(rss_kib "$HUB_S") $(fds "$HUB_W") $(fds "$HUB_S")" \
			"$(static_peers) $(anon_kib "$HUB_W") $(anon_kib "$HUB_S")" >>"$S/samples" ||
			note_error "no sample at $t s: the hub is gone?"
		fd_list "$HUB_W" >"$S/fds-worker.$t"
		fd_list "$HUB_S" >"$S/fds-supervisor.$t"
	done
}

# fd_list PID: what each open fd of PID is (socket:[inode], anon_inode:[timerfd], ...).
fd_list() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f %l\n' 2>/dev/null | sort -n; }

# fd_change WHO: the fds of the hub's WHO (worker|supervisor) that differ between the
# first and the last sample ("-" gone, "+" new).
fd_change() {
	local first last
	first=$(find "$S" -name "fds-$1.*" | sort -t . -k 2 -n | head -n 1)
	last=$(find "$S" -name "fds-$1.*" | sort -t . -k 2 -n | tail -n 1)
	diff "$first" "$last" | sed -n 's/^< /-/p; s/^> /+/p' | tr '\n' ' '
}

# iperf_up: TCP and UDP iperf3 from B to A for the whole phase (one-off servers).
iperf_up() {
	local port
	for port in 5201 5202; do
		n1 timeout $((DUR + 90)) iperf3 -s -1 -B "$INNER_A4" -p "$port" >"$S/iperf-s-$port.log" 2>&1 &
		wait_for 5 tcp_listening "$ns1" "$port" || fail "iperf3 server on $port did not start"
	done
	n2 timeout $((DUR + 60)) iperf3 -c "$INNER_A4" -p 5201 -t $((DUR + 5)) -b 20M -i 10 -J \
		>"$S/iperf-tcp.json" 2>"$S/iperf-tcp.err" &
	IPERF_TCP=$!
	n2 timeout $((DUR + 60)) iperf3 -c "$INNER_A4" -p 5202 -u -t $((DUR + 5)) -b 10M -i 10 -J \
		>"$S/iperf-udp.json" 2>"$S/iperf-udp.err" &
	IPERF_UDP=$!
}

# --- the verdicts -------------------------------------------------------------------------

# window_median FIRST|LAST W: the median of each column over the first or last W samples
# (the lower middle one for an even W).
window_median() {
	local pick="head"
	[[ $1 == last ]] && pick="tail"
	"$pick" -n "$2" "$S/samples" | awk -v w="$2" '{ for (c = 1; c <= NF; c++) v[c, NR] = $c }
		END { for (c = 1; c <= NF; c++) {
			for (i = 1; i <= w; i++) a[i] = v[c, i]
			for (i = 2; i <= w; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
			printf "%s%s", a[int((w + 1) / 2)], c < NF ? " " : "\n" } }'
}

# usage_verdicts: RSS, fds and peers at the end against their values after the warm-up,
# each the median of a minute's samples (fewer in a short run), so that one sample
# taken while the heap holds a reply being built does not decide.  The RSS checked is
# its anonymous part (heap, stacks: where a leak shows); the pages of the binary and
# the libraries (RssFile, some 2 MiB) come and go with the page cache, and VmRSS, which
# counts both, is reported.
usage_verdicts() {
	local n w bw bs bfw bfs bp baw bas ew es efw efs ep eaw eas
	n=$(wc -l <"$S/samples")
	((n >= 2)) || { verdict samples "only $n samples taken"; return 0; }
	w=$((n / 3))
	((w >= 1)) || w=1
	((w <= 60 / SAMPLE_EVERY)) || w=$((60 / SAMPLE_EVERY))
	read -r _ bw bs bfw bfs bp baw bas <<<"$(window_median first "$w")"
	read -r _ ew es efw efs ep eaw eas <<<"$(window_median last "$w")"
	figure "medians of the first and last $w of $n samples: worker RSS $bw -> $ew KiB" \
		"($(pct "$bw" "$ew"); $(range 2)), anonymous $baw -> $eaw KiB ($(pct "$baw" "$eaw");" \
		"$(range 7)), fds $bfw -> $efw; supervisor RSS $bs -> $es KiB ($(pct "$bs" "$es");" \
		"$(range 3)), anonymous $bas -> $eas KiB ($(pct "$bas" "$eas"); $(range 8)), fds $bfs -> $efs"
	figure "peers $bp -> $ep (churned ones left out; $(range 6))"
	if ((SOAK_LSAN)); then
		figure "RSS not checked under ASan (its quarantine holds freed memory)"
	else
		within rss-worker "worker RSS, anonymous (KiB)" "$baw" "$eaw"
		within rss-supervisor "supervisor RSS, anonymous (KiB)" "$bas" "$eas"
	fi
	within fds-worker "worker fds" "$bfw" "$efw"
	within fds-supervisor "supervisor fds" "$bfs" "$efs"
	[[ $bfw == "$efw" ]] || figure "worker fds changed: $(fd_change worker)"
	[[ $bfs == "$efs" ]] || figure "supervisor fds changed: $(fd_change supervisor)"
	within peers "peers" "$bp" "$ep"
	if [[ $bp == "$SOAK_PEERS" ]]; then
		verdict peers-configured ok
	else
		verdict peers-configured "$bp peers after the warm-up, $SOAK_PEERS configured"
	fi
}

# range COLUMN: "min-max" of that column of the samples.
range() { awk -v c="$1" 'NR == 1 || $c < lo { lo = $c } NR == 1 || $c > hi { hi = $c }
	END { printf "range %d-%d", lo, hi }' "$S/samples"; }

# loop_verdict NAME LOOP: ok unless LOOP recorded an error.
loop_verdict() {
	if [[ -s $S/errors-$2 ]]; then
		verdict "$1" "$(wc -l <"$S/errors-$2") errors, first: $(head -n 1 "$S/errors-$2")"
	else
		verdict "$1" ok
	fi
}

hs_verdicts() {
	local rounds sent resp cookies timeouts verified bad
	rounds=$(wc -l <"$S/hs.jsonl" 2>/dev/null || echo 0)
	((rounds > 0)) || { verdict handshakes "no hsload round completed"; return 0; }
	sent=$(jsum "$S/hs.jsonl" sent) resp=$(jsum "$S/hs.jsonl" responses)
	cookies=$(jsum "$S/hs.jsonl" cookie_replies) timeouts=$(jsum "$S/hs.jsonl" timeouts)
	verified=$(jsum "$S/hs.jsonl" verified) bad=$(jsum "$S/hs.jsonl" verify_failed)
	figure "handshakes: $resp completed of $sent initiations in $rounds rounds of 2 x" \
		"$((SOAK_PEERS - 1)) keys ($cookies cookie replies, $timeouts timeouts; $verified" \
		"responses consumed in full, $bad failed)"
	if [[ -s $S/errors-hs ]]; then
		loop_verdict handshakes hs
	elif ((bad > 0 || verified == 0)); then
		verdict handshakes "$bad responses failed to complete the handshake, $verified did"
	elif ((resp * 2 < sent)); then
		verdict handshakes "only $resp responses to $sent initiations"
	else
		verdict handshakes ok
	fi
}

transfer_verdicts() {
	local n bad
	n=$(wc -l <"$S/transfers" 2>/dev/null || echo 0)
	bad=$(awk '$3 != $5 || $4 != $6 || $3 == "-"' "$S/transfers" 2>/dev/null | wc -l)
	figure "transfers: $((n - bad)) of $n bit-exact ($((TRANSFER_BYTES >> 20)) MiB each way in" \
		"turn, SHA-256 at both ends; first $(awk 'NR == 1 { print $2, substr($4, 1, 16) "..." }' \
			"$S/transfers" 2>/dev/null))"
	if [[ -s $S/errors-transfer ]]; then
		loop_verdict transfers transfer
	elif ((n == 0 || bad > 0)); then
		verdict transfers "$bad of $n transfers differ at the two ends"
	else
		verdict transfers ok
	fi
}

flood_verdicts() {
	local n cookies
	n=$(wc -l <"$S/flood.jsonl" 2>/dev/null || echo 0)
	((n > 0)) || { verdict floods "no flood ran"; return 0; }
	cookies=$(jsum "$S/flood.jsonl" cookie_replies)
	figure "floods: $n of ${FLOOD_FOR} s, $(jsum "$S/flood.jsonl" sent) replays sent," \
		"$cookies cookie replies from the hub"
	if [[ -s $S/errors-flood ]]; then
		loop_verdict floods flood
	elif ((cookies == 0)); then
		verdict floods "the hub sent no cookie reply: never under load"
	else
		verdict floods ok
	fi
}

reload_verdicts() {
	local ndone keep got
	read -r ndone keep <"$S/reload.result" || { verdict reloads "the reload loop left no result"; return 0; }
	figure "reloads: $ndone, last: $(tail -n 1 "$S/reloads.log" 2>/dev/null | cut -d ' ' -f 2-)"
	got=$(peer_field "$IF_A" persistent-keepalive "$PUB_B")
	[[ $keep == 0 ]] && keep=off
	if [[ -s $S/errors-reload ]]; then
		loop_verdict reloads reload
	elif ((ndone == 0)); then
		verdict reloads "no reload done"
	elif [[ $got != "$keep" ]]; then
		verdict reloads "B's keepalive is '$got' after the last reload, the file says '$keep'"
	else
		verdict reloads ok
	fi
}

# iperf_verdict NAME PID FILE ERRFILE: iperf3 finished; what the receiver counted.
iperf_verdict() {
	local rc=0 sum
	wait "$2" || rc=$?
	sum=$("$PY" -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]
r = e.get("sum_received") or e["sum"]
print("%.1f Mbit/s received, %d MiB" % (r["bits_per_second"] / 1e6, r["bytes"] >> 20)
      + (", %.2f%% lost" % e["sum"]["lost_percent"] if "lost_percent" in e.get("sum", {}) else ""))' \
		"$3" 2>/dev/null) || sum="no result"
	figure "$1: $sum"
	if ((rc == 0)); then verdict "$1" ok; else verdict "$1" "iperf3 exited with $rc: $(head -c 200 "$4")"; fi
}

# lsan_verdict: the sanitizer hub stopped by SIGTERM reported nothing.
lsan_verdict() {
	local why
	kill -TERM "$HUB_S"
	if ! wait_for 30 all_gone "$HUB_S" "$HUB_W"; then
		verdict lsan "A still runs 30 s after SIGTERM"
	elif why=$(san_problems "$S/asan" "$HUB_S" "$HUB_W"); then
		figure "LeakSanitizer ran in the supervisor and the worker: no leak, no ASan or UBSan report"
		verdict lsan ok
	else
		verdict lsan "$why"
	fi
}

# --- the run ---------------------------------------------------------------------------

soak_run() {
	local loops=() t0 why p
	schedule
	: >"$S/checks"
	topo_up
	flood_ns_up
	keys_up
	t0=$SECONDS
	hub_up
	figure "$SOAK_MINUTES min loaded, warm-up $WARMUP s, $SOAK_PEERS peers in the file" \
		"(A up in $((SECONDS - t0)) s); floods of $FLOOD_FOR s at $SOAK_FLOOD_PPS/s every" \
		"$FLOOD_EVERY s from $FLOOD_AT s; reloads every $RELOAD_EVERY s; churn every 1 s;" \
		"hsload rounds every $HS_EVERY s; transfers every $TRANSFER_EVERY s$( ((SOAK_LSAN)) &&
			echo "; hub under ASan/UBSan/LSan")"
	b_up
	iperf_up
	T0_US=$(now_us)
	churn_loop &
	loops+=($!)
	reload_loop &
	loops+=($!)
	hs_loop &
	loops+=($!)
	flood_loop &
	loops+=($!)
	transfer_loop &
	loops+=($!)
	sampler &
	loops+=($!)
	for p in "${loops[@]}"; do
		wait "$p" || verdict loops "a load loop stopped early (status $?): see the log"
	done
	iperf_verdict iperf-tcp "$IPERF_TCP" "$S/iperf-tcp.json" "$S/iperf-tcp.err"
	iperf_verdict iperf-udp "$IPERF_UDP" "$S/iperf-udp.json" "$S/iperf-udp.err"
	if kill -0 "$HUB_W" "$HUB_S" 2>/dev/null; then
		verdict hub-alive ok
	else
		verdict hub-alive "the hub's supervisor $HUB_S or worker $HUB_W is gone"
	fi
	ping1 "$ns2" "$INNER_A4" >/dev/null && why=ok || why="B -> A ping failed at the end"
	verdict tunnel-at-end "$why"
	usage_verdicts
	hs_verdicts
	transfer_verdicts
	flood_verdicts
	reload_verdicts
	figure "churn: $(cat "$S/churn.ops" 2>/dev/null || echo 0) UAPI operations (peer add or remove)"
	loop_verdict churn churn
	((SOAK_LSAN == 0)) || lsan_verdict
}

# --- command line ----------------------------------------------------------------------

env_check() {
	local b
	for b in "$WGD" "$WGCTL" "$HSLOAD" "$FLOOD"; do
		[[ -x $b ]] || { echo "$b not built (make all tools)"; return 77; }
	done
	if ((SOAK_LSAN)); then
		[[ -x $WGD_SAN ]] || { echo "$WGD_SAN not built (make SANITIZE=1 build-san/wgd/wgd)"; return 77; }
	fi
	command -v iperf3 >/dev/null || { echo "iperf3 not installed"; return 77; }
	"$PY" -c 'import json' 2>/dev/null || { echo "$PY missing"; return 77; }
	[[ $SOAK_MINUTES =~ ^[1-9][0-9]*$ ]] || { echo "SOAK_MINUTES=$SOAK_MINUTES: not a number of minutes"; return 77; }
	if ! [[ $SOAK_PEERS =~ ^[0-9]+$ ]] || ((SOAK_PEERS < 2 || SOAK_PEERS > 30000)); then
		echo "SOAK_PEERS=$SOAK_PEERS: not in [2, 30000]"
		return 77
	fi
	WGD=$WGD bash "$repo/tests/netns/netns.sh" --check
}

# private_copies: the run uses copies of the binaries, which may be rebuilt meanwhile.
private_copies() {
	cp "$WGD" "$T/wgd" && cp "$WGCTL" "$T/wgctl" && cp "$HSLOAD" "$T/hsload" &&
		cp "$FLOOD" "$T/flood" || exit 1
	if ((SOAK_LSAN)); then cp "$WGD_SAN" "$T/wgd-san" || exit 1; fi
	DB=${SOAK_B:-$T/wgd}
	WGD=$T/wgd WGCTL=$T/wgctl HSLOAD=$T/hsload FLOOD=$T/flood WGD_SAN=$T/wgd-san
	export WGD WGCTL HSLOAD FLOOD WGD_SAN DB SOAK_MINUTES SOAK_PEERS SOAK_LSAN SOAK_FLOOD_PPS
}

# main: the run in a process of its own (lib.sh's `one`, traced to $S/log), torn down
# whatever happens; then the figures, the checks and the totals.
main() {
	local rc passed failed why
	why=$(env_check) || { echo "# soak cannot run here: $why"; echo "soak: 0 passed, 0 failed"; exit 77; }
	T=$(mktemp -d /tmp/wgd-soak.XXXXXX) || exit 1
	S=$T/soak
	mkdir -p "$S"
	keep=0
	export NETNS_RUNID=$$
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	syslog_start "$T/syslog"
	private_copies
	topo_down >/dev/null 2>&1
	NETNS_S=$S timeout -k 10 $((SOAK_MINUTES * 60 + 600)) bash "$here/soak.sh" --one soak_run \
		>"$S/log" 2>&1 </dev/null &
	scenario=$!
	wait "$scenario"
	rc=$?
	scenario=
	topo_down >>"$S/log" 2>&1 || topo_down >/dev/null 2>&1
	[[ -e $S/figures ]] && sed 's/^/# soak: /' "$S/figures"
	[[ -e $S/checks ]] && cat "$S/checks"
	if ((rc != 0)); then
		case $rc in
		124 | 137) why="timed out" ;;
		*) why=$(head -n 1 "$S/reason" 2>/dev/null) ;;
		esac
		echo "not ok - soak/run: ${why:-exit status $rc}"
		echo "not ok - soak/run: ${why:-exit status $rc}" >>"$S/checks"
	fi
	passed=$(grep -c '^ok - ' "$S/checks" 2>/dev/null)
	failed=$(grep -c '^not ok - ' "$S/checks" 2>/dev/null)
	if ((failed)); then
		tail -n 25 "$S/log" | sed 's/^/#   /'
		keep=1
	fi
	echo "soak: ${passed:-0} passed, ${failed:-0} failed"
	((failed == 0))
}

case ${1:-} in
--check) env_check ;;
--one) shift; one "$@" ;;
"") main ;;
*) sed -n '/^# Usage:/,/^# Environment/p' "$0" >&2; exit 2 ;;
esac
