#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A program written for the draft's reference implementation (no prio in
# its tuple, a close that sets only id: tests/compat) opens and closes a
# subflow as it did there once built with MPSOCK_REFIMPL_LAYOUT, linked
# with libmpsock or run under libmpsock-preload.so: the open joins as a
# regular subflow, the 1-byte close resets it.  Built against the draft's
# structures instead, its unset prio and how (0xff or 0 bytes) make a
# backup subflow and a close that fails with EINVAL or EOPNOTSUPP.  Each
# program runs as uid 65534 through mpsockd; the witnesses are ss -tiM, a
# packet capture on the client and ip mptcp monitor on the server.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=userspace
netns_setup
: "${MPSOCK_COMPAT:=$_TESTNET_ROOT/build/tests/compat}"
: "${MPSOCK_PRELOAD:=$_TESTNET_ROOT/build/preload/libmpsock-preload.so}"
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
S_CELL=$TESTNET_SRV_CELL4
C_CELL=$TESTNET_CLI_CELL4

# The capture's end markers go to an address nobody has, through a
# permanent neighbour entry: they leave at once, and nothing answers.
SILENT=10.0.2.99
if ! nsenter --net="$CLI_NS" ip neigh replace "$SILENT" \
	lladdr 02:00:00:00:00:99 dev cell nud permanent; then
	echo "Bail out! cannot add the silent peer's neighbour entry"
	exit 1
fi

PUB=$(dirname "$(probe_for_anyone)")
for f in compat-refimpl compat-refimpl-plain compat-draft; do
	cp "$MPSOCK_COMPAT/$f" "$PUB/"
done
cp "$MPSOCK_PRELOAD" "$PUB/"
# A sanitizer build's shim needs its runtimes loaded first
SAN_RT=$(ldd "$MPSOCK_PRELOAD" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
UNPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --"

start_mpsockd "policy single" || echo "# mpsockd did not start"
start_capture "$CLI_NS" "$TESTNET_TMP/compat.pcap" \
	"tcp port $PORT or (udp and host $SILENT)" || not_ok "tcpdump capturing"
CAP_PID=$DUMP_PID
start_ipmon "$SRV_NS" "$TESTNET_TMP/srv.mon" || not_ok "ip mptcp monitor listening"
MON_PID=$IPMON_PID

# captured: the capture up to now (packets reach it in order: once a
# marker sent now is in the file, so is every packet sent before it)
MARK=9
captured()
{
	MARK=$((MARK + 1))
	nsenter --net="$CLI_NS" bash -c "echo mark >/dev/udp/$SILENT/$MARK"
	poll 10 eval "pcap_text '$TESTNET_TMP/compat.pcap' | grep -q '> $SILENT.$MARK: UDP'" ||
		echo "# capture marker $MARK did not arrive" >&2
	pcap_text "$TESTNET_TMP/compat.pcap"
}

ss_flags()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { print $3, $4, $5 }'
}

ss_has()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { f = 1 } END { exit !f }'
}

# server_event EVENT LPORT [KEY=VALUE]: the server's monitor printed EVENT
# for the subflow from the client's LPORT (with KEY=VALUE)
server_event()
{
	grep "$1" "$TESTNET_TMP/srv.mon" | grep "dport=$2 " |
		grep -q "${3:-.}"
}

# run_prog NAME LPORT FILL PROGRAM [ENV...]: start it as uid 65534, its
# standard input on a fifo; wait until it has read its subflow
run_prog()
{
	local name=$1 lport=$2 fill=$3 prog=$4

	shift 4
	OUT=$TESTNET_TMP/$name.out
	# what ss shows must be this program's connection alone
	wait_mptcp_idle
	rm -f "$TESTNET_TMP/hold"
	mkfifo "$TESTNET_TMP/hold"
	# shellcheck disable=SC2086
	nsenter --net="$CLI_NS" env "$@" $UNPRIV "$PUB/$prog" "$S4" "$PORT" \
		"$C_CELL" "$lport" "$S_CELL" "$fill" <"$TESTNET_TMP/hold" \
		>"$OUT" 2>&1 &
	PROG_PID=$!
	exec 7>"$TESTNET_TMP/hold"
	poll 10 eval "grep -q '^tuple' '$OUT' || ! kill -0 $PROG_PID 2>/dev/null"
	grep -q '^tuple id=' "$OUT" && return 0
	sed 's/^/# /' "$OUT"
	return 1
}

# close_prog: tell it to close its subflow; wait until it has tried
close_prog()
{
	echo close >&7
	poll 10 eval "grep -q '^data ' '$OUT' || ! kill -0 $PROG_PID 2>/dev/null"
}

end_prog()
{
	exec 7>&-
	wait "$PROG_PID"
}

