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

start_mpsockd

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
rawreq badtype "reply err=EINVAL unknown request type"
rawreq closedconn "reply err=E*"
check "mpsockd survived every request" kill -0 "$D_PID"

# empty messages carrying sockets: dropped clients, and no socket kept
socks_before=$(find /proc/"$D_PID"/fd -lname 'socket:*' | wc -l)
for _ in $(seq 20); do
	# shellcheck disable=SC2086
	timeout 5 $RAW emptyfd "$S4" "$PORT" >/dev/null 2>&1
done
sleep 0.2
socks_after=$(find /proc/"$D_PID"/fd -lname 'socket:*' | wc -l)
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
socks_before=$(find /proc/"$D_PID"/fd -lname 'socket:*' | wc -l)
# shellcheck disable=SC2086
out=$($RAW hold "$S4" "$PORT" 2>&1)
port=$(echo "$out" | sed -n 's/^closed port=//p')
check "hold: the request succeeded" grep -q "reply err=0" <<<"$out"
gone=false
for _ in $(seq 30); do
	if ! nsenter --net="$CLI_NS" ss -MHn state established |
		grep -q ":$port "; then
		gone=true
		break
	fi
	sleep 0.1
done
check "the MPTCP connection closed when the application closed it" $gone
socks_after=$(find /proc/"$D_PID"/fd -lname 'socket:*' | wc -l)
check "mpsockd holds no socket of the application ($socks_before before, $socks_after after)" \
	test "$socks_after" -le "$socks_before"

# only one broker per namespace, and only on the userspace path manager
nsenter --net="$CLI_NS" "$MPSOCKD" 2>"$TESTNET_TMP/second.log"
rc=$?
check "a second mpsockd exits 78 (another one serves)" \
	eval "[ $rc = 78 ] && grep -q 'another mpsockd' $TESTNET_TMP/second.log"
nsenter --net="/run/netns/$TESTNET_SRV_NS" "$MPSOCKD" \
	2>"$TESTNET_TMP/kernelpm.log"
rc=$?
check "on the in-kernel path manager mpsockd exits 78 and says why" \
	eval "[ $rc = 78 ] && grep -q 'needs .userspace.' $TESTNET_TMP/kernelpm.log"

kill "$D_PID"
wait "$D_PID"
check "mpsockd stops on SIGTERM" test $? = 0

# without a broker and without CAP_NET_ADMIN: EPERM, at once
start=$(date +%s%N)
# shellcheck disable=SC2046
out=$(printf 'echo\nopen %s:0 %s:0\n' "$TESTNET_CLI_CELL4" "$S4" |
	$(unpriv_prefix) "$PUB/mpsock-ctl" "$S4" "$PORT" 2>&1 | tail -n 1)
ms=$((($(date +%s%N) - start) / 1000000))
check "no broker: open fails with EPERM ($out)" \
	eval "[[ '$out' == 'err EPERM no mpsockd in this network namespace'* ]]"
check "no broker: it fails fast (${ms} ms, under 2000)" test "$ms" -lt 2000

finish
