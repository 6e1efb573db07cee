#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Subflow control against the real kernel, as root (the library talks to
# the kernel itself) and as uid 65534 without capabilities (through
# mpsockd): open (plain, backup, wildcard source, IPv6, draft), close
# (FIN, RST, the last one), backup priority, and the errors.  Each claim is
# checked by an independent witness: ss -tiM for subflows and flags, a
# packet capture for MP_JOIN's backup bit, MP_PRIO, FIN and RST, and
# ip mptcp monitor on the server for the peer's view.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=userspace
netns_setup
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
C_CELL=$TESTNET_CLI_CELL4

# A peer that never answers, whatever ran before: a permanent neighbour
# entry on the cell link for an address nobody has, to a MAC nobody has.
# A SYN to it leaves and is dropped by the server's end of the veth (not
# its MAC); no ARP resolution, so no FAILED entry and no EHOSTUNREACH
# that an earlier attempt could leave behind.
SILENT=10.0.2.99
if ! nsenter --net="$CLI_NS" ip neigh replace "$SILENT" \
	lladdr 02:00:00:00:00:99 dev cell nud permanent; then
	echo "Bail out! cannot add the silent peer's neighbour entry"
	exit 1
fi

# witnesses: a capture on the client and the server's event monitor, both
# listening before the pass begins, both complete before they are read
start_witnesses()
{
	# the UDP datagram to the silent peer marks the end of the capture
	start_capture "$CLI_NS" "$TESTNET_TMP/$1.pcap" \
		"tcp port $PORT or (udp and host $SILENT)" ||
		not_ok "$1: tcpdump capturing"
	start_ipmon "$SRV_NS" "$TESTNET_TMP/$1.mon" ||
		not_ok "$1: ip mptcp monitor listening"
	MON_PID=$IPMON_PID
}

stop_witnesses()
{
	# packets reach a capture in order: once the marker sent now is in
	# the file, so is every packet of the pass
	nsenter --net="$CLI_NS" bash -c "echo '$1' >/dev/udp/$SILENT/9"
	poll 10 eval "pcap_text '$TESTNET_TMP/$1.pcap' | grep -q '> $SILENT.9: UDP'" ||
		echo "# the capture's end marker did not arrive"
	# the server's MP_PRIO event came long before; ip may lag behind
	poll 5 grep -q "SF_PRIO\|PRIORITY" "$TESTNET_TMP/$1.mon"
	kill "$DUMP_PID" "$MON_PID" 2>/dev/null
	wait "$DUMP_PID" "$MON_PID" 2>/dev/null
	pcap_text "$TESTNET_TMP/$1.pcap" >"$TESTNET_TMP/$1.txt"
}

# the id from the last "ok id=N" answer
last_id()
{
	echo "${REPLY_LINE##*id=}"
}

# list_is_empty: the connection lists no subflow (REPLY_LINE: the list)
list_is_empty()
{
	ctl list
	[ "${REPLY_LINE##*$'\n'}" = "ok count=0" ]
}

# ss_flags LOCALADDR:PORT: the tcp-ulp-mptcp flags of that subflow
ss_flags()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { print $3, $4, $5 }'
}

ss_has()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { f = 1 } END { exit !f }'
}

