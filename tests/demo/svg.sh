#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reads back what gnuplot's svg terminal drew (tools/plot-handover.sh):
# each plotted series is a <g id="gnuplot_plot_N"> holding its legend
# title as <text> and its curve as the last <path> (the key's sample line,
# then the data, as separate M subpaths).  Parsed with xmllint's XPath.

SVG_SERIES="//*[local-name()='g'][starts-with(@id,'gnuplot_plot_')]"

# svg_titles SVG: each series' legend title, one a line, in plot order
svg_titles()
{
	local n i t

	n=$(xmllint --xpath "count($SVG_SERIES)" "$1") || return 1
	for ((i = 1; i <= n; i++)); do
		t=$(xmllint --xpath "normalize-space(($SVG_SERIES)[$i]//*[local-name()='text'])" \
			"$1") || return 1
		printf '%s\n' "$t"
	done
}

# svg_texts SVG: every <text> of the picture, one a line
svg_texts()
{
	local n i t

	n=$(xmllint --xpath "count(//*[local-name()='text'])" "$1") || return 1
	for ((i = 1; i <= n; i++)); do
		t=$(xmllint --xpath "normalize-space((//*[local-name()='text'])[$i])" \
			"$1") || return 1
		printf '%s\n' "$t"
	done
}

# svg_series SVG TITLE MIN: exactly one series is titled TITLE, and its
# curve (the longest subpath of its path) has at least MIN vertices and
# rises above its first vertex somewhere (a rate above 0: SVG's y grows
# downwards).  Says what it found on stdout.
svg_series()
{
	local n d

	n=$(xmllint --xpath "count(($SVG_SERIES)[.//*[local-name()='text'][normalize-space(.)='$2']])" \
		"$1") || return 1
	if [ "$n" != 1 ]; then
		echo "$n series titled '$2'"
		return 1
	fi
	d=$(xmllint --xpath "string(($SVG_SERIES)[.//*[local-name()='text'][normalize-space(.)='$2']]//*[local-name()='path'][last()]/@d)" \
		"$1") || return 1
	tr -s ' \t\n' '\n' <<<"$d" | awk -v min="$3" '
	/^M/ { k++; n[k] = 0 }
	/^[ML][0-9.-]+,[0-9.-]+$/ {
		split(substr($0, 2), p, ",")
		if (!n[k]) first[k] = p[2]
		if (!n[k] || p[2] < top[k]) top[k] = p[2]
		n[k]++
	}
	END {
		for (i = 1; i <= k; i++)
			if (n[i] > n[best]) best = i
		rise = best ? first[best] - top[best] : 0
		printf "%d vertices, highest %.1f px above its start\n", n[best], rise
		exit !(n[best] >= min && rise > 1)
	}'
}
