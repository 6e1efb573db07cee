#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main demo: the draft's section 2 scenario on the built-in namespace
# test network (tests/lib/testnet.sh).  An unprivileged client streams to
# the server over "cell"; "wifi" appears; the client opens a wifi subflow
# through mpsockd, waits until it is established, closes the cell subflow
# (make-before-break) and keeps streaming.  It prints a timeline, ss -tiM
# shows the result, and the server verifies every byte (checksum).
# The client samples each subflow's bytes_acked every 100 ms; the demo
# draws them with the moments of the handover (tools/plot-handover.sh) in
# $MPSOCK_DEMO_SVG (default: handover.svg in the current directory), and
# keeps the samples beside it (the same name, .dat for .svg).
set -eu
SVG=${MPSOCK_DEMO_SVG:-handover.svg}
case $SVG in /*) ;; *) SVG=$PWD/$SVG ;; esac
DAT=${SVG%.svg}.dat
cd "$(dirname "$0")/.."
BUILD=${MPSOCK_BUILD:-build}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$BUILD/tests/tools/mpsock-testsrv}
export TESTNET_CLIENT_PM=userspace
. tests/lib/testnet.sh

[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces)" >&2; exit 1; }
# nothing of ours outlives the demo
trap 'kill ${C_PID:-} ${D_PID:-} ${SUM_PID:-} 2>/dev/null || :; testnet_down' EXIT
trap 'exit 130' INT TERM
testnet_up >/dev/null
CLI=/run/netns/$TESTNET_CLI_NS
SRV=/run/netns/$TESTNET_SRV_NS
PORT=5203

# until SECS CMD...: CMD succeeds within SECS seconds (tried every 0.1 s)
until_ok()
{
	local i n=$(($1 * 10))

	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# subflows: the client's established subflows to PORT, "LOCAL REMOTE" (a
# subflow bound to its interface shows as ADDR%DEV in ss: the device goes)
subflows()
{
	nsenter --net="$CLI" ss -tnH state established "( dport = :$PORT )" |
		awk '{ l = $(NF-1); sub(/%[^:]*:/, ":", l); print l, $NF }'
}

nsenter --net="$SRV" "$MPSOCK_TESTSRV" --mode checksum --port $PORT \
	--pidfile "$TESTNET_TMP/sum.pid" >/dev/null 2>&1 &
SUM_PID=$!
# the demo's client steers its own subflows: no policy beside it
echo "policy single" >"$TESTNET_TMP/mpsockd.conf"
nsenter --net="$CLI" "$BUILD/daemon/mpsockd" -f "$TESTNET_TMP/mpsockd.conf" \
	--state "$TESTNET_TMP/mpsockd.state" 2>"$TESTNET_TMP/mpsockd.log" &
D_PID=$!
if ! until_ok 10 eval '[ -s "$TESTNET_TMP/sum.pid" ] &&
	grep -q serving "$TESTNET_TMP/mpsockd.log"'; then
	echo "demo: the checksum server or mpsockd did not start:" >&2
	cat "$TESTNET_TMP/mpsockd.log" >&2
	exit 1
fi

# the client runs as nobody, without capabilities: control goes via mpsockd
mkdir -p "$TESTNET_TMP/pub"
chmod 755 "$TESTNET_TMP" "$TESTNET_TMP/pub"
cp "$BUILD/examples/handover" "$TESTNET_TMP/pub/"
cp -L "$BUILD"/lib/libmpsock.so.0 "$TESTNET_TMP/pub/"
# the client's samples: a file it may write, in the demo's directory
install -m 644 -o 65534 -g 65534 /dev/null "$TESTNET_TMP/samples"

echo "== wifi is down: the client (uid 65534) connects over cell to $TESTNET_SRV_CELL4:$PORT"
nsenter --net="$CLI" ip addr del "$TESTNET_CLI_WIFI4/24" dev wifi
nsenter --net="$CLI" env LD_LIBRARY_PATH="$TESTNET_TMP/pub" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all -- "$TESTNET_TMP/pub/handover" \
	-s "$TESTNET_TMP/samples" "$TESTNET_SRV_CELL4" $PORT 4 wifi \
	"$TESTNET_SRV_WIFI4" &
C_PID=$!
# the client streams over cell (its 4 s count from its connection)...
until_ok 10 eval 'subflows | grep -q "^$TESTNET_CLI_CELL4:"' ||
	echo "demo: the client did not connect over cell" >&2
# ...for a while before wifi appears: this pause is the scenario itself
# (the timeline shows some seconds over cell), nothing waits on it
sleep 1.5
echo "-- wifi appears: ip addr add $TESTNET_CLI_WIFI4/24 dev wifi"
nsenter --net="$CLI" ip addr add "$TESTNET_CLI_WIFI4/24" dev wifi
# make-before-break done: a wifi subflow, none over cell
handed_over=0
until_ok 5 eval 'subflows | grep -q "^$TESTNET_CLI_WIFI4:" &&
	! subflows | grep -q "^$TESTNET_CLI_CELL4:"' && handed_over=1
[ $handed_over = 1 ] || echo "demo: the handover did not complete in 5 s" >&2
echo "-- ss -tiM in the client namespace now:"
nsenter --net="$CLI" ss -tinMH "( dport = :$PORT )" |
	awk '/^[^ \t]/ { a = $(NF-1) " -> " $NF }
	     /tcp-ulp-mptcp/ { match($0, /flags:[^ ]*/)
		print "         " a "  " substr($0, RSTART, RLENGTH) }'
rc=0
wait $C_PID || rc=$?
[ $handed_over = 1 ] || rc=1
C_PID=
kill "$SUM_PID" "$D_PID" 2>/dev/null
wait "$SUM_PID" "$D_PID" 2>/dev/null || true
echo "-- mpsockd's log:"
sed 's/^/         /' "$TESTNET_TMP/mpsockd.log"
# the picture, from the client's samples, kept after the test network
if mkdir -p "$(dirname "$SVG")" && cp "$TESTNET_TMP/samples" "$DAT" &&
	tools/plot-handover.sh "$DAT" "$SVG"; then
	echo "-- the handover as a picture: $SVG (samples: $DAT)"
else
	echo "demo: drawing $SVG from $DAT failed" >&2
	rc=1
fi
[ $rc = 0 ] && echo "== demo OK" || echo "== demo FAILED"
exit $rc
