#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/plot-handover.sh on recorded samples (tests/data/handover.dat):
# the SVG has one series per subflow, titled with its id, addresses and
# device, each a curve of several points above 0, and the three moments of
# the handover as labels; and the same reading fails on samples that lack
# a subflow, whose subflow never carried data, or that are empty.

. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/svg.sh"

PLOT=$_TESTNET_ROOT/tools/plot-handover.sh
DATA=$_TESTNET_ROOT/tests/data/handover.dat
command -v gnuplot >/dev/null || skip_all "needs gnuplot (gnuplot-nox)"
command -v xmllint >/dev/null || skip_all "needs xmllint (libxml2-utils)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SF1="subflow 1 10.0.2.2 -> 10.0.2.1 (cell)"
SF2="subflow 2 10.0.1.2 -> 10.0.1.1 (wifi)"

# series NAME SVG TITLE MIN: a TAP line from svg_series, its finding shown
series()
{
	local found

	if found=$(svg_series "$2" "$3" "$4"); then
		ok "$1: '$3': $found"
	else
		not_ok "$1: '$3': $found"
	fi
}

"$PLOT" "$DATA" "$T/rec.svg" 2>"$T/rec.err"
check "recorded samples: plot-handover.sh exits 0, an SVG, nothing on stderr" \
	eval '[ -s "$T/rec.svg" ] && [ ! -s "$T/rec.err" ] &&
		xmllint --noout "$T/rec.svg"'
same "recorded samples: two series, titled with id, addresses and device" \
	"$SF1"$'\n'"$SF2" "$(svg_titles "$T/rec.svg")"
# 18 and 24 samples: two vertices a step
series "recorded samples" "$T/rec.svg" "$SF1" 30
series "recorded samples" "$T/rec.svg" "$SF2" 40
texts=$(svg_texts "$T/rec.svg")
for l in "wifi appears (1.67 s)" "subflow 2 established (1.68 s)" \
	"subflow 1 closed (1.68 s)" "Mbit/s" "time since the connection (s)"; do
	check "recorded samples: the label '$l'" grep -qxF "$l" <<<"$texts"
done

# the same reading must fail where a series is missing or empty
grep -v '^\(subflow\|sample\) 2 \|^sample [0-9.]* 2 ' "$DATA" >"$T/one.dat"
"$PLOT" "$T/one.dat" "$T/one.svg"
same "without subflow 2's samples: only subflow 1's series" \
	"$SF1" "$(svg_titles "$T/one.svg")"
check "without subflow 2's samples: svg_series finds no '$SF2'" \
	eval '! svg_series "$T/one.svg" "$SF2" 1 >/dev/null'
series "without subflow 2's samples" "$T/one.svg" "$SF1" 30
# subflow 2 listed but never acked a byte: a flat line at 0
awk '$1 == "sample" && $3 == 2 { $4 = 1 } { print }' "$DATA" >"$T/flat.dat"
"$PLOT" "$T/flat.dat" "$T/flat.svg"
check "subflow 2 never carrying data: svg_series refuses its flat series" \
	eval '! svg_series "$T/flat.svg" "$SF2" 1 >/dev/null'
grep -v "^sample " "$DATA" >"$T/none.dat"
check "no samples at all: plot-handover.sh fails and writes no SVG" \
	eval '! "$PLOT" "$T/none.dat" "$T/none.svg" 2>/dev/null && [ ! -e "$T/none.svg" ]'
check "plot-handover.sh without arguments: exit 2" \
	eval '"$PLOT" 2>/dev/null; [ $? = 2 ]'

finish
