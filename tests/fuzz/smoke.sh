#!/bin/sh
# SPDX-License-Identifier: MIT
# make fuzz-smoke: runs every libFuzzer target given as an argument (build-fuzz/NAME) for
# FUZZ_SECONDS (default 14) from its seeds in tests/fuzz/corpus/NAME, one at a time, so
# the whole run stays under three minutes on two cores. New inputs go to a scratch
# directory, never into the committed seeds. Prints one line per target (executions,
# edge coverage "cov", features "ft"), then "fuzz: N passed, N failed"; exits 1 if any
# target crashed, leaked, timed out or failed a check. The failing input and the log are
# kept in build-fuzz/smoke/ (replay: build-fuzz/NAME build-fuzz/smoke/NAME-crash-...).
set -u

secs=${FUZZ_SECONDS:-14}
out=build-fuzz/smoke
pass=0
fail=0

mkdir -p "$out"
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/$name
	log=$out/$name.log
	work=$(mktemp -d "${TMPDIR:-/tmp}/wgd-fuzz-$name.XXXXXX") || exit 1
	rm -f "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* \
		"$out/$name"-oom-*
	[ -d "$seeds" ] || seeds=
	# stdin is /dev/null: the config and wgctl targets may name files such as /dev/stdin
	"$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$work" $seeds </dev/null >"$log" 2>&1
	rc=$?
	rm -rf "$work"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d ' ' -f 2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d ' ' -f 2)
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		printf '  %-12s ok    %9s execs  cov %5s  ft %5s\n' "$name" "${execs:-?}" \
			"${cov:-?}" "${ft:-?}"
	else
		fail=$((fail + 1))
		printf '  %-12s FAIL  exit %s, log %s\n' "$name" "$rc" "$log"
		grep -E 'check failed|ERROR|SUMMARY|Test unit written' "$log" | head -n 8 |
			sed 's/^/      /'
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
