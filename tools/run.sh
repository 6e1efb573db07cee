#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Everything a fresh Debian 12 machine needs, as root, in one command:
#   tools/run.sh demo   install what is missing, build, run the demo (its
#                       picture: $MPSOCK_DEMO_SVG, default handover.svg in
#                       the current directory)
#   tools/run.sh test   install what is missing, build with -Werror, run all
#                       test suites, build the Debian packages (lintian
#                       clean), run the system suite against them (installed
#                       into a Debian 12 image, the units under systemd),
#                       then the suites again under ASan/UBSan; ends with
#                       then each libFuzzer target for MPSOCK_FUZZ_SECONDS
#                       (20) on a copy of its corpus (tools/fuzz-run.sh;
#                       the unit suites also replay the corpora); ends with
#                       "N passed, N failed, N skipped"
# MPSOCK_TEST_STRICT=1 turns skipped tests into failures (CI sets it).
set -eu
# a relative MPSOCK_DEMO_SVG is the caller's, not the repository's
case ${MPSOCK_DEMO_SVG:=handover.svg} in
/*) ;;
*) MPSOCK_DEMO_SVG=$PWD/$MPSOCK_DEMO_SVG ;;
esac
export MPSOCK_DEMO_SVG
cd "$(dirname "$0")/.."

PACKAGES="build-essential g++ meson ninja-build pkg-config libmnl-dev
	libbpf-dev libelf-dev zlib1g-dev clang llvm bpftool libsystemd-dev
	iproute2 procps util-linux tcpdump scdoc man-db groff-base jq
	python3 gnuplot-nox libxml2-utils libclang-rt-dev libcap2-bin
	systemd dpkg-dev debhelper dh-python lintian systemd-container debootstrap"

install_missing()
{
	local missing="" p

	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "run.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# build DIR MESON-OPTIONS...
build()
{
	local dir=$1

	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

# run_suites DIR [SUITE...]: meson test (by default every suite but
# system); adds its counts to the totals
run_suites()
{
	local dir=$1 log rc=0 s suites=()

	shift
	[ $# -gt 0 ] || set -- unit abi cxx man netns cli
	for s in "$@"; do
		suites+=(--suite "$s")
	done
	log=$(mktemp)
	meson test -C "$dir" --print-errorlogs --num-processes 2 \
		"${suites[@]}" 2>&1 | tee "$log" || rc=$?
	passed=$((passed + $(awk '/^Ok:/ { print $2 }' "$log")))
	failed=$((failed + $(awk '/^(Fail|Timeout|Unexpected Pass):/ { s += $NF } END { print s + 0 }' "$log")))
	skipped=$((skipped + $(awk '/^Skipped:/ { print $2 }' "$log")))
	[ -s "$log" ] && grep -q '^Ok:' "$log" || failed=$((failed + 1))
	rm -f "$log"
	return 0
}

cmd=${1:-}
case $cmd in
demo)
	install_missing
	build build
	exec tools/demo.sh
	;;
test)
	install_missing
	passed=0 failed=0 skipped=0
	build build
	# what this machine offers, first: a red run then says what differed
	echo "== mpsock check"
	build/cli/mpsock check || true
	run_suites build
	echo "== the Debian packages (tools/build-deb.sh)"
	SECONDS=0
	if tools/build-deb.sh --strict build-deb; then
		passed=$((passed + 1))
		debs=build-deb
	else
		failed=$((failed + 1))
		debs= # the system suite installs the build tree instead
	fi
	echo "(${SECONDS} s)"
	echo "== the system suite: installed into a Debian 12 image, under systemd"
	SECONDS=0
	MPSOCK_DEBS=${debs:+$PWD/$debs} run_suites build system
	echo "(${SECONDS} s)"
	echo "== again under AddressSanitizer and UndefinedBehaviorSanitizer"
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug -Dman=disabled
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS=detect_leaks=1 run_suites build-asan
	echo "== libFuzzer: each target for ${MPSOCK_FUZZ_SECONDS:-20} s (tools/fuzz-run.sh)"
	SECONDS=0
	log=$(mktemp)
	tools/fuzz-run.sh -t "${MPSOCK_FUZZ_SECONDS:-20}" build-fuzz | tee "$log"
	# (grep -c exits 1 when it counts 0: set -e would end the run here)
	passed=$((passed + $(grep -c '^ok ' "$log" || true)))
	failed=$((failed + $(grep -c '^not ok ' "$log" || true)))
	grep -q '^ok ' "$log" || failed=$((failed + 1))
	rm -f "$log"
	echo "(${SECONDS} s)"
	if [ "${MPSOCK_TEST_STRICT:-0}" = 1 ] && [ "$skipped" -gt 0 ]; then
		echo "MPSOCK_TEST_STRICT=1: $skipped skipped tests count as failed"
		failed=$((failed + skipped))
	fi
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	;;
*)
	echo "usage: tools/run.sh demo|test" >&2
	exit 64
	;;
esac
