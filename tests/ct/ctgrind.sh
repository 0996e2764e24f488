#!/bin/sh
# SPDX-License-Identifier: MIT
# The constant-time check (issue 6): runs build/tests/tools/ctgrind under memcheck with
# every secret marked undefined, so any branch or memory address that depends on a
# secret is reported (Langley's ctgrind). First proves it can fail: the deliberate leak
# of `ctgrind --selftest-leak` must be flagged. See tests/ct/README.md.
# Usage: ctgrind.sh [BUILD_DIR]   (from the repository root; default build)
# Exit: 0 clean, 1 a secret-dependent site or a broken check, 77 skipped (no valgrind).
build=${1:-build}
bin=$build/tests/tools/ctgrind
supp=$(dirname "$0")/ctgrind.supp

if ! command -v valgrind >/dev/null 2>&1; then
	echo "ctgrind: skipped: valgrind is not installed (apt-get install valgrind)"
	exit 77
fi
if [ ! -x "$bin" ]; then
	echo "ctgrind: FAIL: $bin is missing (make $bin)"
	exit 1
fi

if grep -q __asan_init "$bin"; then
	echo "ctgrind: skipped: $bin is a sanitizer build, which valgrind cannot run" \
		"(use the plain build: sh tests/ct/ctgrind.sh build)"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vg NAME ARGS...: memcheck with the log in $tmp/NAME.vg, the program's output in NAME.out.
vg() {
	name=$1
	shift
	valgrind --tool=memcheck --error-exitcode=1 --track-origins=yes --leak-check=no \
		--num-callers=30 --suppressions="$supp" --log-file="$tmp/$name.vg" \
		"$bin" "$@" >"$tmp/$name.out" 2>&1
}

# The error reports, without valgrind's pid prefix, banner and heap summary.
report() {
	sed -e 's/^==[0-9]*== \{0,1\}//' "$1" |
		sed -n '/^\(Conditional\|Use of\)/,/^HEAP SUMMARY/p' | grep -v '^HEAP SUMMARY'
}

# Distinct source lines flagged: the first FILE.c:LINE frame of each report (a libc or
# valgrind frame such as strnlen has none, so its caller is named).
sites() {
	sed -e 's/^==[0-9]*== \{0,1\}//' "$1" | awk '
		/^(Conditional|Use of)/ { want = 1; next }
		want && /^ *(at|by) .*\([^()]*\.c:[0-9]+\)$/ {
			sub(/.*\(/, ""); sub(/\)$/, ""); print; want = 0
		}' | sort -u
}

contexts() {
	sed -n 's/.*ERROR SUMMARY: [0-9]* errors from \([0-9]*\) contexts.*/\1/p' "$1" | tail -n 1
}

# 1. The self-check: a branch and an index on secret bytes that went through kdf().
vg self --selftest-leak
rc=$?
if [ "$rc" -ne 1 ] ||
	! grep -q 'Conditional jump or move depends on uninitialised' "$tmp/self.vg" ||
	! grep -q 'Use of uninitialised value of size' "$tmp/self.vg" ||
	[ "$(grep -c 'selftest_leak (ctgrind.c' "$tmp/self.vg")" -lt 2 ]; then
	cat "$tmp/self.out" "$tmp/self.vg"
	echo "ctgrind: FAIL: valgrind did not flag the deliberate leak (exit $rc), so a clean" \
		"run would prove nothing"
	exit 1
fi

# 2. The real run.
vg run
rc=$?
ncontexts=$(contexts "$tmp/run.vg")
checks=$(sed -n 's/^ctgrind: \([0-9]*\) checks, 0 failed$/\1/p' "$tmp/run.out")
suppressed=$(sed -n 's/.*(suppressed: [0-9]* from \([0-9]*\)).*/\1/p' "$tmp/run.vg" | tail -n 1)
if [ "$rc" -eq 0 ] && [ "${ncontexts:-1}" -eq 0 ] && [ -n "$checks" ]; then
	echo "ctgrind: ok ($checks checks, secret-dependent sites: 0;" \
		"${suppressed:-0} libsodium tag-verdict sites suppressed)"
	exit 0
fi
cat "$tmp/run.out"
report "$tmp/run.vg"
list=$(sites "$tmp/run.vg" | tr '\n' ' ' | sed 's/ $//')
[ -n "$checks" ] || echo "ctgrind: the program's own checks failed (see above)"
echo "ctgrind: FAIL (secret-dependent sites: $(echo "$list" | wc -w)${list:+ ($list)};" \
	"${ncontexts:-?} valgrind contexts, valgrind exit $rc)"
exit 1
