#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The event stream of one connection, as root (the library reads the
# kernel's event group) and as uid 65534 (through mpsockd): every event
# type, each cross-checked with ip mptcp monitor in the same namespace; a
# second unprivileged process sees none of the first one's events; a
# subscriber that does not read is told how many events it lost.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=userspace
netns_setup
# nothing of ours may outlive the test
trap 'kill ${KT_PID:-} ${MON_PID:-} ${D_PID:-} 2>/dev/null; testnet_down' EXIT
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
S_CELL=$TESTNET_SRV_CELL4
C_CELL=$TESTNET_CLI_CELL4

start_mpsockd || { echo "Bail out! mpsockd"; exit 1; }
PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_CTL" "$PUB/"

# the witness: ip mptcp monitor in the client namespace, one per pass
# (started once the earlier pass's connection is gone: what it prints is
# this pass's)
MON=

# monitor_has PATTERN: the monitor printed a line matching PATTERN (it
# may lag behind the event stream a little)
monitor_has()
{
	poll 5 grep -q -- "$1" "$MON"
}

# ev PATTERN: the last evwait's output has an event line matching it
ev_has()
{
	grep -q -- "$1" <<<"$REPLY_LINE"
}

run_mode()
{
	local mode=$1 l
	shift

	nsenter --net="$SRV_NS" ip mptcp endpoint flush
	wait_mptcp_idle
	MON=$TESTNET_TMP/$mode.mon
	start_ipmon "$CLI_NS" "$MON" || not_ok "$mode: ip mptcp monitor listening"
	MON_PID=$IPMON_PID
	# evwait N: the first event may take up to N ms (then it returns once
	# 100 ms pass without another)
	ctl_start "$@" || { not_ok "$mode: client connected"; return; }
	expect "$mode: mpsock_events_open" evopen ok
	ctl echo
	# the server gets a cell address to announce, to us too
	nsenter --net="$SRV_NS" ip mptcp endpoint add "$S_CELL" id 1 signal
	ctl "evwait 5000"
	check "$mode: ADDR_ANNOUNCED of the server's cell address, id 1" \
		ev_has "type=announced .* addr_id=1 .* remote=$S_CELL:$PORT"
	check "$mode: monitor saw ANNOUNCED" monitor_has "ANNOUNCED.*daddr4=$S_CELL"

	ctl "open $C_CELL:0 $S4:0 wait 3000"
	ctl "evwait 5000"
	l=$(sed -n 's/.*type=established id=2 .* local=\([^ ]*\) .*/\1/p' <<<"$REPLY_LINE")
	check "$mode: SUBFLOW_ESTABLISHED with subflow id 2 ($l)" test -n "$l"
	check "$mode: monitor saw SF_ESTABLISHED from port ${l##*:}" \
		monitor_has "SF_ESTABLISHED.*sport=${l##*:}"

	ctl "open $C_CELL:0 $S_CELL:0 wait 3000"
	ctl "evwait 5000"
	l=$(sed -n 's/.*type=established id=3 .* local=\([^ ]*\) .*/\1/p' <<<"$REPLY_LINE")
	# the peer makes its address a backup: MP_PRIO on our subflow 3
	nsenter --net="$SRV_NS" ip mptcp endpoint change id 1 backup
	ctl "evwait 5000"
	check "$mode: SUBFLOW_PRIORITY from the peer, subflow 3 backup" \
		ev_has "type=priority id=3 .*backup=1"
	check "$mode: monitor saw SF_PRIO for port ${l##*:}" \
		monitor_has "SF_PRIO.*sport=${l##*:}"

	ctl "close 2 rst"
	ctl "evwait 5000"
	check "$mode: SUBFLOW_CLOSED id 2, error ECONNABORTED (closed here)" \
		ev_has "type=closed id=2 error=103 "
	ctl "open $C_CELL:0 $S_CELL:9 wait 3000"
	ctl "evwait 5000"
	check "$mode: SUBFLOW_CLOSED of a refused attempt, ECONNREFUSED" \
		ev_has "type=closed .*error=111 .*remote=$S_CELL:9"
	check "$mode: monitor saw SF_CLOSED error=111" \
		monitor_has "SF_CLOSED.*error=111"

	# the peer withdraws its cell address
	nsenter --net="$SRV_NS" ip mptcp endpoint delete id 1
	ctl "evwait 5000"
	check "$mode: ADDR_REMOVED of the peer's address id 1" \
		ev_has "type=removed .*addr_id=1 "
	check "$mode: monitor saw REMOVED" monitor_has "REMOVED.*remid=1"

	ctl list
	for id in $(awk '/^sf / { sub(/id=/, "", $2); print $2 }' <<<"$REPLY_LINE"); do
		ctl "close $id rdwr"
	done
	ctl "evwait 5000"
	check "$mode: NO_SUBFLOW after the last subflow closed" \
		ev_has "type=no_subflow"
	ctl closefd
	ctl "evwait 5000"
	check "$mode: CLOSED when the connection is gone" \
		ev_has "type=conn_closed"
	# CLOSED of the connection, not SF_CLOSED of a subflow
	check "$mode: monitor saw CLOSED" monitor_has "^\[ *CLOSED\] "
	ctl_stop
	kill "$MON_PID"
	wait "$MON_PID" 2>/dev/null
	MON_PID=
}

