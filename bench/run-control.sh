#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The subflow-control benchmark (design.md "Performance targets", second
# row; kernel-facts.md Q2): brings up the test network with the userspace
# path manager in the client namespace, starts mpsockd there, and runs
# bench-control once: open / backup on / backup off / close of a subflow
# 10.0.2.2:port -> 10.0.2.1:5201, as bare netlink commands, through
# libmpsock directly, through mpsockd, and (a reference) as bare commands
# run by a helper process, with the ratios and the target.
#
# Usage (as root, after "ninja -C build"):
#   bench/run-control.sh [-i ITERS] [-w WARMUP] [-b BLOCK] [-p PAUSE_US]
#                        [-n PARTS] [-c CPU] [-u]
#
#   -c  pin bench-control, its helper and mpsockd to CPU (taskset): shows
#       the process hop without cross-CPU wake-ups (a diagnostic; the
#       default, unpinned, is how applications and mpsockd really run)
#   -u  switch the server namespace to the userspace path manager (no
#       subflow limit) instead of keeping the testnet's in-kernel PM.  On
#       Linux 6.18 a userspace-PM connection accepts joins only while some
#       socket of its namespace listens to the mptcp_pm_events group
#       (mptcp_can_accept_new_subflow() -> mptcp_userspace_pm_active()):
#       without one, every join is rejected (MPTcpExtMPJoinRejected).  So
#       -u also runs "ip mptcp monitor" in the server namespace as that
#       listener (its output counts the joins).  Its wake-ups for every
#       server-side event land on this host's CPUs and cost the process
#       that issues a command, the broker most: the default avoids them.
#       The default in-kernel PM server accepts 8 extra subflows; the 2 ms
#       pause between cycles keeps it from reaching that under churn
#       (kernel-facts.md Q2), and a rejected join stops the run.
#
# Environment:
#   MPSOCK_BENCH_CONTROL  bench-control binary (default build/bench/bench-control)
#   MPSOCKD               mpsockd binary (default build/daemon/mpsockd)
#   MPSOCK_TESTSRV        echo server (default build/tests/tools/mpsock-testsrv)
#
# Exit status: 0 when the run completed (whether or not the target is met:
# this is a measurement, not a test), 1 when it failed, 77 without MPTCP.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${MPSOCK_BENCH_CONTROL:-$ROOT/build/bench/bench-control}
MPSOCKD=${MPSOCKD:-$ROOT/build/daemon/mpsockd}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$ROOT/build/tests/tools/mpsock-testsrv}

ARGS=()
SERVER_PM=kernel
PIN=

usage()
{
	echo "usage: $0 [-i ITERS] [-w WARMUP] [-b BLOCK] [-p PAUSE_US] [-n PARTS] [-c CPU] [-u]" >&2
	exit 64
}

while getopts "i:w:b:p:n:c:uh" opt; do
	case $opt in
	i | w | b | p | n) ARGS+=("-$opt" "$OPTARG") ;;
	c) PIN=$OPTARG ;;
	u) SERVER_PM=userspace ;;
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

NAME=run-control
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_prepare "$BENCH" "$MPSOCKD"
MONITOR_PID=

# The server's connections take the path manager of their namespace when
# they are created (at accept), so switching now is in time.  (The testnet
# sets "limits subflow 8" for the in-kernel PM.)
if [[ $SERVER_PM == userspace ]]; then
	srv_exec sysctl -q -w net.mptcp.path_manager=userspace || exit 1
	# the events listener without which the server rejects every join
	nsenter --net="/run/netns/$TESTNET_SRV_NS" -- ip mptcp monitor \
		</dev/null >"$TESTNET_TMP/srv-events.log" 2>&1 &
	MONITOR_PID=$!
	EXTRA_PIDS+=("$MONITOR_PID")
	sleep 0.2
	if ! kill -0 "$MONITOR_PID" 2>/dev/null; then
		echo "run-control: ip mptcp monitor failed in the server namespace:" \
			"$(cat "$TESTNET_TMP/srv-events.log")" >&2
		exit 1
	fi
fi

bench_start_mpsockd

echo "# bench-control: kernel $(uname -r), $(nproc) CPUs;" \
	"client PM $(cli_exec sysctl -n net.mptcp.path_manager)," \
	"server PM $(srv_exec sysctl -n net.mptcp.path_manager);" \
	"mpsockd pid $MPSOCKD_PID in $TESTNET_CLI_NS${PIN:+; bench and mpsockd pinned to CPU $PIN}"
echo "# connection $TESTNET_CLI_WIFI4 -> $TESTNET_SRV_WIFI4:$TESTNET_MPTCP_PORT (echo)"

cli_exec "${PIN_CMD[@]}" "$BENCH" "${ARGS[@]}" "$TESTNET_SRV_WIFI4" "$TESTNET_MPTCP_PORT" \
	"$TESTNET_CLI_CELL4" "$TESTNET_SRV_CELL4"
rc=$?

if [[ -n $MONITOR_PID ]]; then
	sleep 0.2 # the last events
	echo "# server events: $(grep -c SF_ESTABLISHED "$TESTNET_TMP/srv-events.log") joins" \
		"established, $(grep -c SF_CLOSED "$TESTNET_TMP/srv-events.log") closed," \
		"$(grep -c SF_PRIO "$TESTNET_TMP/srv-events.log") priority changes (ip mptcp monitor)"
fi
# /proc/net/netstat: a "MPTcpExt:" line of names, then one of values
echo "# server MPTcpExtMPJoinRejected: $(srv_exec cat /proc/net/netstat | awk '
	$1 == "MPTcpExt:" && !names { for (i = 2; i <= NF; i++) n[i] = $i; names = 1; next }
	$1 == "MPTcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == "MPJoinRejected") print $i }')"
bench_finish "$rc"
