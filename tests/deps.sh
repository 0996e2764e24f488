#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every build and test dependency on Debian 12; do nothing when all are present.
set -e
PKGS="build-essential pkg-config libsodium-dev libmnl-dev libcap-ng-dev libinih-dev
libcriterion-dev wireguard-go wireguard-tools iperf3 iproute2 nftables iputils-ping
python3 python3-cryptography python3-nacl clang libclang-rt-14-dev mandoc cppcheck
procps psmisc kmod valgrind util-linux"
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
