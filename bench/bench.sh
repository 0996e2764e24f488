#!/bin/sh
# SPDX-License-Identifier: MIT
# wgd benchmark: wgd<->wgd vs wireguard-go<->wireguard-go vs the raw veth, on one
# two-namespace topology. Checks the tools here, then runs bench/bench.py, which does the
# measuring, cleans up on exit and on signals, and writes bench/results/.
#
#   sh bench/bench.sh                      full run (BENCH_RUNS=3, BENCH_DURATION=10)
#   BENCH_SMOKE=1 sh bench/bench.sh        every measurement path once, briefly
#   BENCH_ONLY=tcp1,hs sh bench/bench.sh   a subset: tcp1,tcp4,udp,cpu,rtt,hs,peers,gw,rfc2544
#   BENCH_ONLY=aead sh bench/bench.sh      only the AEAD table (no root, no namespaces)
#
# The environment knobs are listed in bench/bench.py. Exit status: 0 when every selected
# measurement produced a sample, 1 when one could not be taken at all, 2 on bad usage.
set -u
cd "$(dirname "$0")/.." || exit 2

die() {
	echo "bench: $*" >&2
	exit 1
}

# The AEAD table (tests/tools/aeadbench.c): libsodium against OpenSSL per packet on one
# core, which sets wgd/aead.h's AEAD_OPENSSL_MIN_LEN. Printed, and kept next to the
# results; "aead" is then taken out of BENCH_ONLY (alone, nothing else runs).
case ",${BENCH_ONLY:-}," in
*,aead,*)
	AEADBENCH=${AEADBENCH:-build/tests/tools/aeadbench}
	[ -x "$AEADBENCH" ] || die "$AEADBENCH not built: run make tools"
	if [ "${BENCH_SMOKE:-}" = 1 ]; then aead_out=build/bench-smoke; else aead_out=bench/results; fi
	aead_out=${BENCH_OUT:-$aead_out}
	mkdir -p "$aead_out" || die "cannot create $aead_out"
	"$AEADBENCH" "${BENCH_AEAD_SECONDS:-0.5}" | tee "$aead_out/aead.txt" ||
		die "$AEADBENCH failed"
	BENCH_ONLY=$(echo ",$BENCH_ONLY," | sed 's/,aead,/,/g; s/^,*//; s/,*$//')
	[ -n "$BENCH_ONLY" ] || exit 0
	export BENCH_ONLY
	;;
esac

[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces)"
WGD=${WGD:-wgd/wgd}
HSLOAD=${HSLOAD:-build/tests/tools/hsload}
GWLOAD=${GWLOAD:-build/tests/tools/gwload}
WIREGUARD_GO=${WIREGUARD_GO:-wireguard-go}
[ -x "$WGD" ] || die "$WGD not built: run make"
[ -x "$HSLOAD" ] || die "$HSLOAD not built: run make tools"
[ -x "$GWLOAD" ] || die "$GWLOAD not built: run make tools"
command -v "$WIREGUARD_GO" >/dev/null 2>&1 ||
	die "wireguard-go not found: it is the reference this benchmark compares wgd with;" \
		"install Debian's package (apt-get install wireguard-go, or make deps)" \
		"or point WIREGUARD_GO at a binary"
for tool in wg iperf3 ip ping ss sysctl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run make deps"
done
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 not found: run make deps"
[ -c /dev/net/tun ] || die "/dev/net/tun missing: the daemons need TUN devices"

export WGD HSLOAD GWLOAD WIREGUARD_GO PYTHONDONTWRITEBYTECODE=1
# bench.py traps INT/TERM/HUP (and its own BENCH_TIMEOUT) and then removes its
# namespaces, processes and sockets; every command it runs has a timeout of its own.
exec /usr/bin/python3 bench/bench.py
