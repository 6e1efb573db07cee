#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Per-subflow socket options (native and the draft's MPTCP_SUB_SETSOCKOPT /
# MPTCP_SUB_GETSOCKOPT) on one of two subflows, as root and as uid 65534
# through mpsockd.  Witnesses: the TOS/TCLASS byte of that subflow's
# packets only (packet capture), ss --tos / ss -ti (sock_diag: TOS,
# congestion control, max pacing rate), and the pacing rate's effect on a
# transfer over that subflow.  Section 5: EPERM for what an unprivileged
# process could not do on a TCP socket of its own.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=userspace
netns_setup
ensure_cgroup2 || { echo "Bail out! no cgroup v2 hierarchy"; exit 1; }
trap 'release_cgroup2; testnet_down' EXIT
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
C_CELL=$TESTNET_CLI_CELL4

# ss_detail LOCAL: what sock_diag says of that subflow (ss --tos -ti),
# its two lines joined
ss_detail()
{
	nsenter --net="$CLI_NS" ss -tinH --tos "( dport = :$PORT )" |
		awk -v l="$1" '/^[^ \t]/ { hit = ($4 == l); head = $0; next }
			hit { print head " |" $0; exit }'
}

# elapsed_ms CMD: run a ctl command, print how long it took
elapsed_ms()
{
	local t0

	t0=$(date +%s%N)
	ctl "$1"
	echo $((($(date +%s%N) - t0) / 1000000))
}

start_mpsockd

run_mode()
{
	local mode=$1 l1 l2 ms slow fast
	shift

	nsenter --net="$CLI_NS" tcpdump -i any -nn -v -U --immediate-mode \
		-w "$TESTNET_TMP/$mode.pcap" "tcp port $PORT" 2>/dev/null &
	DUMP_PID=$!
	sleep 0.5
	ctl_start "$@" || { not_ok "$mode: client connected"; return; }
	ctl echo
	expect "$mode: a second subflow over cell" \
		"open $C_CELL:0 $S4:0 wait 3000" "ok id=2"
	l1=$(sf_local 1)
	l2=$(sf_local 2)

	expect "$mode: IP_TOS 0xb8 on subflow 2" "sso 2 tos 184" ok
	expect "$mode: read back from subflow 2" "sgo 2 tos" "ok value=184"
	expect "$mode: subflow 1 keeps TOS 0" "sgo 1 tos" "ok value=0"
	check "$mode: sock_diag shows tos:0xb8 on $l2" \
		eval "ss_detail $l2 | grep -q 'tos:0xb8'"
	check "$mode: and not on $l1" \
		eval "! ss_detail $l1 | grep -q 'tos:0xb8'"
	expect "$mode: traffic" "send 200000" "ok bytes=200000"

	expect "$mode: TCP_CONGESTION reno on subflow 2" "sso 2 cc reno" ok
	expect "$mode: read back" "sgo 2 cc" "ok value=reno"
	check "$mode: ss -ti shows reno on $l2 only" \
		eval "ss_detail $l2 | grep -q '|[[:space:]]*reno ' && ! ss_detail $l1 | grep -q '|[[:space:]]*reno '"
	expect "$mode: TCP_NODELAY on subflow 2" "sso 2 nodelay 1" ok
	expect "$mode: read back" "sgo 2 nodelay" "ok value=1"
	expect "$mode: subflow 1 keeps TCP_NODELAY 0" "sgo 1 nodelay" \
		"ok value=0"
	expect "$mode: TCP_KEEPIDLE" "sso 2 keepidle 77" ok
	expect "$mode: read back" "sgo 2 keepidle" "ok value=77"
	expect "$mode: draft MPTCP_SUB_SETSOCKOPT (IP_TOS 0x28)" \
		"dsso 2 tos 40" ok
	expect "$mode: draft MPTCP_SUB_GETSOCKOPT" "dsgo 2 tos" "ok value=40"
	expect "$mode: IP_TTL is not per subflow" "sso 2 ttl 3" \
		"err ENOPROTOOPT*"
	expect "$mode: unknown id" "sso 9 tos 4" "err ESRCH*"
	expect "$mode: draft unknown id" "dsso 9 tos 4" "err EINVAL*"
	expect "$mode: unknown congestion control: ENOENT (kernel)" \
		"sso 2 cc nosuchcc" "err *"

	# the pacing rate's effect: only subflow 2 carries data, paced
	expect "$mode: subflow 1 as backup" "backup 1 1" ok
	ctl "send 100000" # settle the scheduler on subflow 2
	expect "$mode: SO_MAX_PACING_RATE 1 MB/s on subflow 2" \
		"sso 2 pacing 1000000" ok
	check "$mode: ss -ti shows the max pacing rate on $l2" \
		eval "ss_detail $l2 | grep -q 'pacing_rate [0-9]*bps/8000000bps'"
	slow=$(elapsed_ms "send 1000000")
	expect "$mode: unlimited again" "sso 2 pacing -1" ok
	fast=$(elapsed_ms "send 1000000")
	check "$mode: 1 MB paced at 1 MB/s took ${slow} ms (>= 500), unpaced ${fast} ms" \
		eval "[ $slow -ge 500 ] && [ $fast -lt $slow ]"
	expect "$mode: back to two regular subflows" "backup 1 0" ok

	# documented kernel behaviour: the MPTCP socket's own setsockopt of
	# the same option overwrites it on every subflow
	expect "$mode: IP_TOS 0x10 on the MPTCP socket" "mtos 16" ok
	expect "$mode: it overwrote subflow 2's value" "sgo 2 tos" \
		"ok value=16"
	expect "$mode: and subflow 1's" "sgo 1 tos" "ok value=16"

	if [ "$mode" = unprivileged ]; then
		expect "$mode: SO_MARK: EPERM" "sso 2 mark 7" "err EPERM*"
		expect "$mode: SO_PRIORITY 7: EPERM" "sso 2 priority 7" \
			"err EPERM*"
		expect "$mode: SO_PRIORITY 5: allowed" "sso 2 priority 5" ok
		expect "$mode: a congestion control not allowed: EPERM" \
			"sso 2 cc cubic" "err EPERM*"
		expect "$mode: SO_SNDBUF above wmem_max: EPERM" \
			"sso 2 sndbuf 1000000000" "err EPERM*"
	else
		expect "$mode: SO_MARK as root" "sso 2 mark 7" ok
		expect "$mode: read back" "sgo 2 mark" "ok value=7"
	fi
	ctl_stop
	sleep 0.3
	kill "$DUMP_PID"
	wait "$DUMP_PID" 2>/dev/null
	tcpdump -nn -v -r "$TESTNET_TMP/$mode.pcap" >"$TESTNET_TMP/$mode.txt" \
		2>/dev/null
	check "$mode: capture: subflow 2 (${l2##*:}) sent with tos 0xb8" \
		eval "grep -A1 'tos 0xb8' $TESTNET_TMP/$mode.txt | grep -q '$C_CELL.${l2##*:} >'"
	check "$mode: capture: subflow 1 (${l1##*:}) never did" \
		eval "! grep -A1 'tos 0xb8' $TESTNET_TMP/$mode.txt | grep -q '${l1%:*}.${l1##*:} >'"
}