run_mode()
{
	local mode=$1 id l l2 l3 sport fin_port
	shift

	# each pass its own local ports for the draft's 4-tuples (those of
	# the other pass may be in TIME_WAIT), below the ephemeral range
	# (32768-60999 in a new namespace) so that no socket holds them
	case $mode in
	root) DRAFT_PORT=31000 ;;
	*) DRAFT_PORT=31100 ;;
	esac

	# nothing of an earlier connection may answer for this pass
	wait_mptcp_idle
	start_witnesses "$mode"
	if ! ctl_start "$@"; then
		not_ok "$mode: client connected"
		stop_witnesses "$mode"
		return
	fi
	# before any data from the peer the connection is not fully
	# established: the kernel refuses to add subflows
	expect "$mode: open before the handshake completes: ENOTCONN" \
		"open $C_CELL:0 $S4:0" "err ENOTCONN*"
	expect "$mode: data flows" echo "ok bytes=5"

	expect "$mode: open-and-wait a cell subflow" \
		"open $C_CELL:0 $S4:0 wait 3000" "ok id=*"
	id=$(last_id)
	l=$(sf_local "$id")
	check "$mode: ss -tiM shows the new subflow $l, not backup" \
		test "$(ss_flags "$l")" = "b=0 B=0 e=1"

	expect "$mode: open-and-wait a backup subflow" \
		"open $C_CELL:0 $TESTNET_SRV_CELL4:0 backup wait 3000" "ok id=*"
	id=$(last_id)
	l2=$(sf_local "$id")
	check "$mode: ss -tiM shows $l2 as local backup" \
		test "$(ss_flags "$l2")" = "b=1 B=0 e=1"
	sport=${l2##*:}

	expect "$mode: backup priority on the first subflow" "backup 1 1" ok
	l3=$(sf_local 1)
	check "$mode: ss -tiM shows subflow 1 ($l3) as backup" \
		test "$(ss_flags "$l3")" = "b=1 B=0 e=1"
	expect "$mode: and back to non-backup" "backup 1 0" ok
	check "$mode: ss -tiM shows subflow 1 not backup again" \
		test "$(ss_flags "$l3")" = "b=0 B=0 e=1"

	expect "$mode: reset-close the backup subflow" "close $id rst" ok
	check "$mode: ss -tiM no longer shows $l2" eval "! ss_has $l2"
	expect "$mode: the connection survives the reset" echo "ok bytes=5"

	ctl list
	id=$(echo "$REPLY_LINE" | awk -v l="local=$l" '$4 == l {
		sub(/id=/, "", $2); print $2 }')
	expect "$mode: graceful close of the cell subflow" "close $id rdwr" ok
	check "$mode: ss -tiM no longer shows $l" eval "! ss_has $l"
	fin_port=${l##*:}

	expect "$mode: wildcard source, remote port 0" \
		"open 0.0.0.0:0 $TESTNET_SRV_CELL4:0 wait 3000" "ok id=*"
	l=$(sf_local "$(last_id)")
	check "$mode: routing chose the cell source ($l) to port $PORT" \
		eval "[[ '$l' == '$C_CELL:'* ]] &&
			ss_subflows $PORT | grep -q '^$l $TESTNET_SRV_CELL4:$PORT '"

	expect "$mode: draft MPTCP_OPEN_SUB_TUPLE returns a draft id" \
		"dopen $C_CELL:$DRAFT_PORT $S4:$PORT backup" "ok draft=*"
	check "$mode: ss -tiM shows the draft subflow as backup" \
		test "$(ss_flags "$C_CELL:$DRAFT_PORT")" = "b=1 B=0 e=1"
	expect "$mode: the same 4-tuple again: EADDRINUSE" \
		"dopen $C_CELL:$DRAFT_PORT $S4:$PORT" "err EADDRINUSE*"
	expect "$mode: draft MPTCP_SUB_PRIO clears backup" \
		"dprio $(sf_id_of "$C_CELL:$DRAFT_PORT") 0" ok
	check "$mode: ss -tiM shows it not backup" \
		test "$(ss_flags "$C_CELL:$DRAFT_PORT")" = "b=0 B=0 e=1"

	expect "$mode: the reference implementation's 33-byte tuple" \
		"fopen $C_CELL:$((DRAFT_PORT + 1)) $S4:$PORT" "ok draft=*"
	check "$mode: ss -tiM shows that subflow" \
		ss_has "$C_CELL:$((DRAFT_PORT + 1))"
	expect "$mode: SHUT_RD: EOPNOTSUPP" "close 1 rd" "err EOPNOTSUPP*"
	expect "$mode: SHUT_WR: EOPNOTSUPP" "close 1 wr" "err EOPNOTSUPP*"
	expect "$mode: unknown how: EINVAL" "close 1 7" "err EINVAL*"
	expect "$mode: unknown id: ESRCH" "close 999 rdwr" "err ESRCH*"
	expect "$mode: draft unknown id: EINVAL" "dclose 200 rdwr" "err EINVAL*"
	expect "$mode: refused join: ECONNREFUSED" \
		"open $C_CELL:0 $TESTNET_SRV_CELL4:9 wait 3000" \
		"err ECONNREFUSED*"
	expect "$mode: a plain TCP listener closes the join: ECONNRESET" \
		"open $C_CELL:0 $TESTNET_SRV_CELL4:$TESTNET_TCP_PORT wait 3000" \
		"err ECONNRESET*"
	# nobody answers $SILENT: the caller's timeout ends the wait
	expect "$mode: caller's timeout: ETIMEDOUT" \
		"open $C_CELL:0 $SILENT:$PORT wait 300" "err ETIMEDOUT*"
	ctl list
	check "$mode: the timed-out attempt was cancelled" \
		eval "! grep -q 'remote=$SILENT' <<<'$REPLY_LINE'"
	expect "$mode: unknown local address: EADDRNOTAVAIL" \
		"open 10.9.9.9:0 $S4:0 wait 3000" "err EADDRNOTAVAIL*"

	# the last subflow: the connection stays and data waits for a new one
	ctl list
	for id in $(echo "$REPLY_LINE" | awk '/^sf / { sub(/id=/, "", $2);
		print $2 }'); do
		ctl "close $id rdwr"
	done
	# a closed subflow can stay listed a moment after its close (the
	# kernel may dispose of it later, e.g. the initial one): poll, do not
	# sample once
	check "$mode: every subflow closed, the connection still open" \
		poll 5 list_is_empty
	[ "${REPLY_LINE##*$'\n'}" = "ok count=0" ] ||
		echo "$REPLY_LINE" | sed 's/^/# left: /'
	expect "$mode: a new subflow revives it" \
		"open $C_CELL:0 $S4:0 wait 3000" "ok id=*"
	expect "$mode: and data flows again" echo "ok bytes=5"

	ctl_stop
	stop_witnesses "$mode"
	check "$mode: capture: MP_PRIO backup sent" \
		grep -q "prio backup" "$TESTNET_TMP/$mode.txt"
	check "$mode: capture: MP_PRIO non-backup sent" \
		grep -q "prio non-backup" "$TESTNET_TMP/$mode.txt"
	check "$mode: capture: MP_JOIN SYN from port $sport has the backup bit" \
		grep -q "$C_CELL.$sport > .*Flags \[S\].*join backup" \
		"$TESTNET_TMP/$mode.txt"
	check "$mode: capture: RST with MP_TCPRST from port $sport" \
		grep -q "$C_CELL.$sport > .*Flags \[R.\].*mptcp 4" \
		"$TESTNET_TMP/$mode.txt"
	check "$mode: capture: FIN, no RST, from port $fin_port" \
		eval "grep -q '$C_CELL.$fin_port > .*Flags \[F.\]' $TESTNET_TMP/$mode.txt &&
		! grep -q '$C_CELL.$fin_port > .*Flags \[R' $TESTNET_TMP/$mode.txt"
	check "$mode: capture: the SYN to $SILENT left, nothing came back" \
		eval "grep -q '$C_CELL.[0-9]* > $SILENT.$PORT: Flags \[S\]' $TESTNET_TMP/$mode.txt &&
		! grep -q '$SILENT.$PORT > ' $TESTNET_TMP/$mode.txt"
	check "$mode: peer saw the priority change (SUB_PRIORITY)" \
		grep -q "SF_PRIO\|PRIORITY" "$TESTNET_TMP/$mode.mon"
}

# sf_id_of LOCAL: the kernel id of the subflow from LOCAL
sf_id_of()
{
	ctl list
	echo "$REPLY_LINE" | awk -v l="local=$1" '$4 == l {
		sub(/id=/, "", $2); print $2 }'
}

