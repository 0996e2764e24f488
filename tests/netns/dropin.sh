#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Drop-ins (IF.d/*.conf beside IF.conf) and the plan before a reload
# (`wgctl reload IF --dry-run`, `wgctl check IF`, --json): one file per branch
# brings up as many peers as one big file does; adding or deleting a file and
# reloading adds or removes exactly that peer (and its route) while every other
# session keeps its handshake; a drop-in with [Interface], a key defined twice
# and a world-writable drop-in are each refused naming the places, with the
# running state unchanged; and a dry run says what would change, exit 2, or
# that nothing would, exit 0, changing nothing.
#
#  ns1: wa<id> (wgctl up, etc/wa<id>.conf + etc/wa<id>.d/)
#        --veth--  ns0 (router)  --veth--  ns2: wb<id>, wc<id> (wgd, bare, wg set)
#
# Usage:
#   dropin.sh --check            0 if this host can run it, else 77 and a reason
#   dropin.sh --list             scenario names (after NETNS_ONLY)
#   dropin.sh run LABEL WGD      run the scenarios with WGD as the daemon
# Environment: NETNS_ONLY, NETNS_LOG_LEVEL, NETNS_VERBOSE=1 as for netns.sh.

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/lib.sh"

WGCTL=${WGCTL:-$repo/ctl/wgctl}
WIREGUARD_GO=${WIREGUARD_GO:-$(command -v wireguard-go)}

# shellcheck disable=SC2034 # read through a nameref
DROPIN_TESTS=(
	"dropin-many-up 90 t_many_up"
	"dropin-add-remove-keeps-sessions 60 t_add_remove"
	"dropin-refused 60 t_refused"
	"dropin-save-to 60 t_save_to"
	"dropin-go-peers-only 60 t_go"
)

MANY=300
PORT_C=$((PORT_B + 1))

# --- helpers -------------------------------------------------------------------

etc() { echo "$S/etc"; }
dropins() { echo "$S/etc/$IF_A.d"; }

# runs CMD...: CMD with wgctl's config directory; output in $S/out, $S/err, the
# exit status kept in $S/rc (so that a refusal can be asserted on).
runs() {
	local rc=0
	WGCTL_CONF_DIR=$(etc) WGD=$WGD LOG_LEVEL=$NETNS_LOG_LEVEL "$@" \
		>"$S/out" 2>"$S/err" </dev/null || rc=$?
	echo "$rc" >"$S/rc"
}
ctl() { runs "$WGCTL" "$@"; }
rc_is() {
	[[ $(cat "$S/rc") == "$2" ]] ||
		fail "$1: exit status $(cat "$S/rc"), not $2 (stderr: $(head -c 300 "$S/err"))"
}
err_has() { grep -qF -- "$2" "$S/err" || fail "$1: stderr '$(head -c 400 "$S/err")' lacks '$2'"; }
out_has() { grep -qF -- "$2" "$S/out" || fail "$1: stdout '$(head -c 400 "$S/out")' lacks '$2'"; }

# main_conf [LINES...]: A's main file: key, port, address, extra lines.
main_conf() {
	local line
	mkdir -p "$(etc)"
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$S/a.key")"
		echo "ListenPort = $PORT_A"
		echo "Address = $INNER_A4/24"
		for line; do echo "$line"; done
	} >"$(etc)/$IF_A.conf"
}

# peer_section PUB PREFIX [ENDPOINT]: one [Peer], keepalive on with an endpoint.
peer_section() {
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$1" "$2"
	[[ -z ${3:-} ]] || printf 'Endpoint = %s\nPersistentKeepalive = 25\n' "$3"
}

# dropin NAME PUB PREFIX [ENDPOINT]: IF.d/NAME holding that one peer.
dropin() {
	mkdir -p "$(dropins)"
	peer_section "$2" "$3" "${4:-}" >"$(dropins)/$1"
}

