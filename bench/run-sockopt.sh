#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The per-subflow setsockopt benchmark (design.md "Performance targets";
# kernel-facts.md Q6 and Q8): brings up the test network with the userspace
# path manager in the client namespace, starts mpsockd there, and runs
# bench-sockopt once: on one MPTCP connection with two subflows (the
# initial one via wifi, a second 10.0.2.2 -> 10.0.2.1), IP_TOS of the
# second subflow set directly, set through mpsockd, read, the bare
# SET_FLAGS the mechanism rests on, and a null request to mpsockd (the hop
# alone), with 10, 1,000 and 10,000 unrelated TCP sockets open in the
# client namespace; then the table and the targets.
#
# Usage (as root, after "ninja -C build"):
#   bench/run-sockopt.sh [-i ITERS] [-w WARMUP] [-b BLOCK] [-W WALKS]
#                        [-n "10 1000 10000"] [-c CPU]
#
#   -c  pin bench-sockopt and mpsockd to CPU (taskset): the process hop
#       without cross-CPU wake-ups (a diagnostic; the default, unpinned, is
#       how applications and mpsockd really run)
#
# Environment:
#   MPSOCK_BENCH_SOCKOPT  bench-sockopt binary (default build/bench/bench-sockopt)
#   MPSOCKD               mpsockd binary (default build/daemon/mpsockd)
#   MPSOCK_TESTSRV        echo server (default build/tests/tools/mpsock-testsrv)
#
# Exit status: 0 when the run completed (whether or not the targets are
# met: this is a measurement, not a test), 1 when it failed, 77 without
# MPTCP.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${MPSOCK_BENCH_SOCKOPT:-$ROOT/build/bench/bench-sockopt}
MPSOCKD=${MPSOCKD:-$ROOT/build/daemon/mpsockd}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$ROOT/build/tests/tools/mpsock-testsrv}

ARGS=()
PIN=

usage()
{
	echo "usage: $0 [-i ITERS] [-w WARMUP] [-b BLOCK] [-W WALKS] [-n \"10 1000 10000\"] [-c CPU]" >&2
	exit 64
}

while getopts "i:w:b:W:n:c:h" opt; do
	case $opt in
	i | w | b | W | n) ARGS+=("-$opt" "$OPTARG") ;;
	c) PIN=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || usage
PIN_CMD=()
if [[ -n $PIN ]]; then
	[[ $PIN =~ ^[0-9]+$ ]] || usage
	PIN_CMD=(taskset -c "$PIN")
fi

NAME=run-sockopt
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_prepare "$BENCH" "$MPSOCKD"
# mpsockd loads and attaches its own instance of the BPF program at start
bench_start_mpsockd
if grep -q "per-subflow socket options unavailable" "$LOG"; then
	echo "run-sockopt: mpsockd cannot serve per-subflow options: $(cat "$LOG")" >&2
	exit 1
fi

echo "# bench-sockopt: kernel $(uname -r), $(nproc) CPUs;" \
	"client PM $(cli_exec sysctl -n net.mptcp.path_manager)," \
	"server PM $(srv_exec sysctl -n net.mptcp.path_manager);" \
	"mpsockd pid $MPSOCKD_PID in $TESTNET_CLI_NS${PIN:+; bench and mpsockd pinned to CPU $PIN}"
echo "# connection $TESTNET_CLI_WIFI4 -> $TESTNET_SRV_WIFI4:$TESTNET_MPTCP_PORT (echo)," \
	"second subflow $TESTNET_CLI_CELL4 -> $TESTNET_SRV_CELL4"

# -D: bench-sockopt notes on which CPU mpsockd served each request
cli_exec "${PIN_CMD[@]}" "$BENCH" "${ARGS[@]}" -D "$MPSOCKD_PID" "$TESTNET_SRV_WIFI4" "$TESTNET_MPTCP_PORT" \
	"$TESTNET_CLI_CELL4" "$TESTNET_SRV_CELL4"
rc=$?

bench_finish "$rc"