MPSOCK_CTL_BIN=$MPSOCK_CTL
run_mode root nsenter --net="$CLI_NS" --

# a privileged process without CAP_NET_BIND_SERVICE: the same rule
low_port_direct()
{
	ctl_start nsenter --net="$CLI_NS" -- setpriv \
		--bounding-set=-net_bind_service -- || return 1
	ctl echo
	ctl "open $C_CELL:80 $S4:0"
	local r=$REPLY_LINE
	ctl_stop
	[[ $r == "err EACCES"* ]]
}
MPSOCK_CTL_BIN=$MPSOCK_CTL
check "root without CAP_NET_BIND_SERVICE: local port 80 is EACCES" \
	low_port_direct

# Address ids: one per local address (and port) within a connection
address_ids()
{
	local a b c

	ctl_start nsenter --net="$CLI_NS" -- || return 1
	ctl echo
	ctl "open $C_CELL:0 $S4:0 wait 3000"
	a=$(sf_local "$(last_id)")
	ctl "open $C_CELL:0 $TESTNET_SRV_CELL4:0 wait 3000"
	b=$(sf_local "$(last_id)")
	ctl "open 10.0.2.3:0 $S4:0 wait 3000"
	c=$(sf_local "$(last_id)")
	lid() { ss_subflows "$PORT" | awk -v l="$1" '$1 == l { print $7 }'; }
	check "ids: two subflows from $C_CELL share its address id ($(lid "$a"), $(lid "$b"))" \
		eval "[ -n '$(lid "$a")' ] && [ '$(lid "$a")' = '$(lid "$b")' ]"
	check "ids: 10.0.2.3 gets another id ($(lid "$c"))" \
		eval "[ -n '$(lid "$c")' ] && [ '$(lid "$a")' != '$(lid "$c")' ] && [ '$(lid "$c")' != lid=0 ]"
	ctl_stop
}
testnet_add_client_addr cell 10.0.2.3/24
MPSOCK_CTL_BIN=$MPSOCK_CTL
address_ids || not_ok "address ids: client connected"

