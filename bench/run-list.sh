#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The subflow-listing benchmark (design.md "Performance targets", first row;
# kernel-facts.md Q9): runs bench-list on the test network for 1, 4 and 8
# subflows, each without and with 10,000 unrelated TCP sockets in the client
# namespace, and prints one table with the ratios and the targets.
#
# Usage (as root, after "ninja -C build"):
#   bench/run-list.sh [-i ITERS] [-w WARMUP] [-u UNRELATED] [-s "1 4 8"]
#
# Environment:
#   MPSOCK_BENCH_LIST  bench-list binary (default build/bench/bench-list)
#   MPSOCK_TESTSRV     echo server (default build/tests/tools/mpsock-testsrv)
#
# Exit status: 0 when every run completed (whether or not a target is met:
# this is a measurement, not a test), 1 when a run failed, 77 without MPTCP.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${MPSOCK_BENCH_LIST:-$ROOT/build/bench/bench-list}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$ROOT/build/tests/tools/mpsock-testsrv}

ITERS=20000
WARMUP=1000
UNRELATED=10000
COUNTS="1 4 8"

usage()
{
	echo "usage: $0 [-i ITERS] [-w WARMUP] [-u UNRELATED] [-s \"1 4 8\"]" >&2
	exit 64
}

while getopts "i:w:u:s:h" opt; do
	case $opt in
	i) ITERS=$OPTARG ;;
	w) WARMUP=$OPTARG ;;
	u) UNRELATED=$OPTARG ;;
	s) COUNTS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || usage

for n in $COUNTS; do
	if [[ ! $n =~ ^[1-8]$ ]]; then
		echo "run-list: subflow counts must be 1..8 (the kernel's limit), not '$n'" >&2
		exit 64
	fi
done
if [[ $(id -u) != 0 ]]; then
	echo "run-list: must run as root (builds network namespaces)" >&2
	exit 1
fi
if [[ ! -x $BENCH ]]; then
	echo "run-list: '$BENCH' not found: run 'ninja -C build' or set MPSOCK_BENCH_LIST" >&2
	exit 1
fi

# shellcheck source=tests/lib/testnet.sh
. "$ROOT/tests/lib/testnet.sh"
trap testnet_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
testnet_up || exit $?

# Seven client endpoints besides the initial address (10.0.1.2): with
# "limits set subflow K" the in-kernel PM opens one subflow from each of the
# first K towards the server address the connection went to.
EXTRA="wifi:10.0.1.3 cell:10.0.2.3 wifi:10.0.1.4 cell:10.0.2.4 wifi:10.0.1.5 cell:10.0.2.5"
ENDPOINTS=("$TESTNET_CLI_CELL4")
for e in $EXTRA; do
	testnet_add_client_addr "${e%%:*}" "${e#*:}/24" || exit 1
	ENDPOINTS+=("${e#*:}")
done
nsenter --net="/run/netns/$TESTNET_CLI_NS" ip mptcp endpoint flush
for a in "${ENDPOINTS[@]}"; do
	nsenter --net="/run/netns/$TESTNET_CLI_NS" ip mptcp endpoint add "$a" subflow || exit 1
done

OUT=$TESTNET_TMP/bench-list.out
: >"$OUT"
failed=0

echo "# bench-list: kernel $(uname -r), $(nproc) CPUs, $ITERS timed calls" \
	"per figure after $WARMUP warm-up, server $TESTNET_SRV_WIFI4:$TESTNET_MPTCP_PORT"
echo "# client endpoints: ${ENDPOINTS[*]} (subflow)"

# All runs without unrelated sockets first: the loaded runs come last, so
# nothing they leave behind can touch an unloaded run.
for u in 0 "$UNRELATED"; do
	for n in $COUNTS; do
		nsenter --net="/run/netns/$TESTNET_CLI_NS" ip mptcp limits set subflow $((n - 1)) \
			add_addr_accepted 8 || exit 1
		echo
		echo "## $n subflow(s), $u unrelated sockets"
		cli_exec "$BENCH" -u "$u" -i "$ITERS" -w "$WARMUP" \
			"$TESTNET_SRV_WIFI4" "$TESTNET_MPTCP_PORT" "$n" |
			tee -a "$OUT"
		rc=${PIPESTATUS[0]} # bench-list's status, not tee's
		if ((rc != 0)); then
			echo "run-list: bench-list failed (status $rc) for $n subflows, $u unrelated" >&2
			failed=1
		fi
	done
