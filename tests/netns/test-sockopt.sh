#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Per-subflow socket options (native and the draft's MPTCP_SUB_SETSOCKOPT /
# MPTCP_SUB_GETSOCKOPT) on one of two subflows, as root and as uid 65534
# through mpsockd.  Witnesses: the TOS/TCLASS byte of that subflow's
# packets only (packet capture), ss --tos / ss -ti (sock_diag: TOS,
# congestion control, max pacing rate), and the pacing rate's effect on a
# transfer over that subflow.  Section 5: EPERM for what an unprivileged
# process could not do on a TCP socket of its own.  What the kernel allows
# differs between builds (TCP_NODELAY from the header-option callback):
# the test asks mpsock check, which reports what mpsockd's probe found,
# and expects exactly that.  Last, mpsockd started the way "ip netns exec"
# starts it (/sys remounted: no cgroup v2 mount visible) still serves
# per-subflow options.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"
export TESTNET_CLIENT_PM=userspace
netns_setup
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
C_CELL=$TESTNET_CLI_CELL4

# ss_detail LOCAL: what sock_diag says of that subflow (ss --tos -ti),
# its two lines joined (a device-bound one shows as ADDR%DEV:PORT)
ss_detail()
{
	nsenter --net="$CLI_NS" ss -tinH --tos "( dport = :$PORT )" |
		awk -v l="$1" '/^[^ \t]/ { a = $4; sub(/%[^:\]]*/, "", a)
			hit = (a == l); head = $0; next }
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

# what mpsockd's probe of this kernel found, as mpsock check reports it
cli_check()
{
	nsenter --net="$CLI_NS" "$MPSOCK_CLI" -j check "$1" |
		jq -r ".[0].$2"
}
NODELAY=$(cli_check sockopt:TCP_NODELAY status)
NODELAY_HOW=$(cli_check sockopt:TCP_NODELAY detail)
check "mpsock check reports TCP_NODELAY per subflow: $NODELAY ($NODELAY_HOW)" \
	eval "[ '$NODELAY' = works ] || [ '$NODELAY' = 'does not' ]"
# mpsockd logs every option its probe did not find on the fast path
case $NODELAY_HOW in
"set: TCP iterator"*) LOGGED="setting TCP_NODELAY: TCP iterator" ;;
"set: refused"*) LOGGED="setting TCP_NODELAY: refused" ;;
*) LOGGED= ;;
esac
check "mpsockd's log agrees (${LOGGED:-nothing logged for TCP_NODELAY})" \
	eval "if [ -n '$LOGGED' ]; then grep -q '$LOGGED' '$TESTNET_TMP/mpsockd.log'
	else ! grep -q 'setting TCP_NODELAY' '$TESTNET_TMP/mpsockd.log'; fi"

