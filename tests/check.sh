#!/bin/sh
# SPDX-License-Identifier: MIT
# make check: every test suite in turn, then one closing summary line.
# Usage: check.sh BUILD_DIR UNIT_BIN...
build=$1; shift
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sh tests/run-unit.sh "$@" | tee "$log" || status=1
unit=$(tail -n 1 "$log")
up=$(echo "$unit" | sed -n 's/unit: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
uf=$(echo "$unit" | sed -n 's/unit: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
# The build itself: first runs without packages, `make install` and its systemd unit
# (tests/build/*.sh print
# ok/not ok lines).
gp=0 gf=0
for t in tests/build/*.sh; do
	[ -f "$t" ] || continue
	sh "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	gp=$((gp + $(grep -c '^ok - ' "$log")))
	n=$(grep -c '^not ok - ' "$log")
	[ "$rc" -eq 0 ] || [ "$n" -gt 0 ] || { echo "not ok - $t exited with $rc"; n=1; }
	gf=$((gf + n))
done
[ "$gf" -eq 0 ] || status=1
np=0 nf=0 ns=0
if [ -f tests/netns/run.sh ]; then
	sh tests/netns/run.sh | tee "$log"
	rc=$?
	[ "$rc" -eq 0 ] || status=1
	line=$(grep '^netns:' "$log" | tail -n 1)
	np=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
	nf=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	ns=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	[ -n "$np" ] || { np=0; nf=1; }
	[ "${nf:-1}" -eq 0 ] || status=1
fi
# A short run of the benchmark, so `make bench` cannot rot; no timing is judged here.
bp=0 bf=0
if [ -f bench/bench.sh ]; then
	if BENCH_SMOKE=1 sh bench/bench.sh > "$log" 2>&1; then
		echo "ok - bench smoke ($(grep -c . "$log") lines of results)"
		bp=1
	else
		tail -n 30 "$log"
		echo "not ok - bench smoke"
		bf=1
		status=1
	fi
fi
# Every fuzz target for a few seconds (make fuzz-smoke), so no harness rots and a shallow
# crash shows at once; the long runs and their figures are in docs/FUZZING.md.
fp=0 ff=0 fs=0
if ! command -v clang >/dev/null; then
	echo "skip - fuzz smoke: clang not installed"
	fs=1
elif make --no-print-directory fuzz-smoke >"$log" 2>&1; then
	grep -v '^  CC\|^  LD' "$log"
	echo "ok - fuzz smoke"
	fp=1
else
	tail -n 40 "$log"
	echo "not ok - fuzz smoke"
	ff=1
	status=1
fi
# Constant-time check (tests/ct/README.md): no branch or address may depend on a secret.
cp=0 cf=0 cs=0
sh tests/ct/ctgrind.sh "$build" >"$log" 2>&1
case $? in
0) tail -n 1 "$log"; echo "ok - ctgrind"; cp=1 ;;
77) tail -n 1 "$log"; echo "skip - ctgrind"; cs=1 ;;
*) tail -n 60 "$log"; echo "not ok - ctgrind"; cf=1; status=1 ;;
esac
echo "check: $((${up:-0} + gp + ${np:-0} + bp + fp + cp)) passed," \
	"$((${uf:-1} + gf + ${nf:-0} + bf + ff + cf)) failed, $((${ns:-0} + fs + cs)) skipped"
exit $status
