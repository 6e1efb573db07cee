#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd as the client namespace's path manager (userspace PM): each
# policy (fullmesh, ndiffports, single, interface rules) and mode
# (aggregate, handover, interactive), per-connection modes and claims
# (mpsock_set_mode() before connect, a control call, DEFAULT handing
# back), address add/remove and link down/up, a configuration reloaded by
# SIGHUP (and an invalid one refused), the addresses a server announces
# with its own mpsockd, and failed attempts backing off.  Every outcome is
# read from ss -tiM (client and server), ip mptcp monitor or tcpdump, and
# every stream carries data that the checksum server verifies at the end.
#
# It runs on two shapes of the client (TESTNET_ROUTING, see testnet.sh):
# with source-based policy routing, and without (each link only its
# connected route, the default route through wifi, as laptops and phones
# have it). There, the cell link reaches only the server's cell-side
# address, which the server announces: fullmesh opens wifi -> S1, wifi ->
# S2 and cell -> S2, and never cell -> S1, which routing would send out
# through wifi. Captures on each interface show that every subflow leaves
# through its own address's interface.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_PMCLIENT:=$_TESTNET_ROOT/build/tests/tools/mpsock-pmclient}"
: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"

export TESTNET_CLIENT_PM=userspace
netns_setup
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
T=$TESTNET_TMP
CK=5203 # the checksum server
W4=$TESTNET_CLI_WIFI4 C4=$TESTNET_CLI_CELL4
S1=$TESTNET_SRV_WIFI4 S2=$TESTNET_SRV_CELL4
W6=$TESTNET_CLI_WIFI6 C6=$TESTNET_CLI_CELL6
S1_6=$TESTNET_SRV_WIFI6 S2_6=$TESTNET_SRV_CELL6

# What fullmesh gives a connection to S1, in each shape. mesh A B C: the
# backup flags of wifi -> S1, wifi -> S2 (plain shape only) and the cell
# subflow (to S1 with policy routing, to S2 without).
if [ "$TESTNET_ROUTING" = plain ]; then
	CELL_R=$S2 CELL_R6=$S2_6
	mesh() { lines "$W4 $S1 b=$1" "$W4 $S2 b=$2" "$C4 $S2 b=$3"; }
	smesh() { lines "$W4 $S1 B=$1" "$W4 $S2 B=$2" "$C4 $S2 B=$3"; }
	# the subflows left when cell is gone: mesh without the cell one
	wifi_only() { lines "$W4 $S1 b=$1" "$W4 $S2 b=$2"; }
	mesh6() {
		lines "$W6 $S1_6 b=0" "$W6 $S2_6 b=0" "$C6 $S2_6 b=0"
	}
else
	CELL_R=$S1 CELL_R6=$S1_6
	mesh() { lines "$W4 $S1 b=$1" "$C4 $S1 b=$3"; }
	smesh() { lines "$W4 $S1 B=$1" "$C4 $S1 B=$3"; }
	wifi_only() { lines "$W4 $S1 b=$1"; }
	mesh6() { lines "$W6 $S1_6 b=0" "$C6 $S1_6 b=0"; }
fi
echo "# client routing: $TESTNET_ROUTING"
declare -A CL_PID CL_FD CL_SPORT CL_PORT CL_TOK
BG_PIDS=()