MPSOCK_CTL_BIN=$MPSOCK_CTL
run_mode root nsenter --net="$CLI_NS" --

PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_CTL" "$PUB/"
MPSOCK_CTL_BIN=$PUB/mpsock-ctl
# shellcheck disable=SC2046
run_mode unprivileged $(unpriv_prefix)

# IPv6: the traffic class of one subflow
v6()
{
	local l2

	nsenter --net="$CLI_NS" tcpdump -i any -nn -v -U --immediate-mode \
		-w "$TESTNET_TMP/v6.pcap" "tcp port $PORT" 2>/dev/null &
	DUMP_PID=$!
	sleep 0.5
	MPSOCK_CTL_BIN=$MPSOCK_CTL CTL_HOST=$TESTNET_SRV_WIFI6 \
		ctl_start nsenter --net="$CLI_NS" -- || return 1
	ctl echo
	expect "v6: a second subflow" \
		"open [$TESTNET_CLI_CELL6]:0 [$TESTNET_SRV_WIFI6]:0 wait 3000" \
		"ok id=2"
	l2=$(sf_local 2)
	expect "v6: IPV6_TCLASS 0x88 on subflow 2" "sso 2 tclass 136" ok
	expect "v6: read back" "sgo 2 tclass" "ok value=136"
	expect "v6: subflow 1 keeps 0" "sgo 1 tclass" "ok value=0"
	ctl "send 100000"
	ctl_stop
	sleep 0.3
	kill "$DUMP_PID"
	wait "$DUMP_PID" 2>/dev/null
	tcpdump -nn -v -r "$TESTNET_TMP/v6.pcap" >"$TESTNET_TMP/v6.txt" \
		2>/dev/null
	check "v6: capture: subflow 2 sent with class 0x88" \
		grep -q "class 0x88.*" "$TESTNET_TMP/v6.txt"
	l2=${l2#[}
	check "v6: capture: only from $l2" \
		eval "! grep 'class 0x88' $TESTNET_TMP/v6.txt | grep -vq '${l2%]:*}.${l2##*:} >'"
}
v6 || not_ok "v6: client connected"

kill "$D_PID"
wait "$D_PID"
finish
