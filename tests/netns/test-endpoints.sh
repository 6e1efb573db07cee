#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd's "endpoints" policy against the in-kernel path manager: the same
# endpoint table ("ip mptcp endpoint", "ip mptcp limits", as NetworkManager
# configures them) gives the same subflows, address pairs and backup flags
# as ss -tiM shows them, first with the in-kernel path manager and then
# with the namespace moved to the userspace one and mpsockd in charge.
# Client tables: a subflow endpoint with a device, a backup one, a
# fullmesh one joining an announced address, none at all (the announced
# address joined from the first subflow's address, or nothing: the
# default policy, an empty configuration), the subflow limit; changes to
# the table applied to a live connection; and on the server side,
# "signal" endpoints announced.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"

export TESTNET_CLIENT_PM=kernel
netns_setup
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
T=$TESTNET_TMP
CK=5203 # the checksum server
W4=$TESTNET_CLI_WIFI4 C4=$TESTNET_CLI_CELL4
S1=$TESTNET_SRV_WIFI4 S2=$TESTNET_SRV_CELL4
declare -A CL_PID CL_FD CL_SPORT CL_PORT CL_TOK
BG_PIDS=()

cleanup()
{
	local n p

	for n in "${!CL_PID[@]}"; do
		kill "${CL_PID[$n]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-} ${SD_PID:-}; do
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

nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --port $CK --mode checksum \
	--pidfile "$T/ck.pid" </dev/null >"$T/ck.log" 2>&1 &
echo $! >>"$T/pids"
poll 5 test -s "$T/ck.pid" || { echo "Bail out! checksum server"; exit 1; }

# path_manager NSPATH kernel|userspace
path_manager()
{
	nsenter --net="$1" -- sysctl -q -w net.mptcp.path_manager="$2"
}

# table NSPATH SUBFLOWS ACCEPTED [ENDPOINT...]: that namespace's endpoints
# and limits, replacing any earlier ones
table()
{
	local ns=$1 e

	nsenter --net="$ns" -- ip mptcp endpoint flush
	nsenter --net="$ns" -- ip mptcp limits set subflow "$2" \
		add_addr_accepted "$3" || return 1
	shift 3
	for e in "$@"; do
		# shellcheck disable=SC2086 # an endpoint is words
		nsenter --net="$ns" -- ip mptcp endpoint add $e || return 1
	done
}

# settled NAME EXPECTED: the connection's view is EXPECTED (5 s at most)
# and still is half a second later (no subflow comes after).  The half
# second is the quiet period of a negative check: the in-kernel path
# manager reports nothing when it is done with a connection (it opens
# subflows from a worker as the connection, then each new subflow, is
# established: milliseconds apart on these veths, so one beyond EXPECTED
# would come well within the half second), and some tables give a fresh
# connection no subflow that could serve mpsockd as a barrier
# (pm_barrier).
settled()
{
	poll 5 eval "[ \"\$(view $1)\" = \"$2\" ]" || return 1
	sleep 0.5
	[ "$(view "$1")" = "$2" ]
}

# compare WHAT EXPECTED [CONFIG]: one connection under the in-kernel path
# manager, one under mpsockd (CONFIG, default "policy endpoints"), each
# with the table set before; both views must be EXPECTED.  The streams are
# verified by the checksum server.
N=0
compare()
{
	local what=$1 want=$2 conf=${3-policy endpoints} k u

	N=$((N + 1))
	k=K$N u=U$N
	path_manager "$CLI_NS" kernel
	cl_start "$k" -r 20000 "$S1" $CK || not_ok "$what: kernel client connected"
	check "$what: the in-kernel path manager gives $(echo $want | tr '\n' ' ')" \
		settled "$k" "$want"
	KVIEW=$(view "$k")
	check_verified "$k"
	path_manager "$CLI_NS" userspace
	pm_start "$conf" || not_ok "$what: mpsockd starts with '$conf'"
	cl_start "$u" -r 20000 "$S1" $CK || not_ok "$what: mpsockd client connected"
	check "$what: mpsockd gives the same" settled "$u" "$want"
	same "$what: ss -tiM, in-kernel vs mpsockd" "$KVIEW" "$(view "$u")"
	check_verified "$u"
	pm_stop
}

# ------------------------------------------------------------ client side
table "$CLI_NS" 2 8 "$C4 dev cell subflow"
compare "a subflow endpoint on cell" "$(lines "$W4 $S1 b=0" "$C4 $S1 b=0")"

table "$CLI_NS" 2 8 "$C4 dev cell subflow backup"
compare "a backup subflow endpoint" "$(lines "$W4 $S1 b=0" "$C4 $S1 b=1")"

# the server announces its cell-side address
table "$SRV_NS" 8 8 "$S2 dev s2 signal"
table "$CLI_NS" 4 4 "$C4 dev cell subflow fullmesh"
compare "a fullmesh endpoint, the server announcing $S2" \
	"$(lines "$W4 $S1 b=0" "$C4 $S1 b=0" "$C4 $S2 b=0")"

# from the source routing picks: the one of $S2's connected route, cell
table "$CLI_NS" 2 2
compare "no endpoint, the server announcing $S2: joined from the routed source" \
	"$(lines "$W4 $S1 b=0" "$C4 $S2 b=0")"

table "$CLI_NS" 2 0
compare "no endpoint, announcements not accepted" "$(lines "$W4 $S1 b=0")"
table "$SRV_NS" 8 8

# an empty configuration file is the built-in defaults: policy endpoints
table "$CLI_NS" 2 8 "$C4 dev cell subflow"
compare "the default policy (an empty configuration)" \
	"$(lines "$W4 $S1 b=0" "$C4 $S1 b=0")" ""
table "$CLI_NS" 2 8
compare "the default policy, no endpoint" "$(lines "$W4 $S1 b=0")" ""

# the limit: two endpoints, one extra subflow
testnet_add_client_addr wifi 10.0.1.3/24
table "$CLI_NS" 1 8 "$C4 dev cell subflow" "10.0.1.3 dev wifi subflow"
compare "two endpoints, limit subflow 1: the first one only" \
	"$(lines "$W4 $S1 b=0" "$C4 $S1 b=0")"
table "$CLI_NS" 2 8 "$C4 dev cell subflow" "10.0.1.3 dev wifi subflow"
compare "two endpoints, limit subflow 2" \
	"$(lines "$W4 $S1 b=0" "10.0.1.3 $S1 b=0" "$C4 $S1 b=0")"

# ---------------------------------------------- a table that changes live
# endpoint added, then removed, while the connection runs
live()
{
	local name=$1 who=$2

	table "$CLI_NS" 2 8
	cl_start "$name" -r 20000 "$S1" $CK || return 1
	check "$who: a connection without endpoints: its first subflow" \
		settled "$name" "$(lines "$W4 $S1 b=0")"
	cli ip mptcp endpoint add "$C4" dev cell subflow
	# mpsockd reads the table every 2 s
	expect_view "$who: an endpoint added: the live connection gets its subflow" \
		"$name" "$(lines "$W4 $S1 b=0" "$C4 $S1 b=0")" 5
	cli ip mptcp endpoint flush
	expect_view "$who: the endpoint removed: its subflow goes" \
		"$name" "$(lines "$W4 $S1 b=0")" 5
	check_verified "$name"
}
path_manager "$CLI_NS" kernel
live LK "in-kernel path manager" || not_ok "in-kernel: live client connected"
path_manager "$CLI_NS" userspace
pm_start "policy endpoints" || not_ok "mpsockd starts"
live LU mpsockd || not_ok "mpsockd: live client connected"
pm_stop

# ------------------------------------------------------------ server side
# the client (in-kernel, no endpoint) joins what the server announces; the
# server's "signal" endpoint, announced by its in-kernel path manager, then
# by its mpsockd under the userspace one
path_manager "$CLI_NS" kernel
table "$CLI_NS" 2 2
table "$SRV_NS" 8 8 "$S2 dev s2 signal"
cl_start SK -r 20000 "$S1" $CK || not_ok "server in-kernel: client connected"
check "server in-kernel PM: the client joins the announced $S2" \
	settled SK "$(lines "$W4 $S1 b=0" "$C4 $S2 b=0")"
SKVIEW=$(view SK)
check_verified SK
path_manager "$SRV_NS" userspace
printf 'policy endpoints\n' >"$T/srv-mpsockd.conf"
nsenter --net="$SRV_NS" -- "$MPSOCKD" -f "$T/srv-mpsockd.conf" \
	--state "$T/srv-mpsockd.state" >/dev/null 2>>"$T/srv-mpsockd.log" &
SD_PID=$!
check "the server's mpsockd starts" poll 10 grep -q serving "$T/srv-mpsockd.log"
cl_start SU -r 20000 "$S1" $CK || not_ok "server mpsockd: client connected"
check "server mpsockd (endpoints): the client joins the announced $S2" \
	settled SU "$(lines "$W4 $S1 b=0" "$C4 $S2 b=0")"
same "server side: ss -tiM, in-kernel vs mpsockd" "$SKVIEW" "$(view SU)"
check_verified SU
kill "$SD_PID"
wait "$SD_PID" 2>/dev/null
SD_PID=
path_manager "$SRV_NS" kernel

if [ "$_tap_failed" -gt 0 ]; then
	echo "# mpsockd's log (client):" >&2
	sed 's/^/#   /' "$T/mpsockd-all.log" >&2
	echo "# mpsockd's log (server):" >&2
	sed 's/^/#   /' "$T/srv-mpsockd.log" >&2
fi
finish
