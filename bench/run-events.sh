#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The event-delay benchmark (the issue: median and 99th percentile delay
# from the kernel event to the application's read, direct and through the
# broker, in one run): brings up the test network with the userspace path
# manager in the client namespace, starts mpsockd there, and runs
# bench-events once: a subflow 10.0.2.2:0 -> 10.0.1.1:5201 is opened and
# closed (a bare SUBFLOW_DESTROY) in each cycle, and its SUB_CLOSED is
# read at once by a bare netlink listener (the floor), by an mpsock event
# stream read directly and by one through mpsockd.
#
# Usage (as root, after "ninja -C build"):
#   bench/run-events.sh [-i ITERS] [-w WARMUP] [-p PAUSE_US] [-r READERS]
#                       [-t destroy|reset] [-c CPU]
#
#   -r  a comma-separated subset of raw,direct,broker (default: all three,
#       subscribed at once); one alone shows what the others cost it
#   -t  the command that closes each subflow: destroy (default; the
#       userspace PM's SUBFLOW_DESTROY, which emits SUB_CLOSED inside the
#       command) or reset (SOCK_DESTROY, an RST; the kernel emits
#       SUB_CLOSED later, from the connection's worker)
#   -c  pin bench-events (all its threads) and mpsockd to CPU (taskset):
#       shows the delays without cross-CPU wake-ups (a diagnostic; the
#       default, unpinned, is how applications and mpsockd really run)
#
# The server keeps the testnet's in-kernel path manager, which accepts 8
# extra subflows and reaps closed ones lazily: the 2 ms pause between
# cycles keeps churn below that (kernel-facts.md Q2), and a rejected join
# stops the run.
#
# Environment:
#   MPSOCK_BENCH_EVENTS   bench-events binary (default build/bench/bench-events)
#   MPSOCKD               mpsockd binary (default build/daemon/mpsockd)
#   MPSOCK_TESTSRV        echo server (default build/tests/tools/mpsock-testsrv)
#
# Exit status: 0 when the run completed (this is a measurement, not a
# test), 1 when it failed, 77 without MPTCP.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${MPSOCK_BENCH_EVENTS:-$ROOT/build/bench/bench-events}
MPSOCKD=${MPSOCKD:-$ROOT/build/daemon/mpsockd}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$ROOT/build/tests/tools/mpsock-testsrv}

ARGS=()
PIN=

usage()
{
	echo "usage: $0 [-i ITERS] [-w WARMUP] [-p PAUSE_US] [-r READERS] [-t destroy|reset] [-c CPU]" >&2
	exit 64
}

while getopts "i:w:p:r:t:c:h" opt; do
	case $opt in
	i | w | p | r | t) ARGS+=("-$opt" "$OPTARG") ;;
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

NAME=run-events
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_prepare "$BENCH" "$MPSOCKD"
bench_start_mpsockd

echo "# bench-events: kernel $(uname -r), $(nproc) CPUs;" \
	"client PM $(cli_exec sysctl -n net.mptcp.path_manager)," \
	"server PM $(srv_exec sysctl -n net.mptcp.path_manager);" \
	"mpsockd pid $MPSOCKD_PID in $TESTNET_CLI_NS${PIN:+; bench and mpsockd pinned to CPU $PIN}"
echo "# connection $TESTNET_CLI_WIFI4 -> $TESTNET_SRV_WIFI4:$TESTNET_MPTCP_PORT (echo)"

cli_exec "${PIN_CMD[@]}" "$BENCH" "${ARGS[@]}" -D "$MPSOCKD_PID" "$TESTNET_SRV_WIFI4" "$TESTNET_MPTCP_PORT" \
	"$TESTNET_CLI_CELL4" "$TESTNET_SRV_WIFI4"
rc=$?

# /proc/net/netstat: a "MPTcpExt:" line of names, then one of values
echo "# server MPTcpExtMPJoinRejected: $(srv_exec cat /proc/net/netstat | awk '
	$1 == "MPTcpExt:" && !names { for (i = 2; i <= NF; i++) n[i] = $i; names = 1; next }
	$1 == "MPTcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == "MPJoinRejected") print $i }')"
bench_finish "$rc"
