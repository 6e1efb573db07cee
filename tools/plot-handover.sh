#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Draws the demo's handover as an SVG with gnuplot: each subflow's rate
# (bytes acked per sampling interval, in Mbit/s) over time, and the moments
# of the handover as labelled vertical lines, from the samples that
# examples/handover writes with -s FILE.
#
# Usage: tools/plot-handover.sh SAMPLES OUT.svg
#
# SAMPLES lines (one clock: seconds since the client connected):
#   subflow ID LOCAL REMOTE DEVICE    a subflow, before its first sample
#   sample SECONDS ID BYTES_ACKED     its tcpi_bytes_acked at that time
#   event SECONDS TEXT...             e.g. "wifi appears"
# Each interval between two samples of a subflow is drawn as a step at the
# rate of that interval; a subflow's first sample starts it at 0.
set -eu

if [ $# != 2 ]; then
	echo "usage: tools/plot-handover.sh SAMPLES OUT.svg" >&2
	exit 2
fi
samples=$1
out=$2
command -v gnuplot >/dev/null || {
	echo "plot-handover: gnuplot is not installed (Debian: gnuplot-nox)" >&2
	exit 1
}

# The whole gnuplot program: the data as inline blocks, so that nothing
# but OUT is written.
program()
{
	awk -v out="$out" '
	function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
	$1 == "subflow" && NF >= 5 && !($2 in title) {
		title[$2] = sprintf("subflow %s %s -> %s (%s)", $2, $3, $4, $5)
		order[++nsf] = $2
	}
	$1 == "sample" && NF == 4 {
		t = $2 + 0; id = $3; a = $4 + 0
		if (!(id in title)) {
			title[id] = "subflow " id
			order[++nsf] = id
		}
		if (id in last_t) {
			if (t <= last_t[id])
				next
			r = (a - last_a[id]) * 8 / (t - last_t[id]) / 1e6
		} else {
			r = 0
		}
		nsamples++
		data[id] = data[id] sprintf("%.4f %.4f\n", t, r)
		last_t[id] = t; last_a[id] = a
		if (r > ymax) ymax = r
		if (t > tmax) tmax = t
	}
	$1 == "event" && NF >= 3 {
		text = $3
		for (i = 4; i <= NF; i++)
			text = text " " $i
		ev_t[++nev] = $2 + 0; ev_text[nev] = text
		if ($2 + 0 > tmax) tmax = $2 + 0
	}
	END {
		if (!nsamples) {
			print "plot-handover: no samples" > "/dev/stderr"
			exit 1
		}
		if (ymax <= 0) ymax = 1
		print "set terminal svg size 960,540 dynamic noenhanced font \"sans,13\" background \"white\""
		print "set output " q(out)
		print "set title \"Make-before-break handover: bytes acked per subflow\""
		print "set xlabel \"time since the connection (s)\""
		print "set ylabel \"Mbit/s\""
		print "set grid lc rgb \"#dddddd\""
		print "set key outside below center horizontal box"; print "set bmargin 6"
		print "set xrange [0:" tmax "]"
		# headroom above the curves for the event labels
		print "set yrange [0:" ymax * (1.25 + 0.1 * nev) "]"
		for (i = 1; i <= nev; i++) {
			printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lw 1.5 lc rgb \"#555555\"\n", ev_t[i], ev_t[i]
			# stacked, so that moments milliseconds apart stay readable
			printf "set label %s at %s, graph %.2f left offset character 0.6, 0 textcolor rgb \"#333333\"\n", q(sprintf("%s (%.2f s)", ev_text[i], ev_t[i])), ev_t[i], 0.95 - 0.065 * (i - 1)
		}
		for (i = 1; i <= nsf; i++) {
			print "$sf" i " << EOD"
			printf "%s", data[order[i]]
			print "EOD"
		}
		printf "plot"
		for (i = 1; i <= nsf; i++)
			printf "%s $sf%d using 1:2 with fsteps lw 2 title %s", (i > 1 ? "," : ""), i, q(title[order[i]])
		print ""
	}' "$samples"
}

# a failure leaves no picture, neither a part of one nor an older one
rm -f "$out"
prog=$(program)
if ! gnuplot <<<"$prog"; then
	rm -f "$out"
	exit 1
fi
