#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main demo: the draft's section 2 scenario on the built-in namespace
# test network (tests/lib/testnet.sh).  An unprivileged client streams to
# the server over "cell"; "wifi" appears; the client opens a wifi subflow
# through mpsockd, waits until it is established, closes the cell subflow
# (make-before-break) and keeps streaming.  It prints a timeline, ss -tiM
# shows the result, and the server verifies every byte (checksum).
set -eu
cd "$(dirname "$0")/.."
BUILD=${MPSOCK_BUILD:-build}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$BUILD/tests/tools/mpsock-testsrv}
export TESTNET_CLIENT_PM=userspace
. tests/lib/testnet.sh

[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces)" >&2; exit 1; }
trap testnet_down EXIT
trap 'exit 130' INT TERM
testnet_up >/dev/null
CLI=/run/netns/$TESTNET_CLI_NS
SRV=/run/netns/$TESTNET_SRV_NS
PORT=5203

nsenter --net="$SRV" "$MPSOCK_TESTSRV" --mode checksum --port $PORT \
	--pidfile "$TESTNET_TMP/sum.pid" >/dev/null 2>&1 &
SUM_PID=$!
# the demo's client steers its own subflows: no policy beside it
echo "policy single" >"$TESTNET_TMP/mpsockd.conf"
nsenter --net="$CLI" "$BUILD/daemon/mpsockd" -f "$TESTNET_TMP/mpsockd.conf" \
	--state "$TESTNET_TMP/mpsockd.state" 2>"$TESTNET_TMP/mpsockd.log" &
D_PID=$!
for _ in $(seq 50); do
	[ -s "$TESTNET_TMP/sum.pid" ] && grep -q serving "$TESTNET_TMP/mpsockd.log" &&
		break
	sleep 0.1
done

# the client runs as nobody, without capabilities: control goes via mpsockd
mkdir -p "$TESTNET_TMP/pub"
chmod 755 "$TESTNET_TMP" "$TESTNET_TMP/pub"
cp "$BUILD/examples/handover" "$TESTNET_TMP/pub/"
cp -L "$BUILD"/lib/libmpsock.so.0 "$TESTNET_TMP/pub/"

echo "== wifi is down: the client (uid 65534) connects over cell to $TESTNET_SRV_CELL4:$PORT"
nsenter --net="$CLI" ip addr del "$TESTNET_CLI_WIFI4/24" dev wifi
nsenter --net="$CLI" env LD_LIBRARY_PATH="$TESTNET_TMP/pub" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all -- "$TESTNET_TMP/pub/handover" \
	"$TESTNET_SRV_CELL4" $PORT 4 wifi "$TESTNET_SRV_WIFI4" &
C_PID=$!
sleep 1.6
echo "-- wifi appears: ip addr add $TESTNET_CLI_WIFI4/24 dev wifi"
nsenter --net="$CLI" ip addr add "$TESTNET_CLI_WIFI4/24" dev wifi
sleep 1
echo "-- ss -tiM in the client namespace now:"
nsenter --net="$CLI" ss -tinMH "( dport = :$PORT )" |
	awk '/^[^ \t]/ { a = $(NF-1) " -> " $NF }
	     /tcp-ulp-mptcp/ { match($0, /flags:[^ ]*/)
		print "         " a "  " substr($0, RSTART, RLENGTH) }'
rc=0
wait $C_PID || rc=$?
kill "$SUM_PID" "$D_PID" 2>/dev/null
wait "$SUM_PID" "$D_PID" 2>/dev/null || true
echo "-- mpsockd's log:"
sed 's/^/         /' "$TESTNET_TMP/mpsockd.log"
[ $rc = 0 ] && echo "== demo OK" || echo "== demo FAILED"
exit $rc