done

echo
echo "==================== summary: median (p99) in microseconds ===================="
awk -v counts="$COUNTS" -v unrel="$UNRELATED" '
function f(n, u, w) { return ((n, u, w) in p50) ? p50[n, u, w] : "" }
function cell(n, u, w) {
	if (!((n, u, w) in p50)) return sprintf("%14s", "-")
	return sprintf("%14s", sprintf("%.2f (%.1f)", p50[n, u, w], p99[n, u, w]))
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
function verdict(r, lim) { return r == "-" ? "" : (r + 0 <= lim ? " ok" : " MISS") }
/^subflows=/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	p50[v["subflows"], v["unrelated"], v["what"]] = v["p50_us"]
	p99[v["subflows"], v["unrelated"], v["what"]] = v["p99_us"]
}
END {
	nc = split(counts, c, " ")
	printf "%3s %9s %14s %14s %14s %14s %7s %7s %7s\n", "sf", "unrelated",
		"(a)full_info", "(b)floor", "(c)sub_ids", "(d)list",
		"(c)/(a)", "(c)/(b)", "(d)/(b)"
	for (j = 1; j <= 2; j++) {
		u = j == 1 ? 0 : unrel
		for (i = 1; i <= nc; i++) {
			n = c[i]
			printf "%3s %9s %s %s %s %s %7s %7s %7s\n", n, u,
				cell(n, u, "full_info"), cell(n, u, "floor"),
				cell(n, u, "get_sub_ids"), cell(n, u, "subflow_list"),
				ratio(f(n, u, "get_sub_ids"), f(n, u, "full_info")),
				ratio(f(n, u, "get_sub_ids"), f(n, u, "floor")),
				ratio(f(n, u, "subflow_list"), f(n, u, "floor"))
		}
	}
	printf "\n(snapshot = mps_snapshot_take+release alone, median us:"
	for (j = 1; j <= 2; j++) {
		u = j == 1 ? 0 : unrel
		for (i = 1; i <= nc; i++)
			printf " %s/%s=%s", c[i], u, f(c[i], u, "snapshot") == "" ? "-" : f(c[i], u, "snapshot")
	}
	printf ")\n"

	printf "\nTarget 1 (design.md): GET_SUB_IDS within 1.2x of the floor\n"
	for (j = 1; j <= 2; j++) {
		u = j == 1 ? 0 : unrel
		for (i = 1; i <= nc; i++) {
			n = c[i]
			r = ratio(f(n, u, "get_sub_ids"), f(n, u, "floor"))
			r2 = ratio(f(n, u, "subflow_list"), f(n, u, "floor"))
			printf "  %s sf, %5s unrelated: (c)/(b) = %s%s   [(d)/(b) = %s%s]\n",
				n, u, r, verdict(r, 1.2), r2, verdict(r2, 1.2)
		}
	}
	printf "\nTarget 2 (design.md): independent of other sockets (growth = median at %s / at 0;\n", unrel
	printf "  \"flat\" read here as <= 1.20, the same tolerance as target 1)\n"
	for (i = 1; i <= nc; i++) {
		n = c[i]
		g = ratio(f(n, unrel, "get_sub_ids"), f(n, 0, "get_sub_ids"))
		gb = ratio(f(n, unrel, "floor"), f(n, 0, "floor"))
		ga = ratio(f(n, unrel, "full_info"), f(n, 0, "full_info"))
		gd = ratio(f(n, unrel, "subflow_list"), f(n, 0, "subflow_list"))
		printf "  %s sf: (c) %s%s   [(a) %s, (b) %s, (d) %s]\n", n, g,
			verdict(g, 1.2), ga, gb, gd
	}
	printf "\nReference (kernel-facts.md Q9, an earlier machine of this kind): FULL_INFO alone 1.6-1.8 / 2.1-3.0 / 3.9-4.4 us,\n"
	printf "  floor 8.5-8.8 / 15-21 / 32-40 us for 1 / 4 / 8 subflows (design.md: ~9 us for 1, ~35 us for 8).\n"
}' "$OUT"

if ((failed)); then
	echo "run-list: some runs failed (see above)" >&2
	exit 1
fi
exit 0