run_mode()
{
	local mode=$1 l1 l2 ms slow fast
	shift

	start_capture "$CLI_NS" "$TESTNET_TMP/$mode.pcap" "tcp port $PORT" ||
		not_ok "$mode: tcpdump capturing"
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
	if [ "$NODELAY" = works ]; then
		expect "$mode: TCP_NODELAY on subflow 2 ($NODELAY_HOW)" \
			"sso 2 nodelay 1" ok
		expect "$mode: read back" "sgo 2 nodelay" "ok value=1"
		expect "$mode: subflow 1 keeps TCP_NODELAY 0" "sgo 1 nodelay" \
			"ok value=0"
	else
		expect "$mode: TCP_NODELAY refused by this kernel: EOPNOTSUPP" \
			"sso 2 nodelay 1" "err EOPNOTSUPP*refuses*TCP_NODELAY*"
	fi
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
	stop_capture "$CLI_NS" "$TESTNET_TMP/$mode.pcap" "$PORT" ||
		not_ok "$mode: capture complete (its end marker within 20 s)"
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

	start_capture "$CLI_NS" "$TESTNET_TMP/v6.pcap" "tcp port $PORT" ||
		not_ok "v6: tcpdump capturing"
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
	stop_capture "$CLI_NS" "$TESTNET_TMP/v6.pcap" "$PORT" ||
		not_ok "v6: capture complete (its end marker within 20 s)"
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

# mpsockd started as "ip netns exec" starts a daemon: a mount namespace of
# its own where /sys is a fresh sysfs, so no cgroup v2 mount is visible.
# Where ip netns exec itself cannot run (a chroot whose / is no mount
# point), the same mounts are made by hand.
if ip netns exec "$TESTNET_CLI_NS" true 2>/dev/null; then
	NETNS_EXEC=(ip netns exec "$TESTNET_CLI_NS")
else
	NETNS_EXEC=(nsenter --net="$CLI_NS" unshare --mount
		--propagation unchanged sh -c 'mount --make-rslave /sys &&
		umount -l /sys && mount -t sysfs sysfs /sys && exec "$@"' sh)
fi
netns_exec_run()
{
	: >"$TESTNET_TMP/exec.log"
	# every step execs: $! is mpsockd
	"${NETNS_EXEC[@]}" "$MPSOCKD" -f "$TESTNET_TMP/mpsockd.conf" \
		--state "$TESTNET_TMP/exec.state" >/dev/null \
		2>"$TESTNET_TMP/exec.log" &
	D_PID=$!
	poll 5 grep -q serving "$TESTNET_TMP/exec.log"
}
check "mpsockd started through ${NETNS_EXEC[0]} ${NETNS_EXEC[1]} serves" \
	netns_exec_run
check "it saw no cgroup v2 mount and attached through a private one" \
	grep -q "attached at a private mount (none visible)" "$TESTNET_TMP/exec.log"
sed 's/^/# /' "$TESTNET_TMP/exec.log"
exec_sso()
{
	local l2

	MPSOCK_CTL_BIN=$PUB/mpsock-ctl
	# shellcheck disable=SC2046
	ctl_start $(unpriv_prefix) || return 1
	ctl echo
	expect "ip netns exec: a second subflow over cell" \
		"open $C_CELL:0 $S4:0 wait 3000" "ok id=2"
	l2=$(sf_local 2)
	expect "ip netns exec: IP_TOS 0xb8 on subflow 2 (unprivileged)" \
		"sso 2 tos 184" ok
	check "ip netns exec: sock_diag shows tos:0xb8 on $l2" \
		eval "ss_detail $l2 | grep -q 'tos:0xb8'"
	expect "ip netns exec: SO_MARK still EPERM" "sso 2 mark 7" "err EPERM*"
	ctl_stop
}
exec_sso || not_ok "ip netns exec: client connected"
kill "$D_PID"
wait "$D_PID"

# an mpsockd that may not load BPF programs: a clear EOPNOTSUPP with the
# reason, never a stray errno such as ENOENT
nocap_run()
{
	: >"$TESTNET_TMP/nocap.log"
	nsenter --net="$CLI_NS" setpriv \
		--bounding-set=-bpf,-perfmon,-sys_admin -- "$MPSOCKD" \
		-f "$TESTNET_TMP/mpsockd.conf" --state "$TESTNET_TMP/nocap.state" \
		>/dev/null 2>"$TESTNET_TMP/nocap.log" &
	D_PID=$!
	poll 5 grep -q serving "$TESTNET_TMP/nocap.log"
}
check "mpsockd without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN serves" nocap_run
check "it says per-subflow options are unavailable, and why" \
	grep -q "per-subflow socket options unavailable (EOPNOTSUPP to applications): " \
	"$TESTNET_TMP/nocap.log"
nocap_sso()
{
	MPSOCK_CTL_BIN=$PUB/mpsock-ctl
	# shellcheck disable=SC2046
	ctl_start $(unpriv_prefix) || return 1
	ctl echo
	expect "no BPF: a per-subflow option fails with EOPNOTSUPP and the reason" \
		"sso 1 tos 184" "err EOPNOTSUPP*load*"
	ctl_stop
}
nocap_sso || not_ok "no BPF: client connected"
check "mpsock check says the program does not load" \
	eval "[ \"\$(cli_check bpf status)\" = 'does not' ]"
kill "$D_PID"
wait "$D_PID"
finish