cleanup()
{
	local n p

	for n in "${!CL_PID[@]}"; do
		kill "${CL_PID[$n]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-} ${SD_PID:-} ${CTL_PID:-}; do
		kill "$p" 2>/dev/null
	done
	for n in "${!CL_PID[@]}"; do
		wait "${CL_PID[$n]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-} ${SD_PID:-}; do
		wait "$p" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

. "$NETNS_DIR/pmclient.sh"

# restore_links: the routes (and IPv6 addresses) a link down removed
restore_links()
{
	cli ip -batch - <<-EOF 2>/dev/null
	link set wifi up
	link set cell up
	route replace default via $S1 dev wifi
	EOF
	cli ip -6 -batch - <<-EOF 2>/dev/null
	addr replace $W6/64 dev wifi nodad
	addr replace $C6/64 dev cell nodad
	route replace default via $S1_6 dev wifi
	EOF
	[ "$TESTNET_ROUTING" = plain ] && return 0
	cli ip -batch - <<-EOF 2>/dev/null
	route replace 10.0.1.0/24 dev wifi src $W4 table 101
	route replace default via $S1 dev wifi table 101
	route replace 10.0.2.0/24 dev cell src $C4 table 102
	route replace default via $S2 dev cell table 102
	EOF
	cli ip -6 -batch - <<-EOF 2>/dev/null
	route replace fd00:1::/64 dev wifi table 101
	route replace default via $S1_6 dev wifi table 101
	route replace fd00:2::/64 dev cell table 102
	route replace default via $S2_6 dev cell table 102
	EOF
}

# cap_start NAME IFACE FILTER: tcpdump on one client interface, once it
# writes (the pcap header); cap_lines NAME: what it captured
cap_start()
{
	# nsenter execs tcpdump: $! is tcpdump, not a subshell
	nsenter --net="$CLI_NS" tcpdump -i "$2" -nn -U --immediate-mode \
		-w "$T/$1.pcap" "$3" 2>"$T/$1.err" &
	BG_PIDS+=($!)
	CAP_PID=$!
	poll 10 eval "[ \"\$(stat -c %s '$T/$1.pcap' 2>/dev/null || echo 0)\" -ge 24 ]"
}
cap_lines() { tcpdump -nn -r "$T/$1.pcap" 2>/dev/null; }

# left_through NAME LOCAL PORT: packets from LOCAL:PORT are in capture NAME
left_through()
{
	cap_lines "$1" | grep -q " $2\.$3 > "
}

# the checksum server, stopped by testnet_down (its pid file is in $T)
nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --port $CK --mode checksum --pidfile "$T/ck.pid" \
	</dev/null >"$T/ck.log" 2>&1 &
echo $! >>"$T/pids"
poll 5 test -s "$T/ck.pid" || { echo "Bail out! checksum server"; exit 1; }

FULL=$(mesh 0 0 0)
ONE=$(lines "$W4 $S1 b=0")
WIFI=$(wifi_only 0 0)

# ============================================ fullmesh, aggregate (default)
pm_start "$(printf 'policy fullmesh\nmode aggregate')" ||
	not_ok "mpsockd starts with policy fullmesh"
mon_start full "$CLI_NS"
# from the first SYN on, each interface's packets
cap_start eg-wifi wifi "tcp and port $CK" || not_ok "capture on wifi"
EG_WIFI=$CAP_PID
cap_start eg-cell cell "tcp and port $CK" || not_ok "capture on cell"
EG_CELL=$CAP_PID
cl_start A -r 50000 "$S1" $CK || not_ok "client A connected"
expect_view "fullmesh: subflows from wifi and from cell, none backup" \
	A "$FULL"
check "fullmesh: ip mptcp monitor saw SF_ESTABLISHED $C4 -> $CELL_R, not backup" \
	mon_has full "SF_ESTABLISHED.*token=$(token A).*saddr4=$C4 daddr4=$CELL_R .*backup=0"
expect_view "fullmesh: the server's ss shows the same subflows" \
	A "$(smesh 0 0 0)" 2 sview
# "nothing more happens" is what is tested: the wait is the test
stays "fullmesh: still exactly these a second later (no duplicates)" \
	A "$FULL" 1
if [ "$TESTNET_ROUTING" = plain ]; then
	check "fullmesh without policy routing: $C4 -> $S1 not opened (no route through cell)" \
		grep -q "open $C4:0 -> $S1:$CK: no route through cell" "$T/mpsockd.log"
fi

# every subflow leaves through its own address's interface: its MP_JOIN
# SYN, and everything after it, is on that interface's capture only
egress()
{
	local p l

	kill "$EG_WIFI" "$EG_CELL"
	wait "$EG_WIFI" "$EG_CELL" 2>/dev/null
	for l in $(ss_sf "$CLI_NS" "( dport = :$CK )" | awk -v t="$(token A)" \
		'$1 == t { print $2 }'); do
		p=${l##*:}
		case ${l%:*} in
		"$W4") check "egress: wifi subflow :$p captured on wifi, not on cell" \
			eval "left_through eg-wifi $W4 $p && ! left_through eg-cell $W4 $p" ;;
		"$C4") check "egress: cell subflow :$p captured on cell, not on wifi" \
			eval "left_through eg-cell $C4 $p && ! left_through eg-wifi $C4 $p" ;;
		esac
	done
}
egress

