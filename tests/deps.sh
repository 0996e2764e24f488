#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages wgd needs; do nothing when all are present.
#   deps.sh          every build and test dependency (make deps, make check, demo, bench)
#   deps.sh --build  only what `make` and `make install` need (make build-deps)
set -e
BUILD_PKGS="build-essential pkg-config libsodium-dev libssl-dev libmnl-dev libcap-ng-dev libseccomp-dev libinih-dev"
TEST_PKGS="libcriterion-dev wireguard-go wireguard-tools iperf3 iproute2 nftables
iputils-ping python3 python3-cryptography python3-nacl clang libclang-rt-14-dev mandoc bird2 keepalived
cppcheck procps psmisc kmod valgrind util-linux prometheus"
case ${1:-} in
--build) PKGS=$BUILD_PKGS ;;
"") PKGS="$BUILD_PKGS $TEST_PKGS" ;;
*) echo "usage: deps.sh [--build]" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