# IPv6, and a v4-mapped connection whose initial subflow is AF_INET6
v6_and_mapped()
{
	local l

	CTL_HOST=$TESTNET_SRV_WIFI6 ctl_start nsenter --net="$CLI_NS" -- ||
		return 1
	expect "v6: data flows" echo "ok bytes=5"
	expect "v6: open-and-wait from the cell address" \
		"open [$TESTNET_CLI_CELL6]:0 [$TESTNET_SRV_WIFI6]:0 wait 3000" \
		"ok id=2"
	l=$(sf_local 2)
	check "v6: ss -tiM shows $l" test "$(ss_flags "$l")" = "b=0 B=0 e=1"
	expect "v6: backup" "backup 2 1" ok
	check "v6: ss -tiM shows $l as backup" \
		test "$(ss_flags "$l")" = "b=1 B=0 e=1"
	expect "v6: reset-close" "close 2 rst" ok
	check "v6: ss -tiM no longer shows $l" eval "! ss_has '$l'"
	ctl_stop

	CTL_HOST=::ffff:$S4 ctl_start nsenter --net="$CLI_NS" -- || return 1
	expect "v4-mapped: data flows" echo "ok bytes=5"
	expect "v4-mapped: an IPv4 subflow on the AF_INET6 socket" \
		"open $C_CELL:0 $S4:0 wait 3000" "ok id=2"
	expect "v4-mapped: backup on the mapped initial subflow" "backup 1 1" ok
	l=$(sf_local 1)
	check "v4-mapped: ss -tiM shows $l as backup" \
		test "$(ss_flags "$l")" = "b=1 B=0 e=1"
	expect "v4-mapped: reset the initial subflow" "close 1 rst" ok
	expect "v4-mapped: the connection goes on" echo "ok bytes=5"
	ctl_stop
}
MPSOCK_CTL_BIN=$MPSOCK_CTL
v6_and_mapped || not_ok "v6 and v4-mapped clients connected"

