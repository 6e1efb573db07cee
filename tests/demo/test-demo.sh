#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/demo.sh as a user runs it, with MPSOCK_DEMO_SVG naming a directory
# of this test: it completes the handover, says where its picture is, and
# the picture (read back from the SVG) has both subflows' series, each
# rising above 0, and the three moments of the handover.

. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/svg.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -e /proc/sys/net/mptcp/enabled ] || skip_all "kernel without MPTCP"
command -v gnuplot >/dev/null || skip_all "needs gnuplot (gnuplot-nox)"
command -v xmllint >/dev/null || skip_all "needs xmllint (libxml2-utils)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SVG=$T/out/handover.svg
DAT=$T/out/handover.dat
# tests/lib/testnet.sh's addresses: client cell and wifi, server cell and wifi
SF1="subflow 1 10.0.2.2 -> 10.0.2.1 (cell)"
SF2="subflow 2 10.0.1.2 -> 10.0.1.1 (wifi)"

MPSOCK_BUILD=${MPSOCK_BUILD:-$_TESTNET_ROOT/build} MPSOCK_DEMO_SVG=$SVG \
	"$_TESTNET_ROOT/tools/demo.sh" >"$T/demo.out" 2>&1
# shellcheck disable=SC2034 # read in eval
rc=$?
sed 's/^/# /' "$T/demo.out"
check "demo: exit 0, '== demo OK'" \
	eval '[ "$rc" = 0 ] && grep -qx "== demo OK" "$T/demo.out"'
check "demo: says where the picture and the samples are" \
	grep -qxF -- "-- the handover as a picture: $SVG (samples: $DAT)" \
	"$T/demo.out"
check "demo: the SVG is there after the demo, well-formed" \
	eval '[ -s "$SVG" ] && xmllint --noout "$SVG"'
check "demo: the samples have subflow 1 over cell, then subflow 2 over wifi" \
	eval '[ "$(grep "^subflow " "$DAT" 2>/dev/null)" = "subflow 1 10.0.2.2 10.0.2.1 cell
subflow 2 10.0.1.2 10.0.1.1 wifi" ]'
same "demo: two series, titled with id, addresses and device" \
	"$SF1"$'\n'"$SF2" "$(svg_titles "$SVG" 2>&1)"
# the client connects over cell ~1.5 s before wifi appears and streams 4 s:
# 10 samples at least on each side of the switch
for t in "$SF1" "$SF2"; do
	if found=$(svg_series "$SVG" "$t" 20); then
		ok "demo: '$t': $found"
	else
		not_ok "demo: '$t': $found"
	fi
done
texts=$(svg_texts "$SVG")
for l in "wifi appears" "subflow 2 established" "subflow 1 closed"; do
	check "demo: the moment '$l' is labelled" \
		grep -q "^$l ([0-9.]* s)\$" <<<"$texts"
done

finish