MPSOCK_CTL_BIN=$MPSOCK_CTL
run_mode root nsenter --net="$CLI_NS" --
MPSOCK_CTL_BIN=$PUB/mpsock-ctl
# shellcheck disable=SC2046
run_mode unprivileged $(unpriv_prefix)

# isolation: a second unprivileged process with its own connection
nsenter --net="$SRV_NS" ip mptcp endpoint flush
exec {other_in}> >(exec $(unpriv_prefix) "$PUB/mpsock-ctl" "$S4" "$PORT" \
	>"$TESTNET_TMP/other.out" 2>&1)
echo evopen >&"$other_in"
echo echo >&"$other_in"
# it answers in order: after the echo's answer its stream is open
poll 10 grep -q '^ok bytes=5' "$TESTNET_TMP/other.out" ||
	echo "# the other process did not subscribe: $(cat "$TESTNET_TMP/other.out")"
# shellcheck disable=SC2046
ctl_start $(unpriv_prefix) || not_ok "isolation: first client connected"
ctl evopen
ctl echo
ctl "open $C_CELL:0 $S4:0 wait 3000"
ctl "evwait 5000"
check "isolation: the first process sees its own events" \
	ev_has "type=established id=2"
ctl "close 2 rst"
echo "evwait 500" >&"$other_in"
echo quit >&"$other_in"
exec {other_in}>&-
poll 10 grep -q "^ok events=" "$TESTNET_TMP/other.out"
check "isolation: the other process saw none of them" \
	grep -qx "ok events=0" "$TESTNET_TMP/other.out"
ctl_stop

# a subscriber that does not read: it is told what it lost
lost_case()
{
	local mode=$1 i
	shift

	ctl_start "$@" || return 1
	ctl evopen
	ctl echo
	# established + closed per cycle, none read: more than the queue holds
	for i in $(seq 200); do
		ctl "open $C_CELL:0 $S4:0"
		ctl "close $((i + 1)) rst"
	done
	ctl "evwait 5000"
	check "$mode: a subscriber that did not read gets LOST" \
		ev_has "type=lost .*lost=[1-9]"
	check "$mode: and the events that did fit" \
		ev_has "type=established"
	ctl_stop
	return 0
}
MPSOCK_CTL_BIN=$PUB/mpsock-ctl
# shellcheck disable=SC2046
lost_case "unprivileged" $(unpriv_prefix) ||
	not_ok "lost: client connected"
check "mpsockd still serves" kill -0 "$D_PID"

# examples/keep-two: a path manager driven only by events keeps a regular
# and a backup subflow; subflows killed from outside (ss -K) come back.
# It runs until we stop it (its lifetime is far beyond the test's needs):
# no step depends on how fast the others were.
: "${MPSOCK_EXAMPLES:=$_TESTNET_ROOT/build/examples}"
cp "$MPSOCK_EXAMPLES/keep-two" "$PUB/"
cp -L "$MPSOCK_EXAMPLES/../lib/libmpsock.so.0" "$PUB/"
# the subflows counted below are keep-two's alone
wait_mptcp_idle
nsenter --net="$CLI_NS" env LD_LIBRARY_PATH="$PUB" setpriv --reuid=65534 \
	--regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- \
	"$PUB/keep-two" "$S4" "$PORT" "$TESTNET_CLI_WIFI4" "$C_CELL" 240 \
	>"$TESTNET_TMP/keep-two.out" 2>&1 &
KT_PID=$!
two_now()
{
	[ "$(ss_subflows "$PORT" | grep -c "^$TESTNET_CLI_WIFI4:.* b=0 ")" = 1 ] &&
		[ "$(ss_subflows "$PORT" | grep -c "^$C_CELL:.* b=1 ")" = 1 ]
}
two_subflows()
{
	poll 10 two_now && return 0
	ss_subflows "$PORT" | sed 's/^/# /'
	return 1
}
check "keep-two: a regular subflow over wifi and a backup over cell" \
	two_subflows
nsenter --net="$CLI_NS" ss -K -t "( src $C_CELL and dport = :$PORT )" >/dev/null
check "keep-two: the backup subflow, reset from outside, comes back" \
	two_subflows
nsenter --net="$CLI_NS" ss -K -t \
	"( src $TESTNET_CLI_WIFI4 and dport = :$PORT )" >/dev/null
check "keep-two: so does the regular one" two_subflows
check "keep-two: still running when stopped" kill -0 "$KT_PID"
kill "$KT_PID"
wait "$KT_PID" 2>/dev/null
KT_PID=
check "keep-two: saw both closes and reopened" \
	eval "grep -q 'backup subflow .* closed .*reopening' $TESTNET_TMP/keep-two.out &&
	      grep -q 'main subflow .* closed .*reopening' $TESTNET_TMP/keep-two.out"

kill "$D_PID"
wait "$D_PID" 2>/dev/null
D_PID=
finish
