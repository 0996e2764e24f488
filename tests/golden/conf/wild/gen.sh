#!/bin/bash
# SPDX-License-Identifier: MIT
# Regenerates, for each NAME.conf here, the expected output of conf_test.c with the
# reference tools only (not our code):
#   NAME.wg     the wg(8) subset: `wg-quick strip NAME.conf' is loaded into Debian's
#               wireguard-go with `wg setconf', and `wg showconf' prints it back. Two fixups:
#               peers are put back in file order (wireguard-go lists them in Go map order)
#               and the ListenPort line is dropped when the file sets none (wireguard-go
#               then binds a random port).
#   NAME.quick  wg-quick's own keys, as wg-quick's parse_options() (taken from
#               /usr/bin/wg-quick) reads them, one "Key = value" line per value.
# Needs root (netns, wireguard-go, and wg-quick insists on it).
set -e -o pipefail
cd "$(dirname "$0")"
ns=wgd-conf-gen-$$
ifname=wgconf$$
sock=/var/run/wireguard/$ifname.sock
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp" "$sock"
}
trap cleanup EXIT
ip netns add "$ns"

start_wg() {
	[ -z "$pid" ] || { kill "$pid"; wait "$pid" 2>/dev/null || true; }
	rm -f "$sock"
	ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$ifname" >/dev/null 2>&1 &
	pid=$!
	while [ ! -S "$sock" ]; do sleep 0.1; done
}

# Prints wg-quick's view of the wg-quick-only keys of $1.
quick() {
	bash -c '
		set -e
		shopt -s extglob
		die() { echo "wg-quick: $*" >&2; exit 1; }
		eval "$(sed -n "/^parse_options() {/,/^}/p; /^read_bool() {/,/^}/p" /usr/bin/wg-quick)"
		ADDRESSES=() DNS=() DNS_SEARCH=() PRE_UP=() POST_UP=() PRE_DOWN=() POST_DOWN=()
		MTU= TABLE= SAVE_CONFIG=0 WG_CONFIG=
		parse_options "$1" 2>/dev/null
		for v in "${ADDRESSES[@]}"; do echo "Address = $v"; done
		for v in "${DNS[@]}"; do echo "DNS = $v"; done
		for v in "${DNS_SEARCH[@]}"; do echo "DNSSearch = $v"; done
		[ -z "$MTU" ] || echo "MTU = $MTU"
		echo "Table = ${TABLE:-auto}"
		for v in "${PRE_UP[@]}"; do echo "PreUp = $v"; done
		for v in "${POST_UP[@]}"; do echo "PostUp = $v"; done
		for v in "${PRE_DOWN[@]}"; do echo "PreDown = $v"; done
		for v in "${POST_DOWN[@]}"; do echo "PostDown = $v"; done
		[ "$SAVE_CONFIG" = 1 ] && echo "SaveConfig = true" || echo "SaveConfig = false"
	' quick "$1"
}

for conf in *.conf; do
	name=${conf%.conf}
	wg-quick strip "$PWD/$conf" >"$tmp/strip" 2>/dev/null
	start_wg
	ip netns exec "$ns" wg setconf "$ifname" "$tmp/strip"
	ip netns exec "$ns" wg showconf "$ifname" >"$tmp/show"
	/usr/bin/python3 - "$tmp/strip" "$tmp/show" "$name.wg" <<'PY'
import re, sys
strip, show, out = sys.argv[1:]
stripped = [l.split('#', 1)[0].strip() for l in open(strip).read().splitlines()]
def value(line, key):
    m = re.match(r'(?i)' + key + r'\s*=\s*(\S+)$', line)
    return m and m.group(1)
order = [v for v in (value(l, 'PublicKey') for l in stripped) if v]
has_port = any(value(l, 'ListenPort') for l in stripped)
head, *peers = open(show).read().split('[Peer]\n')
if not has_port:
    head = ''.join(l for l in head.splitlines(True) if not l.startswith('ListenPort = '))
blocks = {}
for p in peers:
    blocks[value(p.splitlines()[0], 'PublicKey')] = '[Peer]\n' + p.rstrip('\n') + '\n'
assert sorted(blocks) == sorted(order), (blocks.keys(), order)
open(out, 'w').write(head + '\n'.join(blocks[k] for k in order))
PY
	quick "$PWD/$conf" >"$name.quick"
	echo "  GEN     $name.wg $name.quick"
done