cl_start V6 -r 20000 "$TESTNET_SRV_WIFI6" $CK || not_ok "client V6 connected"
expect_view "fullmesh, IPv6 peer: subflows from the IPv6 addresses only" \
	V6 "$(mesh6)"

# claiming before connect: the policy leaves the connection alone
cl_start M -m manual "$S1" $CK || not_ok "client M connected"
check "mpsock_set_mode(MANUAL) before connect succeeds" \
	grep -qx "mode ok" "$T/M.out"
cl_start R "$S1" $CK || not_ok "client R connected"
expect_view "a connection opened after it gets its two subflows" R "$FULL"
stays "the MANUAL connection keeps its single subflow" M "$ONE" 1
cl_cmd M "mode 0 default"
check "mpsock_set_mode(DEFAULT) hands it back ($REPLY_LINE)" \
	test "$REPLY_LINE" = ok
expect_view "handed back: the policy gives it its cell subflow" M "$FULL"

# a mode of its own: handover for one connection while the rest aggregate
cl_start H -m handover -r 50000 "$S1" $CK || not_ok "client H connected"
expect_view "mpsock_set_mode(HANDOVER) before connect: one active, cell backup" \
	H "$(mesh 0 1 1)"
expect_view "the server's ss shows the cell subflow as the peer's backup" \
	H "$(smesh 0 1 1)" 2 sview

# a control call claims: a subflow it closes does not come back (the
# control client holds a connection to the echo server)
ctl_claim()
{
	local id

	PORT=$TESTNET_MPTCP_PORT
	MPSOCK_CTL_BIN=$MPSOCK_CTL
	CTL_HOST=$S1
	ctl_start nsenter --net="$CLI_NS" -- || return 1
	CL_PORT[C]=$PORT
	CL_SPORT[C]=$(cli ss -tnH state established "( dport = :$PORT )" |
		awk '{ print $(NF-1) }' | sed 's/.*://' | head -n 1)
	cl_token C
	expect "control connection: data flows" echo "ok bytes=5"
	expect_view "control connection: the policy gives it two subflows" \
		C "$FULL"
	ctl list
	id=$(echo "$REPLY_LINE" | awk -v l="local=$C4:" \
		'index($4, l) == 1 { sub(/id=/, "", $2); print $2 }')
	expect "control call: reset its cell subflow (id $id)" "close $id rst" ok
	# "nothing more happens" is what is tested: the wait is the test
	stays "claimed by that call: the policy does not reopen it" C "$WIFI" 1.5
	expect "control call: it opens a cell subflow of its own" \
		"open $C4:0 $S2:0 wait 3000" "ok id=*"
	app_binding
	return 0
}

