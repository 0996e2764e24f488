#!/bin/sh
# SPDX-License-Identifier: MIT
# Run each Criterion unit-test binary and add up their synthesis lines.
# Usage: run-unit.sh BIN...   Prints "unit: N passed, N failed" last; exits 1 on any failure.
passed=0 failed=0 status=0
LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
for bin in "$@"; do
	out=$("$bin" --jobs=2 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		printf "%-22s %s\n" "$(basename "$bin")" "$(printf "%s\n" "$out" | tail -n 1)"
	else
		printf '%s\n' "$out"
	fi
	syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	t=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$syn" | sed -n 's/.*Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2/p')
	[ -n "$t" ] || { echo "unit: $bin printed no synthesis (rc=$rc)"; failed=$((failed + 1)); status=1; continue; }
	passed=$((passed + t))
	for n in $f; do failed=$((failed + n)); done
	[ "$rc" -eq 0 ] || status=1
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status
