#!/bin/sh
# SPDX-License-Identifier: MIT
# `make install` puts wgd@.service where systemd looks, with the paths of this install:
# ExecStart and ExecReload under BINDIR, the config under SYSCONFDIR; and the unit is
# one systemd accepts (systemd-analyze verify, where it exists). Run by tests/check.sh.
# Prints "ok - ..." or "not ok - ...: reason"; exit 0 or 1.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/opt/x/lib/systemd/system/wgd@.service
fail() {
	echo "not ok - install-unit: $*"
	exit 1
}

make --no-print-directory install DESTDIR="$tmp" PREFIX=/opt/x >"$tmp/log" 2>&1 ||
	{ tail -n 20 "$tmp/log"; fail "make install failed"; }
[ -f "$unit" ] || fail "no unit at $unit"
grep -qx 'ExecStart=/opt/x/sbin/wgd -f -c /etc/wgd/%i.conf %i' "$unit" ||
	fail "ExecStart is '$(grep '^ExecStart=' "$unit")'"
grep -qx 'ExecReload=/opt/x/sbin/wgctl reload %i' "$unit" ||
	fail "ExecReload is '$(grep '^ExecReload=' "$unit")'"
! grep -q '@[A-Z]*@' "$unit" || fail "unexpanded $(grep -o '@[A-Z]*@' "$unit" | head -n 1)"
! grep -q '^ProtectSystem=strict' "$unit" || fail "ProtectSystem=strict: hooks could not write"
if command -v systemd-analyze >/dev/null; then
	# verify wants the binaries where ExecStart says: point it at the staged copies
	sed "s|/opt/x/sbin/|$tmp/opt/x/sbin/|g" "$unit" >"$tmp/wgd@.service"
	ln -s "wgd@.service" "$tmp/wgd@wg0.service"
	SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$tmp/wgd@wg0.service" \
		>"$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "systemd-analyze verify"; }
	if [ -s "$tmp/verify" ]; then
		cat "$tmp/verify"
		fail "systemd-analyze verify has warnings"
	fi
	echo "ok - install-unit (systemd-analyze verify passed)"
else
	echo "ok - install-unit (systemd-analyze not installed: not verified)"
fi
