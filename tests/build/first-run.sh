#!/bin/sh
# SPDX-License-Identifier: MIT
# The first run on a machine without the build packages (make check; issue "Day-one").
# A copy of the tree builds with a pkg-config that knows no package until the `deps'
# step has run, as on a fresh Debian machine where `make deps' installs the -dev packages:
#   1. `make' before `make deps' stops at once and names `make deps';
#   2. `make demo' (deps, then build, then the demo) links on its first run;
#   3. `make install' (build-deps, then build) links and installs on its first run.
# The deps step is a stand-in that makes the real pkg-config visible, and the demo a
# stand-in that checks the binaries run: the real ones are `make demo' and the netns suite.
# Prints "ok - ..." / "not ok - ..." lines and exits 1 on any failure.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/wgd-first-run.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
real_pc=$(command -v pkg-config) || { echo "not ok - first run: no pkg-config"; exit 1; }

mkdir -p "$tmp/src" "$tmp/bin"
(cd "$repo" && git ls-files -z 2>/dev/null | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$tmp/src" ||
	{ echo "not ok - first run: cannot copy the tree"; exit 1; }
[ -f "$tmp/src/Makefile" ] || { echo "not ok - first run: no Makefile in the copy"; exit 1; }
cat >"$tmp/bin/pkg-config" <<EOS
#!/bin/sh
[ -e "$tmp/installed" ] || exit 1
exec "$real_pc" "\$@"
EOS
printf '#!/bin/sh\necho "deps: installing (stand-in) $*"\ntouch "%s/installed"\n' "$tmp" >"$tmp/deps.sh"
printf '#!/bin/sh\n./wgd/wgd --version && ./ctl/wgctl help >/dev/null\n' >"$tmp/demo.sh"
chmod +x "$tmp/bin/pkg-config"
mk() { PATH="$tmp/bin:$PATH" make -C "$tmp/src" -j2 DEPS_SH="$tmp/deps.sh" \
	DEMO_SH="$tmp/demo.sh" "$@" >"$tmp/log" 2>&1; }
verdict() { # verdict OK? NAME
	if [ "$1" = 0 ]; then echo "ok - first run: $2"; else
		tail -n 15 "$tmp/log"; echo "not ok - first run: $2"; status=1; fi
}

if mk all; then r=1; else grep -q "run 'make deps'" "$tmp/log"; r=$?; fi
verdict $r "make before make deps names make deps"
mk demo; r=$?
[ $r -eq 0 ] && ! grep -q "undefined reference" "$tmp/log" && grep -q "^wgd v" "$tmp/log" || r=1
verdict $r "make demo builds, links and runs on a machine without the packages"
rm -f "$tmp/installed"
make -C "$tmp/src" clean >/dev/null 2>&1
mk install DESTDIR="$tmp/dest" PREFIX=/opt/wgd; r=$?
[ $r -eq 0 ] && [ -x "$tmp/dest/opt/wgd/sbin/wgd" ] && [ -x "$tmp/dest/opt/wgd/sbin/wgctl" ] || r=1
verdict $r "make install builds and installs on a machine without the packages"
exit $status