# An application's subflow from the cell address leaves through cell (it
# is bound to the address's interface); MPSOCK_OPEN_UNBOUND leaves the
# interface to routing, which without policy routing is wifi. The kernel
# sends a bound subflow to an address its interface has no route to as if
# that address were on the link, and this test server answers there.
app_binding()
{
	local id p pu unbound_iface=cell

	[ "$TESTNET_ROUTING" = plain ] && unbound_iface=wifi
	cap_start ab-wifi wifi "tcp and port $PORT" || return 1
	cap_start ab-cell cell "tcp and port $PORT" || return 1
	expect "control call: open $C4 -> $S1, bound to cell" \
		"open $C4:0 $S1:0 wait 3000" "ok id=*"
	id=${REPLY_LINE##*id=}
	p=$(sf_local "$id")
	p=${p##*:}
	expect "control call: open $C4 -> $S1 unbound" \
		"open $C4:0 $S1:0 unbound wait 3000" "ok id=*"
	id=${REPLY_LINE##*id=}
	pu=$(sf_local "$id")
	pu=${pu##*:}
	expect "control call: traffic" echo "ok bytes=5"
	kill "$CAP_PID" "${BG_PIDS[-2]}"
	check "bound: its packets (:$p) left through cell only" \
		eval "left_through ab-cell $C4 $p && ! left_through ab-wifi $C4 $p"
	check "unbound: its packets (:$pu) left through $unbound_iface (routing)" \
		eval "left_through ab-$unbound_iface $C4 $pu"
}
ctl_claim || not_ok "control connection opened"

# without a claim a subflow that dies comes back (after its backoff)
A_CELL=$(ss_sf "$CLI_NS" "( dport = :$CK )" | awk -v t="$(token A)" \
	-v c="$C4:" '$1 == t && index($2, c) == 1 { sub(/.*:/, "", $2); print $2 }')
cli ss -K -t state established src "$C4" "( sport = :$A_CELL )" >/dev/null
check "ss -K reset A's cell subflow (port $A_CELL)" \
	poll 2 eval "[ -n '$A_CELL' ] && ! ports A | grep -qx '$A_CELL'"
expect_view "unclaimed: the policy opens a new cell subflow for A" A "$FULL" 3
check "unclaimed: from another port ($(flat ports A))" \
	eval "! ports A | grep -qx '$A_CELL'"

# an address appears, then goes away
testnet_add_client_addr cell 10.0.2.3/24
expect_view "address added: fullmesh adds a subflow from 10.0.2.3" A \
	"$( (mesh 0 0 0; echo "10.0.2.3 $CELL_R b=0") | sort)"
check "address added: the claimed connection gets nothing ($(flat view C))" \
	eval "! view C | grep -q '^10.0.2.3 '"
mon_start srv-rm "$SRV_NS"
SRV_MON=$MON_PID
A_STOK=$(stoken A)
cli ip addr del 10.0.2.3/24 dev cell
expect_view "address removed: its subflow is gone at once (client ss)" \
	A "$FULL" 2
expect_view "address removed: the server dropped its side too (RM_ADDR)" \
	A "$(smesh 0 0 0)" 2 sview
check "address removed: the server's ip mptcp monitor saw REMOVED for A" \
	mon_has srv-rm "REMOVED.*token=$A_STOK"
kill "$SRV_MON"

# the cell link goes down, and up again
cli ip link set cell down
expect_view "cell down: A's cell subflow is reset at once" A "$WIFI" 2
check "cell down: the server dropped its side at once" \
	poll 2 eval "! sview A | grep -q '^$C4 '"
check "cell down: the claimed connection's cell subflow is left alone" \
	eval "view C | grep -q '^$C4 $S2 '"
restore_links
expect_view "cell up: A gets its cell subflow back" A "$FULL" 5
expect_view "cell up: and so does M (handed back)" M "$FULL" 3
check_verified A
check_verified M
check_verified H
check_verified V6
check_verified R
ctl_stop
kill "$MON_PID" 2>/dev/null

# ============================================================ interfaces
pm_start "$(printf 'policy fullmesh\ninterface cell backup')" ||
	not_ok "mpsockd starts with interface cell backup"
cl_start B -r 20000 "$S1" $CK || not_ok "client B connected"
expect_view "interface cell backup: the cell subflow joins as backup" \
	B "$(mesh 0 0 1)"
check_verified B

pm_start "$(printf 'policy fullmesh\ninterface cell never')" ||
	not_ok "mpsockd starts with interface cell never"
cl_start N "$S1" $CK || not_ok "client N connected"
stays "interface cell never: no subflow from cell" N "$WIFI" 1
check_verified N

# ============================================================ ndiffports
pm_start "policy ndiffports 3" || not_ok "mpsockd starts with ndiffports 3"
cl_start D -r 20000 "$S1" $CK || not_ok "client D connected"
expect_view "ndiffports 3: three subflows, all over the initial pair" D \
	"$(lines "$W4 $S1 b=0" "$W4 $S1 b=0" "$W4 $S1 b=0")"
check "ndiffports 3: from three different ports ($(flat ports D))" \
	test "$(ports D | sort -u | wc -l)" = 3
stays "ndiffports 3: no more later" D \
	"$(lines "$W4 $S1 b=0" "$W4 $S1 b=0" "$W4 $S1 b=0")" 1
check_verified D

# ============================================ single, then SIGHUP reloads
pm_start "policy single" || not_ok "mpsockd starts with policy single"
cl_start S -r 20000 "$S1" $CK || not_ok "client S connected"
stays "single: the initial subflow only" S "$ONE" 1
printf 'policy fullmesh\nmode handover\nbogus-keyword 1\nmax-subflows 99\n' \
	>"$T/mpsockd.conf"
kill -HUP "$D_PID"
check "invalid file on SIGHUP: errors logged as FILE:LINE" \
	poll 2 eval "grep -q '$T/mpsockd.conf:3: ' '$T/mpsockd.log' &&
		grep -q '$T/mpsockd.conf:4: ' '$T/mpsockd.log'"
check "invalid file on SIGHUP: nothing reported as reloaded" \
	eval "! grep -q 'configuration reloaded' '$T/mpsockd.log'"
grep "mpsockd.conf:" "$T/mpsockd.log" | sed 's/^/# /'
cl_start S2 "$S1" $CK || not_ok "client S2 connected"
stays "invalid file: the old policy (single) still rules new connections" \
	S2 "$ONE" 1
check "invalid file: and existing ones ($(flat view S))" \
	test "$(view S)" = "$ONE"
printf 'policy fullmesh\n' >"$T/mpsockd.conf"
kill -HUP "$D_PID"
expect_view "SIGHUP single -> fullmesh: the existing connection gets its cell subflow" \
	S "$FULL"
expect_view "SIGHUP single -> fullmesh: and so does the other one" S2 "$FULL"
check "the log says: configuration reloaded: policy fullmesh" \
	grep -q "configuration reloaded: policy fullmesh" "$T/mpsockd.log"
printf 'policy fullmesh\nmode handover\n' >"$T/mpsockd.conf"
kill -HUP "$D_PID"
expect_view "SIGHUP aggregate -> handover: the existing connection keeps one active" \
	S "$(mesh 0 1 1)"
check_verified S
check_verified S2

# a connection that closes before it is fully established leaves nothing
# behind: the kernel sends its ESTABLISHED after CLOSED (ip mptcp monitor)
early_close()
{
	local tok

	mon_start early "$CLI_NS"
	# an announcement would establish it: the server sends none here
	[ "$TESTNET_ROUTING" = plain ] && srv ip mptcp endpoint flush
	# connected for a second without sending: never fully established
	sleep 1 | cli "$MPSOCK_CTL" "$S1" $CK >/dev/null 2>&1
	if [ "$TESTNET_ROUTING" = plain ]; then
		srv ip mptcp endpoint add "$S2" dev s2 signal
		srv ip mptcp endpoint add "$S2_6" dev s2 signal
	fi
	poll 5 eval "awk '/ CLOSED/ { c = 1 } c && /ESTABLISHED/ { e = 1 }
		END { exit !e }' '$T/early.mon'"
	kill "$MON_PID"
	tok=$(awk '/ CLOSED/ { sub(/token=/, "", $3); print $3; exit }' "$T/early.mon")
	sed 's/^/# /' "$T/early.mon"
	# mpsockd got the same events: whatever it does for them, an attempt
	# and its failure logged, is done once it acted on a later connection
	pm_barrier "$S1" || return 1
	[ -n "$tok" ] && ! grep -q "policy: $tok:" "$T/mpsockd.log"
}
check "a connection closed before any data: no attempt for it after CLOSED" \
	early_close
grep "policy: .*: open" "$T/mpsockd.log" | tail -n 3 | sed 's/^/# /'

# ================================================= handover, link down/up
pm_start "$(printf 'policy fullmesh\nmode handover')" ||
	not_ok "mpsockd starts in handover mode"
mon_start ho-srv "$SRV_NS"
cl_start HO -r 100000 "$S1" $CK || not_ok "client HO connected"
expect_view "handover: wifi carries the data, cell is backup" HO \
	"$(mesh 0 1 1)"
# acked ADDR: the most bytes_acked of a subflow from ADDR to the server
acked()
{
	cli ss -tinH state established src "$1" "( dport = :$CK )" |
		grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | sort -n | tail -n 1
}
# the stream runs on until wifi carried another 100 kB (a second of it):
# a backup that carried data would show it.  No event says the scheduler
# will never pick the backup; the data it had the choice for is counted,
# not the time, which a loaded machine stretches.
HO_W0=$(acked "$W4")
poll 20 eval "[ \$((\$(acked $W4) - ${HO_W0:-0})) -ge 100000 ]" ||
	echo "# wifi did not carry 100 kB more within 20 s ($(acked "$W4") acked, $HO_W0 before)"
HO_ACKED=$(acked "$C4")
check "handover: the backup subflow carried no data (bytes_acked ${HO_ACKED:-?})" \
	test "${HO_ACKED:-999999}" -lt 2000
HO_STOK=$(stoken HO)
cli ip link set wifi down
expect_view "wifi down: cell takes over (backup off), wifi reset" HO \
	"$(lines "$C4 $CELL_R b=0")" 2
expect_view "wifi down: the server saw MP_PRIO and dropped wifi (RM_ADDR)" \
	HO "$(lines "$C4 $CELL_R B=0")" 2 sview
check "wifi down: the server's ip mptcp monitor saw SF_PRIORITY backup=0" \
	mon_has ho-srv "PRIO.*daddr[46]=[:f]*$C4 .*backup=0"
check "wifi down: the server was told (REMOVED, or its wifi subflows closed)" \
	mon_has ho-srv "\(REMOVED\|SF_CLOSED\).*token=$HO_STOK"
restore_links
expect_view "wifi up: wifi subflows come back, as backups" HO \
	"$(mesh 1 1 0)" 5
HO_CELL=$(ss_sf "$CLI_NS" "( dport = :$CK )" | awk -v t="$(token HO)" \
	-v c="$C4:" '$1 == t && index($2, c) == 1 { sub(/.*:/, "", $2); print $2 }')
cli ss -K -t state established src "$C4" "( sport = :$HO_CELL )" >/dev/null
expect_view "handover: the active (cell) subflow reset: wifi takes over, cell back as backup" \
	HO "$(mesh 0 1 1)" 3
check "handover: that cell subflow is a new one ($(flat ports HO))" \
	eval "[ -n '$HO_CELL' ] && ! ports HO | grep -qx '$HO_CELL'"
check_verified HO
kill "$MON_PID"

# ============================================================= interactive
pm_start "$(printf 'policy fullmesh\nmode interactive\ninteractive-interval 300')" ||
	not_ok "mpsockd starts in interactive mode"
cl_start IA -r 400000 "$S1" $CK || not_ok "client IA connected"
# two idle veths are equally fast: no path is 5 ms faster, so the first
# one stays active
expect_view "interactive: every path opened, the first active, the others backup" \
	IA "$(mesh 0 1 1)"
# wifi gets slow: a 1 Mbit/s bottleneck that another bulk transfer keeps
# full, so that every round trip over wifi waits in its queue (not only
# the stream's own packets, which leave wifi once cell takes over)
check "a 1 Mbit/s token bucket on wifi (tc qdisc tbf)" \
	cli tc qdisc add dev wifi root tbf rate 1mbit burst 3000 latency 300ms
nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --tcp --port 5204 --mode sink \
	--pidfile "$T/sink.pid" </dev/null >"$T/sink.log" 2>&1 &
echo $! >>"$T/pids"
poll 5 test -s "$T/sink.pid"
nsenter --net="$CLI_NS" -- bash -c "exec cat /dev/zero >/dev/tcp/$S1/5204" \
	2>/dev/null &
BG_PIDS+=($!)
FLOOD_PID=$!
expect_view "interactive: wifi slowed down, the faster cell becomes active" \
	IA "$(mesh 1 1 0)" 6
stays "interactive: and stays active (one active subflow)" IA \
	"$(mesh 1 1 0)" 1
kill "$FLOOD_PID"
cli tc qdisc del dev wifi root
check_verified IA

# =========================================== a server announcing addresses
# the server's namespace gets the userspace PM and an mpsockd of its own
if srv test -e /proc/sys/net/mptcp/path_manager; then
	srv sysctl -q -w net.mptcp.path_manager=userspace
else
	srv sysctl -q -w net.mptcp.pm_type=1
fi
srv_pm_start()
{
	printf '%s\n' "$1" >"$T/srv-mpsockd.conf"
	nsenter --net="$SRV_NS" -- "$MPSOCKD" -f "$T/srv-mpsockd.conf" --state "$T/srv-mpsockd.state" \
		>/dev/null 2>>"$T/srv-mpsockd.log" &
	SD_PID=$!
	poll 5 grep -q serving "$T/srv-mpsockd.log"
}
srv_pm_start "$(printf 'policy single\nannounce %s' "$S2")" ||
	not_ok "server's mpsockd starts"
pm_start "policy fullmesh" || not_ok "client's mpsockd starts"
mon_start ann "$CLI_NS"
cl_start AN -r 50000 "$S1" $CK || not_ok "client AN connected"
check "client's ip mptcp monitor shows ANNOUNCED $S2" \
	mon_has ann "ANNOUNCED.*token=$(token AN).*daddr4=$S2"
if [ "$TESTNET_ROUTING" = plain ]; then
	# cell reaches only S2
	ALL4=$(mesh 0 0 0)
	SALL4=$(smesh 0 0 0)
else
	ALL4=$(lines "$W4 $S1 b=0" "$W4 $S2 b=0" "$C4 $S1 b=0" "$C4 $S2 b=0")
	SALL4=$(lines "$W4 $S1 B=0" "$W4 $S2 B=0" "$C4 $S1 B=0" "$C4 $S2 B=0")
fi
expect_view "fullmesh with the announced address: every local x remote pair with a route" \
	AN "$ALL4"
expect_view "the server accepted the joins: its ss shows them" AN \
	"$SALL4" 2 sview
stays "and no more (no duplicate pairs)" AN "$ALL4" 1

# max-subflows: at most that many besides the initial one
printf 'policy fullmesh\nmax-subflows 2\n' >"$T/mpsockd.conf"
kill -HUP "$D_PID"
poll 2 eval "[ \$(grep -c 'configuration reloaded' '$T/mpsockd.log') -ge 1 ]"
cl_start MX "$S1" $CK || not_ok "client MX connected"
poll 3 eval "[ \$(view MX | wc -l) -ge 3 ]"
# and none beyond: the events of its subflows (ip mptcp monitor), then
# mpsockd acted on them
poll 10 eval "[ \$(grep SF_ESTABLISHED '$T/ann.mon' |
	grep -c 'token=$(token MX)') -ge 2 ]" ||
	echo "# the monitor did not show MX's two subflows within 10 s"
pm_barrier "$S1" || not_ok "max-subflows 2: mpsockd acted on MX's events (a later connection served)"
check "max-subflows 2: three subflows, distinct pairs ($(flat view MX))" \
	eval "[ \$(view MX | wc -l) = 3 ] && [ \$(view MX | sort -u | wc -l) = 3 ] &&
		view MX | grep -q '^$W4 $S1 '"
check_verified MX
check_verified AN
kill "$MON_PID"

# the server now announces a port nobody listens on: joins are refused
printf 'policy single\nannounce %s port 9\n' "$S2" >"$T/srv-mpsockd.conf"
kill -HUP "$SD_PID"
poll 2 grep -q "configuration reloaded" "$T/srv-mpsockd.log"
start_capture "$CLI_NS" "$T/bo.pcap" \
	"tcp dst port 9 and tcp[tcpflags] & tcp-syn != 0"
BG_PIDS+=("$DUMP_PID")
cl_start BO -r 20000 "$S1" $CK || not_ok "client BO connected"
# without policy routing cell reaches only S2, whose port 9 refuses
if [ "$TESTNET_ROUTING" = plain ]; then
	BO_VIEW=$ONE
else
	BO_VIEW=$(lines "$W4 $S1 b=0" "$C4 $S1 b=0")
fi
expect_view "refused joins: the working subflows are there" BO "$BO_VIEW"
# the back-off's timing over 4.5 s is what is measured: the wait is the test
sleep 4.5
kill "$DUMP_PID"
wait "$DUMP_PID" 2>/dev/null
tcpdump -nn -tt -r "$T/bo.pcap" 2>/dev/null >"$T/bo.txt"
# gaps SRC: the seconds between the SYNs to port 9 from SRC
gaps()
{
	awk -v s=" $1." 'index($0, s) {
		if (n++) printf "%.3f\n", $1 - last
		last = $1 }' "$T/bo.txt"
}
for src in $W4 $C4; do
	n=$(grep -c " $src\.[0-9]* > $S2\.9:" "$T/bo.txt")
	g=$(gaps "$src" | tr '\n' ' ')
	check "refused joins from $src: a few attempts in 4.5 s, no storm ($n)" \
		test "$n" -ge 3 -a "$n" -le 9
	# doubling: each wait 1.5 times the last at least (50 ms of
	# scheduling jitter allowed), the last 4 times the first
	check "refused joins from $src: each wait longer than the last ($g)" \
		eval "gaps $src | awk 'NR == 1 { first = \$1 }
			NR > 1 && \$1 < 1.5 * prev - 0.05 { bad = 1 }
			{ prev = \$1 } END { exit bad || NR < 3 || prev < 4 * first }'"
done
check_verified BO
kill "$SD_PID"
wait "$SD_PID" 2>/dev/null
SD_PID=

pm_stop
if [ "$_tap_failed" -gt 0 ]; then
	echo "# mpsockd's log (client):" >&2
	sed 's/^/#   /' "$T/mpsockd-all.log" >&2
	echo "# mpsockd's log (server):" >&2
	sed 's/^/#   /' "$T/srv-mpsockd.log" >&2
fi
finish