# bare_peer IFNAME PORT KEYNAME: a bare wgd in ns2 that knows A, up.
bare_peer() {
	daemon_start "$ns2" "$1" "$WGD"
	wg set "$1" private-key "$S/$3.key" listen-port "$2" peer "$(pub a)" \
		allowed-ips "$INNER_A4/32"
	ip2 link set "$1" up
}

handshake_of() { peer_field "$IF_A" latest-handshakes "$1"; }
has_handshake() { [[ $(handshake_of "$1") =~ ^[1-9] ]]; }

# state: what a refused reload or a dry run must leave as it was: the device's
# whole configuration, the interface's addresses, routes and MTU.
state() {
	wg showconf "$IF_A"
	ip1 -o addr show dev "$IF_A" | awk '{ print $3, $4 }'
	ip1 route show dev "$IF_A"
	ip1 -o link show dev "$IF_A" | grep -o 'mtu [0-9]*'
}

# --- scenarios -----------------------------------------------------------------

# many_keys N: N random public keys, one a line (any 32 bytes are a key to wg).
many_keys() {
	/usr/bin/python3 -c 'import base64, os, sys
for _ in range(int(sys.argv[1])):
    print(base64.b64encode(os.urandom(32)).decode())' "$1"
}

# up_ms: `wgctl up` of A, in milliseconds, then checks every peer is there.
up_ms() {
	local t0 t1
	t0=$(date +%s%N)
	ip netns exec "$ns1" env WGCTL_CONF_DIR="$(etc)" WGD="$WGD" \
		LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGCTL" up "$IF_A" </dev/null \
		>>"$S/daemon-$IF_A.log" 2>&1 || fail "wgctl up $IF_A ($1)"
	t1=$(date +%s%N)
	expect_eq "peers up ($1)" "$(wg show "$IF_A" peers | sort)" "$(sort "$S/keys")"
	expect_eq "routes ($1)" "$(ip1 route show dev "$IF_A" | grep -c '^198\.18\.')" \
		"$((MANY + 1))"
	echo $(((t1 - t0) / 1000000))
}

