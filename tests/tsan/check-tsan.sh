#!/bin/sh
# SPDX-License-Identifier: MIT
# make check-tsan: the unit tests, then (as root) tests/netns/threads.sh, the interop pairs
# wgd-wgd and wgd-go (netns.sh) and dataplane.sh, with the daemon built with
# ThreadSanitizer in BUILD (build-tsan). Any report fails the run: halt_on_error makes
# the process exit with 66, which Criterion counts as a crash and the namespace test
# sees as a dead daemon; the daemons' reports also go to files that are checked.
# Usage: check-tsan.sh BUILD
build=${1:-build-tsan}
here=$(cd "$(dirname "$0")" && pwd)
t0=$(date +%s)
status=0
TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$here/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
# shellcheck disable=SC2046 # the binaries are words
sh "$here/../run-unit.sh" $(find "$build/tests/unit" -name '*_test' -type f | sort) || status=1
t1=$(date +%s)
echo "# check-tsan: unit tests in $((t1 - t0)) s"
if [ "$(id -u)" = 0 ]; then
	logs=$(mktemp -d /tmp/wgd-tsan.XXXXXX)
	chmod 1777 "$logs" # the worker writes its report as its own user
	wgd=$(cd "$(dirname "$build/wgd/wgd")" && pwd)/wgd
	# threads.sh drives the crypt threads hardest; the interop pairs (with wireguard-go
	# too) and dataplane.sh take the same daemon through every data and handshake path.
	TSAN_OPTIONS="$TSAN_OPTIONS log_path=$logs/tsan" HSLOAD=$build/tests/tools/hsload \
		bash "$here/../netns/threads.sh" run tsan "$wgd" || status=1
	for pair in wgd-wgd wgd-go; do
		peer=$wgd
		[ "$pair" = wgd-go ] && peer=$(command -v wireguard-go)
		TSAN_OPTIONS="$TSAN_OPTIONS log_path=$logs/tsan" \
			bash "$here/../netns/netns.sh" pair "tsan-$pair" "$wgd" "$peer" || status=1
	done
	TSAN_OPTIONS="$TSAN_OPTIONS log_path=$logs/tsan" \
		bash "$here/../netns/dataplane.sh" run tsan "$wgd" || status=1
	if ls "$logs"/tsan.* >/dev/null 2>&1; then
		echo "not ok - tsan: ThreadSanitizer reports from the daemons:"
		sed 's/^/#   /' "$logs"/tsan.* | head -n 60
		status=1
	fi
	rm -rf "$logs"
	echo "# check-tsan: namespace scripts in $(($(date +%s) - t1)) s"
else
	echo "skip - tsan: tests/netns/threads.sh needs root"
fi
exit $status
