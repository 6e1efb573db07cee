#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs each libFuzzer target of tests/fuzz for a bounded time, one process
# each, on a scratch copy of its corpus (the committed corpus is not
# changed; tests/fuzz/README says how a finding joins it).  Builds the
# targets in BUILDDIR with clang first (-Dfuzz=enabled).  Prints each
# target's executions and rate, and the input of any crash.
#
# Usage: tools/fuzz-run.sh [-t SECONDS] [BUILDDIR] [TARGET...]
#        (default: 20 s each, build-fuzz, every target)
# Exit status: 0 no target failed, 1 otherwise; as TAP on standard output.
set -u
secs=20
if [ "${1:-}" = -t ]; then
	secs=$2
	shift 2
fi
cd "$(dirname "$0")/.."
dir=${1:-build-fuzz}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request event genl diag full-info rtnl)

if [ ! -f "$dir/build.ninja" ]; then
	log=$(mktemp)
	CC=clang meson setup "$dir" -Dfuzz=enabled -Db_lundef=false \
		-Dwerror=true -Dman=disabled >"$log" 2>&1 || {
		cat "$log"
		rm -f "$log"
		echo "not ok 1 - the fuzz build could not be configured"
		exit 1
	}
	rm -f "$log"
fi
ninja -C "$dir" "${targets[@]/#/tests/fuzz/fuzz-}" >"$dir/fuzz-ninja.log" 2>&1 || {
	tail -n 30 "$dir/fuzz-ninja.log"
	echo "not ok 1 - the fuzz targets did not build"
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 bad=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	n=$((n + 1))
	mkdir -p "$work/$t"
	cp tests/fuzz/corpus/"$t"/* "$work/$t/"
	# detect_leaks: a leak is a finding too
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$dir/tests/fuzz/fuzz-$t" -max_total_time="$secs" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$work/$t-" "$work/$t" >"$work/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")
	if [ "$rc" = 0 ]; then
		echo "ok $n - fuzz-$t: ${execs:-?} executions in $secs s (${rate:-?}/s), no crash, leak or UB"
	else
		bad=1
		echo "not ok $n - fuzz-$t: exit $rc"
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$work/$t.log" |
			head -n 20 | sed 's/^/# /'
		for a in "$work/$t"-*; do
			[ -f "$a" ] && echo "# input (base64): $(base64 -w0 "$a")"
		done
	fi
done
exit "$bad"