# 300 peers in 300 drop-ins, then the same 300 in the main file: both come up
# whole; the two times are reported, not asserted.
t_many_up() {
	local i=0 key files_ms one_ms
	topo_up
	key_new a
	many_keys "$MANY" >"$S/keys"
	main_conf
	while read -r key; do
		dropin "$(printf 'branch-%03d.conf' "$i")" "$key" "198.18.$((i / 250)).$((i % 250 + 1))/32"
		i=$((i + 1))
	done <"$S/keys"
	expect_eq "drop-in files" "$(find "$(dropins)" -name '*.conf' | wc -l)" "$MANY"
	files_ms=$(up_ms "$MANY files")
	ctl down "$IF_A"
	rc_is "down" 0
	cat "$(dropins)"/*.conf >>"$(etc)/$IF_A.conf"
	rm -rf "$(dropins)"
	one_ms=$(up_ms "one file")
	echo "dropin: up $MANY files $files_ms ms, one file $one_ms ms" >>"$S/figures"
	ctl down "$IF_A"
	rc_is "down" 0
}

# A with B and C, each in a drop-in, sessions up: the base of the next two.
sessions_up() {
	topo_up
	key_new a
	key_new b
	key_new c
	key_new d
	bare_peer "$IF_B" "$PORT_B" b
	bare_peer "$IF_C" "$PORT_C" c
	main_conf
	dropin 10-b.conf "$(pub b)" 198.18.41.0/24 "$SITE2_HOST4:$PORT_B"
	dropin 20-c.conf "$(pub c)" 198.18.42.0/24 "$SITE2_HOST4:$PORT_C"
	up_a
	wait_for 15 has_handshake "$(pub b)" || fail "no handshake with B"
	wait_for 15 has_handshake "$(pub c)" || fail "no handshake with C"
}

up_a() {
	ip netns exec "$ns1" env WGCTL_CONF_DIR="$(etc)" WGD="$WGD" \
		LOG_LEVEL="$NETNS_LOG_LEVEL" "$WGCTL" up "$IF_A" </dev/null \
		>>"$S/daemon-$IF_A.log" 2>&1 || fail "wgctl up $IF_A"
}

# Adding a file and reloading adds exactly its peer and route; B's and C's
# handshakes stay the ones they had; deleting it removes exactly that again. A
# route deleted by hand is in the plan, and back after the reload.
t_add_remove() {
	local hb hc
	sessions_up
	hb=$(handshake_of "$(pub b)")
	hc=$(handshake_of "$(pub c)")
	sleep 1.2 # a handshake redone by the reload would show a later second
	dropin 30-d.conf "$(pub d)" 198.18.43.0/24
	ctl reload "$IF_A"
	rc_is "reload adding 30-d.conf" 0
	out_has "reload adding" "peers 1 added, 0 removed, 0 changed, 2 unchanged"
	out_has "reload adding" "routes 1 added, 0 removed"
	expect_eq "peers after adding" "$(wg show "$IF_A" peers | sort)" \
		"$(printf '%s\n' "$(pub b)" "$(pub c)" "$(pub d)" | sort)"
	expect_eq "route of D" "$(ip1 route show 198.18.43.0/24 dev "$IF_A" | wc -l)" 1
	expect_eq "B's handshake after adding" "$(handshake_of "$(pub b)")" "$hb"
	expect_eq "C's handshake after adding" "$(handshake_of "$(pub c)")" "$hc"
	rm "$(dropins)/30-d.conf"
	ctl reload "$IF_A"
	rc_is "reload after deleting 30-d.conf" 0
	out_has "reload deleting" "peers 0 added, 1 removed, 0 changed, 2 unchanged"
	out_has "reload deleting" "routes 0 added, 1 removed"
	expect_eq "peers after deleting" "$(wg show "$IF_A" peers | sort)" \
		"$(printf '%s\n' "$(pub b)" "$(pub c)" | sort)"
	expect_eq "route of D after deleting" "$(ip1 route show 198.18.43.0/24 dev "$IF_A" | wc -l)" 0
	expect_eq "B's route stays" "$(ip1 route show 198.18.41.0/24 dev "$IF_A" | wc -l)" 1
	expect_eq "B's handshake after deleting" "$(handshake_of "$(pub b)")" "$hb"
	expect_eq "C's handshake after deleting" "$(handshake_of "$(pub c)")" "$hc"
	# a route taken away by hand: the plan says the reload puts it back, and does not
	ip1 route del 198.18.41.0/24 dev "$IF_A"
	ctl reload --dry-run "$IF_A"
	rc_is "dry run, B's route deleted by hand" 2
	out_has "dry run, B's route deleted by hand" "+ route 198.18.41.0/24"
	expect_eq "B's route after the dry run" "$(ip1 route show 198.18.41.0/24 dev "$IF_A" | wc -l)" 0
	ctl reload "$IF_A"
	rc_is "reload, B's route deleted by hand" 0
	out_has "reload, B's route deleted by hand" "routes 1 added, 0 removed"
	expect_eq "B's route after the reload" "$(ip1 route show 198.18.41.0/24 dev "$IF_A" | wc -l)" 1
	ctl down "$IF_A"
	rc_is "down" 0
}

# refused_case WHAT WANT...: reload, --dry-run, --dry-run --json and check all
# refuse with every WANT on stderr; nothing changes.
refused_case() {
	local what=$1 want cmd
	shift
	for cmd in "reload" "reload --dry-run" "check"; do
		# shellcheck disable=SC2086 # the words of cmd
		ctl $cmd "$IF_A"
		rc_is "$what: $cmd" 1
		for want; do err_has "$what: $cmd" "$want"; done
	done
	ctl reload --dry-run --json "$IF_A"
	rc_is "$what: --dry-run --json" 1
	out_has "$what: --json" '"refused": true'
	expect_eq "$what: state after the refusals" "$(state)" "$(cat "$S/state0")"
}

# plan_case WHAT STATUS WANT...: --dry-run and check exit STATUS and print every
# WANT; --json says "changes": true or false; nothing changes.
plan_case() {
	local what=$1 status=$2 want cmd json=false
	shift 2
	((status == 2)) && json=true
	for cmd in "reload --dry-run" "check"; do
		# shellcheck disable=SC2086 # the words of cmd
		ctl $cmd "$IF_A"
		rc_is "$what: $cmd" "$status"
		{ echo "## $what: $cmd"; cat "$S/out"; } >>"$S/plans" # kept for a failed run
		for want; do out_has "$what: $cmd" "$want"; done
	done
	ctl check --json "$IF_A"
	rc_is "$what: check --json" "$status"
	{ echo "## $what: check --json"; cat "$S/out"; } >>"$S/plans"
	out_has "$what: --json" "\"changes\": $json"
	/usr/bin/python3 -m json.tool "$S/out" >/dev/null || fail "$what: --json is not JSON"
	expect_eq "$what: state after the plan" "$(state)" "$(cat "$S/state0")"
}

t_refused() {
	local d
	sessions_up
	d=$(dropins)
	state >"$S/state0"
	plan_case "nothing changed" 0 "Plan for $IF_A from $(etc)/$IF_A.conf: no change" \
		"peers 0 added, 0 removed, 0 changed, 2 unchanged"
	printf '[Interface]\nListenPort = 1\n' >"$d/50-bad.conf"
	refused_case "[Interface] in a drop-in" "$d/50-bad.conf:1: [Interface] in a drop-in"
	rm "$d/50-bad.conf"
	peer_section "$(pub b)" 198.18.50.0/24 >"$d/50-dup.conf"
	refused_case "duplicate key" "$d/50-dup.conf:1: duplicate peer: PublicKey $(pub b)" \
		"already defined at $d/10-b.conf:1"
	rm "$d/50-dup.conf"
	dropin 50-ww.conf "$(pub d)" 198.18.50.0/24
	chmod 0666 "$d/50-ww.conf"
	refused_case "world-writable drop-in" "$d/50-ww.conf: refused: writable by others"
	chmod 0600 "$d/50-ww.conf"
	plan_case "a new drop-in" 2 "Plan for $IF_A from $(etc)/$IF_A.conf: would change" \
		"+ peer $(pub d) (50-ww.conf)" "+ route 198.18.50.0/24" \
		"peers 1 added, 0 removed, 0 changed, 2 unchanged"
	rm "$d/50-ww.conf"
	main_conf "MTU = 1300"
	peer_section "$(pub c)" 198.18.42.0/24,198.18.52.0/24 "$SITE2_HOST4:$PORT_C" >"$d/20-c.conf"
	plan_case "MTU and C's allowed IPs" 2 "~ MTU " "-> 1300" \
		"~ peer $(pub c): allowed-ips (20-c.conf)" "+ route 198.18.52.0/24" \
		"peers 0 added, 0 removed, 1 changed, 1 unchanged"
	ctl down "$IF_A"
	rc_is "down" 0
}

# peer add --save-to NAME writes IF.d/NAME.conf (0600) that a reload reads back
# as no change; peer remove --save deletes the drop-in that held only that peer.
t_save_to() {
	local d
	sessions_up
	d=$(dropins)
	ctl peer add "$IF_A" "$(pub d)" allowed-ips 198.18.43.0/24 keepalive 25 --save-to branch-d
	rc_is "peer add --save-to" 0
	[[ -f $d/branch-d.conf ]] || fail "no $d/branch-d.conf"
	expect_eq "mode of the drop-in" "$(stat -c %a "$d/branch-d.conf")" 600
	[[ -z $(find "$d" -name '.*') ]] || fail "temporary files left in $d: $(ls -A "$d")"
	ctl reload --dry-run "$IF_A"
	rc_is "dry run after --save-to" 0
	out_has "dry run after --save-to" "peers 0 added, 0 removed, 0 changed, 3 unchanged"
	# the same key saved to another file would be defined twice: refused, nothing done
	ctl peer add "$IF_A" "$(pub d)" allowed-ips 198.18.44.0/24 --save-to other
	rc_is "the same peer --save-to another file" 1
	err_has "the same peer --save-to another file" "defined at $d/branch-d.conf:2"
	[[ ! -e $d/other.conf ]] || fail "$d/other.conf written"
	expect_eq "D's allowed IPs after the refusal" \
		"$(peer_field "$IF_A" allowed-ips "$(pub d)")" 198.18.43.0/24
	ctl peer remove "$IF_A" "$(pub d)" --save
	rc_is "peer remove --save" 0
	[[ ! -e $d/branch-d.conf ]] || fail "$d/branch-d.conf still there"
	expect_eq "B's and C's drop-ins stay" "$(ls "$d")" "$(printf '10-b.conf\n20-c.conf')"
	ctl check "$IF_A"
	rc_is "check after remove --save" 0
	ctl down "$IF_A"
	rc_is "down" 0
}

# wireguard-go serves A: the plan covers peers only and says so; reload applies
# that plan (drop-ins included) and prints its counts.
t_go() {
	[[ -n $WIREGUARD_GO ]] || skip "wireguard-go not installed"
	topo_up
	key_new a
	key_new b
	key_new c
	daemon_start "$ns1" "$IF_A" "$WIREGUARD_GO"
	main_conf
	sed -i '/^Address/d' "$(etc)/$IF_A.conf" # wg(8)'s keys only, as syncconf reads
	dropin 10-b.conf "$(pub b)" 198.18.41.0/24
	ctl reload --dry-run "$IF_A"
	rc_is "go: dry run" 2
	out_has "go: dry run" "+ peer $(pub b) (10-b.conf)"
	out_has "go: dry run" "is not served by wgd: only peers and device keys are compared"
	expect_eq "go: no peer after the dry run" "$(wg show "$IF_A" peers)" ""
	ctl reload --dry-run --json "$IF_A"
	out_has "go: --json" '"peers_only": true'
	ctl reload "$IF_A"
	rc_is "go: reload" 0
	out_has "go: reload" "peers 1 added, 0 removed, 0 changed, 0 unchanged (peers only"
	expect_eq "go: peers after reload" "$(wg show "$IF_A" peers)" "$(pub b)"
	dropin 20-c.conf "$(pub b)" 198.18.42.0/24
	ctl check "$IF_A"
	rc_is "go: check of a duplicate" 1
	err_has "go: check of a duplicate" "$(dropins)/20-c.conf:1: duplicate peer"
	rm "$(dropins)/20-c.conf"
	ctl check "$IF_A"
	rc_is "go: check, nothing to change" 0
	n1 "$WGCTL" down "$IF_A" || fail "wgctl down (go) exited with $?"
}

# --- command line (the runner is lib.sh's) -------------------------------------

env_check() {
	[[ -x ${WGD:-$repo/wgd/wgd} ]] || { echo "wgd/wgd not built"; return 77; }
	[[ -x ${WGCTL:-$repo/ctl/wgctl} ]] || { echo "ctl/wgctl not built"; return 77; }
	[[ -x /usr/bin/python3 ]] || { echo "/usr/bin/python3 missing"; return 77; }
	bash "$here/netns.sh" --check
}

case ${1:-} in
run) [[ $# == 3 ]] || exit 2; export WGD=$3 WGCTL; run_set DROPIN_TESTS wgd-dropin "$2" ;;
*) runner_main DROPIN_TESTS "$@" ;;
esac
