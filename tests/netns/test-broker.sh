#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd's security model, with a real unprivileged process: malformed or
# disallowed requests get an error reply and the broker keeps serving
# others; a client that never reads cannot stall anybody; the broker keeps
# no reference to an application's connection; it refuses to start on the
# wrong path manager or twice; without it, control calls fail fast.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=userspace
netns_setup
: "${MPSOCK_RAWREQ:=$_TESTNET_ROOT/build/tests/tools/mpsock-rawreq}"
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
PORT=$TESTNET_MPTCP_PORT

PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_RAWREQ" "$MPSOCK_CTL" "$PUB/"
RAW="$(unpriv_prefix) $PUB/mpsock-rawreq"

start_mpsockd || { echo "Bail out! mpsockd"; exit 1; }

# socks: the sockets mpsockd holds
socks()
{
	find /proc/"$D_PID"/fd -lname 'socket:*' | wc -l
}

# rawreq MODE PATTERN: the broker's answer matches; then it still serves
rawreq()
{
	local out

	# shellcheck disable=SC2086
	out=$(timeout 10 $RAW "$1" "$S4" "$PORT" 2>&1)
	# shellcheck disable=SC2053
	if [[ $out == $2 ]]; then
		ok "$1: refused with an error reply ($out)"
	else
		not_ok "$1: wanted '$2', got '$out'"
	fi
	# shellcheck disable=SC2086
	out=$(timeout 10 $RAW valid "$S4" "$PORT" 2>&1)
	check "$1: the broker still serves a valid request" \
		test "$out" = "reply err=0 "
}

rawreq nofd "reply err=EBADF a request carries exactly one socket*"
rawreq pipefd "reply err=ENOTSOCK *"
rawreq tcpfd "reply err=EOPNOTSUPP the socket passed is not an MPTCP socket"
rawreq listenfd "reply err=EINVAL the socket passed is listening"
rawreq twofds "reply err=EBADF a request carries exactly one socket (got 2)"
rawreq garbage "reply err=EINVAL bad request size 37"
rawreq badversion "reply err=EPROTONOSUPPORT request version 99*"
rawreq badtype "reply err=EINVAL unknown request type*"
rawreq closedconn "reply err=E*"
check "mpsockd survived every request" kill -0 "$D_PID"

# empty messages carrying sockets: dropped clients, and no socket kept
socks_before=$(socks)
for _ in $(seq 20); do
	# shellcheck disable=SC2086
	timeout 5 $RAW emptyfd "$S4" "$PORT" >/dev/null 2>&1
done
# the clients are gone; mpsockd drops them as it sees them go
poll 5 eval '[ "$(socks)" -le "$socks_before" ]'
socks_after=$(socks)
check "empty messages with sockets: mpsockd keeps none ($socks_before before, $socks_after after)" \
	test "$socks_after" -le "$socks_before"

# a client that never reads its replies
# shellcheck disable=SC2086
$RAW stall "$S4" "$PORT" >"$TESTNET_TMP/stall.out" 2>&1 &
STALL_PID=$!
for _ in $(seq 100); do
	grep -q stalled "$TESTNET_TMP/stall.out" && break
	sleep 0.1
done
check "a client that never reads is cut off by the broker" \
	grep -q "stalled after" "$TESTNET_TMP/stall.out"
# shellcheck disable=SC2086
out=$(timeout 5 $RAW valid "$S4" "$PORT" 2>&1)
check "meanwhile another client is served" test "$out" = "reply err=0 "
kill "$STALL_PID" 2>/dev/null
wait "$STALL_PID" 2>/dev/null

# no reference kept: the connection goes when the application closes it
socks_before=$(socks)
# shellcheck disable=SC2086
out=$($RAW hold "$S4" "$PORT" 2>&1)
port=$(echo "$out" | sed -n 's/^closed port=//p')
check "hold: the request succeeded" grep -q "reply err=0" <<<"$out"
conn_gone()
{
	! nsenter --net="$CLI_NS" ss -MHn state established | grep -q ":$port "
}
check "the MPTCP connection closed when the application closed it" \
	eval '[ -n "$port" ] && poll 5 conn_gone'
# the client has left: mpsockd drops it as it sees it go
poll 5 eval '[ "$(socks)" -le "$socks_before" ]'
socks_after=$(socks)
check "mpsockd holds no socket of the application ($socks_before before, $socks_after after)" \
	test "$socks_after" -le "$socks_before"

# only one broker per namespace, and only on the userspace path manager
# (configuration and state of this run: not the host's /etc and /run)
nsenter --net="$CLI_NS" "$MPSOCKD" -f "$TESTNET_TMP/mpsockd.conf" \
	--state "$TESTNET_TMP/second.state" 2>"$TESTNET_TMP/second.log"
rc=$?
check "a second mpsockd exits 78 (another one serves)" \
	eval "[ $rc = 78 ] && grep -q 'another mpsockd' $TESTNET_TMP/second.log"
nsenter --net="/run/netns/$TESTNET_SRV_NS" "$MPSOCKD" \
	-f "$TESTNET_TMP/mpsockd.conf" --state "$TESTNET_TMP/kernelpm.state" \
	2>"$TESTNET_TMP/kernelpm.log"
rc=$?
check "on the in-kernel path manager mpsockd exits 78 and says why" \
	eval "[ $rc = 78 ] && grep -q 'needs .userspace.' $TESTNET_TMP/kernelpm.log"

kill "$D_PID"
wait "$D_PID"
check "mpsockd stops on SIGTERM" test $? = 0

# without a broker and without CAP_NET_ADMIN: EPERM, at once (the time
# of the call alone, not of starting the client and connecting)
# shellcheck disable=SC2034 # read by ctl_start
MPSOCK_CTL_BIN=$PUB/mpsock-ctl
# shellcheck disable=SC2046
if ctl_start $(unpriv_prefix); then
	ctl echo
	start=$(date +%s%N)
	ctl "open $TESTNET_CLI_CELL4:0 $S4:0"
	ms=$((($(date +%s%N) - start) / 1000000))
	out=$REPLY_LINE
	ctl_stop
	check "no broker: open fails with EPERM ($out)" \
		eval "[[ '$out' == 'err EPERM no mpsockd in this network namespace'* ]]"
	check "no broker: it fails fast (${ms} ms, under 2000)" test "$ms" -lt 2000
else
	not_ok "no broker: client connected"
fi

finish