# check_open NAME LPORT SIZE B: the open request was SIZE bytes, and the
# subflow from LPORT joined with backup bit B (0 or 1) by every witness
check_open()
{
	local name=$1 l=$C_CELL:$2 size=$3 b=$4 join

	check "$name: the open request is $size bytes" \
		grep -qx "open request $size bytes" "$OUT"
	check "$name: MPTCP_OPEN_SUB_TUPLE returned draft id 2" \
		grep -qx "opened id 2" "$OUT"
	check "$name: ss -tiM shows $l -> $S_CELL:$PORT, b=$b" \
		poll 5 eval "[ \"\$(ss_flags $l)\" = 'b=$b B=0 e=1' ]"
	check "$name: GET_SUB_IDS: joined, established, attached, low_prio=$b" \
		grep -qx "status id=2 slave_sk=1 fully_established=1 attached=1 low_prio=$b pre_established=0" "$OUT"
	same "$name: GET_SUB_TUPLE in its layout == ss -tiM" \
		"$(ss_subflows "$PORT" | awk -v l="$l" '$1 == l { print "tuple id=2", $1, $2 }')" \
		"$(grep '^tuple' "$OUT")"
	join=$(captured | grep "$C_CELL.$2 > $S_CELL.$PORT: Flags \[S\]")
	if [ "$b" = 1 ]; then
		check "$name: capture: MP_JOIN SYN from port $2 with the backup bit" \
			eval "grep -q 'join backup' <<<'$join'"
	else
		check "$name: capture: MP_JOIN SYN from port $2 without the backup bit" \
			eval "grep -q 'join' <<<'$join' && ! grep -q 'backup' <<<'$join'"
	fi
	check "$name: server: SF_ESTABLISHED from port $2, backup=$b" \
		poll 5 server_event SF_ESTABLISHED "$2" "backup=$b"
}

# refimpl NAME LPORT PROGRAM [ENV...]: the reference's layout, 0xff fill
refimpl()
{
	local name=$1 lport=$2 l=$C_CELL:$2

	shift 2
	if ! run_prog "$name" "$lport" 0xff "$@"; then
		not_ok "$name: the program opened and read its subflow"
		end_prog
		return
	fi
	check_open "$name" "$lport" 33 0
	close_prog
	check "$name: the close request is 1 byte" \
		grep -qx "close request 1 bytes" "$OUT"
	check "$name: MPTCP_CLOSE_SUB_ID succeeded" grep -qx "closed id 2" "$OUT"
	check "$name: ss -tiM no longer shows $l" poll 5 eval "! ss_has $l"
	check "$name: capture: RST with MP_TCPRST from port $lport" \
		eval "captured | grep -q '$C_CELL.$lport > .*Flags \[R.\].*mptcp'"
	check "$name: server: SF_CLOSED for port $lport" \
		poll 5 server_event SF_CLOSED "$lport"
	check "$name: the connection goes on" grep -qx "data flows" "$OUT"
	check "$name: exits 0" end_prog
}

# draft NAME LPORT FILL B ERROR: the draft's layout; garbage FILL makes
# backup B and a close that fails with ERROR, leaving the subflow up
draft()
{
	local name=$1 lport=$2 fill=$3 b=$4 error=$5 l=$C_CELL:$2

	if ! run_prog "$name" "$lport" "$fill" compat-draft; then
		not_ok "$name: the program opened and read its subflow"
		end_prog
		return
	fi
	check_open "$name" "$lport" 34 "$b"
	close_prog
	check "$name: the close request is 8 bytes" \
		grep -qx "close request 8 bytes" "$OUT"
	check "$name: MPTCP_CLOSE_SUB_ID failed: $error" \
		grep -qx "close id 2: $error" "$OUT"
	check "$name: ss -tiM still shows $l" ss_has "$l"
	check "$name: capture: no RST from port $lport" \
		eval "! captured | grep -q '$C_CELL.$lport > .*Flags \[R'"
	check "$name: server: no SF_CLOSED for port $lport" \
		eval "! server_event SF_CLOSED $lport"
	check "$name: exits 0" end_prog
}

refimpl "reference layout, linked" 31201 compat-refimpl
refimpl "reference layout, preload" 31202 compat-refimpl-plain \
	LD_PRELOAD="$SAN_RT$PUB/libmpsock-preload.so" MPSOCK_PRELOAD_MPTCP=1
draft "draft layout, 0xff garbage" 31203 0xff 1 "Invalid argument"
draft "draft layout, zeroed" 31204 0 0 "Operation not supported"

kill "$CAP_PID" "$MON_PID" 2>/dev/null
wait "$CAP_PID" "$MON_PID" 2>/dev/null
kill "$D_PID"
wait "$D_PID"
finish