start_mpsockd
MPSOCK_CTL_BIN=$(probe_for_anyone)
cp "$MPSOCK_CTL" "$(dirname "$MPSOCK_CTL_BIN")/mpsock-ctl"
MPSOCK_CTL_BIN=$(dirname "$MPSOCK_CTL_BIN")/mpsock-ctl
# shellcheck disable=SC2046
run_mode unprivileged $(unpriv_prefix)
expect_port_check()
{
	ctl_start $(unpriv_prefix) || return 1
	ctl echo
	ctl "open $C_CELL:80 $S4:0"
	local r=$REPLY_LINE
	ctl_stop
	[[ $r == "err EACCES"* ]]
}
check "unprivileged: local port 80 refused with EACCES" expect_port_check

# the same uid holding CAP_NET_BIND_SERVICE may; a restarted broker is
# found again by a client that kept its connection
cap_port_and_restart()
{
	local r1 r2 r3

	ctl_start nsenter --net="$CLI_NS" -- setpriv --reuid=65534 \
		--regid=65534 --clear-groups --inh-caps=+net_bind_service \
		--ambient-caps=+net_bind_service \
		--bounding-set=-all,+net_bind_service -- || return 1
	ctl echo
	ctl "open $C_CELL:81 $S4:0 wait 3000"
	r1=$REPLY_LINE
	check "uid 65534 with CAP_NET_BIND_SERVICE: local port 81 allowed" \
		eval "[[ '$r1' == 'ok id='* ]] && ss_has $C_CELL:81"
	kill "$D_PID"
	wait "$D_PID"
	ctl "open $C_CELL:0 $S4:0"
	r2=$REPLY_LINE
	check "mpsockd stopped: the call fails with EPERM ($r2)" \
		eval "[[ '$r2' == 'err EPERM'* ]]"
	# the old one's "serving" is in the log: wait for a second one
	: >"$TESTNET_TMP/mpsockd.log"
	start_mpsockd
	ctl "open $C_CELL:0 $S4:0 wait 3000"
	r3=$REPLY_LINE
	check "mpsockd restarted: the same client is served again ($r3)" \
		eval "[[ '$r3' == 'ok id='* ]]"
	ctl_stop
}
cap_port_and_restart || not_ok "client with CAP_NET_BIND_SERVICE connected"

# the draft's Figure 4 as written (completed), unprivileged, through mpsockd
: "${MPSOCK_EXAMPLES:=$_TESTNET_ROOT/build/examples}"
PUB=$(dirname "$MPSOCK_CTL_BIN")
cp "$MPSOCK_EXAMPLES/fig4-open-sub" "$PUB/"
cp -L "$MPSOCK_EXAMPLES/../lib/libmpsock.so.0" "$PUB/"
mkfifo "$TESTNET_TMP/fig4.hold"
nsenter --net="$CLI_NS" env LD_LIBRARY_PATH="$PUB" setpriv --reuid=65534 \
	--regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- \
	"$PUB/fig4-open-sub" -w "$S4" "$PORT" "$C_CELL" 12345 \
	"$TESTNET_SRV_CELL4" <"$TESTNET_TMP/fig4.hold" >"$TESTNET_TMP/fig4.out" 2>&1 &
FIG4_PID=$!
exec 8>"$TESTNET_TMP/fig4.hold"
poll 10 eval "grep -q 'new subflow id' '$TESTNET_TMP/fig4.out' ||
	! kill -0 $FIG4_PID 2>/dev/null"
check "Figure 4: MPTCP_OPEN_SUB_TUPLE returned draft id 2" \
	grep -qx "new subflow id : 2" "$TESTNET_TMP/fig4.out"
# the join may still be on its way when the call returns
check "Figure 4: ss -tiM shows $C_CELL:12345 -> $TESTNET_SRV_CELL4:$PORT" \
	poll 5 eval "ss_subflows $PORT | grep -q '^$C_CELL:12345 $TESTNET_SRV_CELL4:$PORT '"
exec 8>&-
wait "$FIG4_PID"
check "Figure 4 exits 0" test $? = 0
kill "$D_PID"
wait "$D_PID"

finish
