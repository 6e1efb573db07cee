#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main demo, on the built-in namespace test network (tests/lib/testnet.sh):
# a client streams to the server over "wifi"; "cell" appears and the path
# manager joins a subflow over it; cell becomes a backup path; cell goes
# away.  examples/watch-subflows prints what libmpsock lists at each change
# (checked against ss -tiM at the end) and the server verifies every byte.
set -eu
cd "$(dirname "$0")/.."
BUILD=${MPSOCK_BUILD:-build}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$BUILD/tests/tools/mpsock-testsrv}
. tests/lib/testnet.sh

[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces)" >&2; exit 1; }
trap testnet_down EXIT
trap 'exit 130' INT TERM
testnet_up >/dev/null
CLI=$TESTNET_CLI_NS
PORT=5203

nsenter --net="/run/netns/$TESTNET_SRV_NS" -- "$MPSOCK_TESTSRV" --mode checksum \
	--port $PORT --pidfile "$TESTNET_TMP/sum.pid" >/dev/null 2>&1 &
SUM_PID=$!
for _ in $(seq 50); do [ -s "$TESTNET_TMP/sum.pid" ] && break; sleep 0.1; done

echo "== client ($CLI): wifi $TESTNET_CLI_WIFI4, cell $TESTNET_CLI_CELL4;" \
	"server $TESTNET_SRV_WIFI4:$PORT"
echo "== streaming for 4 s; timeline of the subflows libmpsock lists:"
nsenter --net="/run/netns/$CLI" -- "$BUILD/examples/watch-subflows" "$TESTNET_SRV_WIFI4" \
	$PORT 4 &
W=$!
sleep 0.8
echo "-- cell appears: ip mptcp endpoint add $TESTNET_CLI_CELL4 subflow"
nsenter --net="/run/netns/$CLI" ip mptcp endpoint add "$TESTNET_CLI_CELL4" id 2 subflow
sleep 1
echo "-- cell becomes backup: ip mptcp endpoint change id 2 backup"
nsenter --net="/run/netns/$CLI" ip mptcp endpoint change id 2 backup
sleep 0.6
echo "-- ss -tiM sees, at the same moment:"
nsenter --net="/run/netns/$CLI" -- ss -tinMH "( dport = :$PORT )" |
	awk '/^[^ \t]/ { a = $(NF-1) " -> " $NF }
	     /tcp-ulp-mptcp/ { match($0, /flags:[^ ]*/)
		print "         " a "  " substr($0, RSTART, RLENGTH) }'
sleep 0.6
echo "-- cell goes away: ip mptcp endpoint delete id 2"
nsenter --net="/run/netns/$CLI" ip mptcp endpoint delete id 2
rc=0
wait $W || rc=$?
kill "$SUM_PID" 2>/dev/null; wait "$SUM_PID" 2>/dev/null || true
[ $rc = 0 ] && echo "== demo OK" || echo "== demo FAILED"
exit $rc
