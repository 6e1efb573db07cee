#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The path-manager benchmark: mpsockd as the namespace's path manager
# against the kernel's own (in-kernel) path manager, in one run, on the
# test network (tests/lib/testnet.sh).  Four sections:
#
#   1. connect() to the second subflow established, p50 and p99 over
#      PM_JOIN_CONNS connections each: (a) the in-kernel PM (client
#      path_manager=kernel, "ip mptcp endpoint add 10.0.2.2 dev cell
#      subflow", "ip mptcp limits set subflow 2") and (b) mpsockd with
#      "policy fullmesh" (client path_manager=userspace), in alternating
#      rounds.  Targets: p50 within 1.05x of (a), p99 under 1 ms.
#   2. Unplanned failover of a download (server -> client) with tbf at
#      PM_RATE on the client's wifi and cell and the server's s1 and s2:
#      wifi is taken down in the client namespace mid-transfer.  (a) the
#      in-kernel PM with a backup endpoint ("... dev cell subflow backup")
#      against (b) mpsockd with "policy fullmesh", "mode handover";
#      PM_FAILOVER_REPS repetitions each, alternating; median and max of
#      the longest receive gap and of the stall.  Target: stall < 100 ms.
#      On each client shape of PM_SHAPES (tests/lib/testnet.sh): "policy",
#      source-based policy routing, and "plain", none (each link only its
#      connected route, default through wifi; the server announces its
#      cell-side address, the only one cell reaches).  Also how many
#      repetitions told the server (its MPTcpExtRmAddr grew).
#   3. mpsockd ("policy single", a fresh instance) idle, with
#      PM_HOLD_CONNS live MPTCP connections, after closing them, and after
#      PM_CHURN_CONNS connections opened and closed: VmRSS, and its CPU
#      time (utime + stime) per connection.  Target: back to the idle
#      figure.
#   4. Scale (not run by default: -s 4): PM_SCALE_CONNS connections (-n)
#      under mpsockd with "policy fullmesh", each with its cell subflow;
#      the client's cell address is removed, then added again (with its
#      table 102 routes): the time until every connection has lost its
#      cell subflow, then has one again (all, and each connection's p50 and
#      p99, read by sock_diag dumps every 5 ms), and meanwhile the p50/p99
#      of a status request to mpsockd (MPS_REQ_STATUS, every 2 ms) and of
#      an event's delivery through mpsockd (a claimed probe connection's
#      SUB_CLOSED, from the SUBFLOW_DESTROY that emits it to its read).
#
# Each (b) uses a fresh mpsockd (bench/lib.sh's bench_start_mpsockd with
# MPSOCKD_CONF), first probed with "bench-pm ready" until it reacts to a
# connection's events.  bench/README.md defines every figure.
#
# Usage (as root, after "ninja -C build"):
#   bench/run-pm.sh [-s SECTIONS] [-n N]   e.g. -s 13: sections 1 and 3
#                                          only; -n: PM_SCALE_CONNS
#
# Environment (the counts are printed at the start):
#   PM_JOIN_CONNS       section 1, timed connections per path manager (400)
#   PM_JOIN_ROUNDS      ... split into this many alternating rounds (4)
#   PM_JOIN_WARMUP      ... untimed connections first, per round (10)
#   PM_FAILOVER_REPS    section 2, repetitions per path manager (5)
#   PM_RATE             section 2, tbf rate of every link (50mbit)
#   PM_SHAPES           section 2, client shapes ("policy plain")
#   PM_HOLD_CONNS       section 3, live connections (10000)
#   PM_CHURN_CONNS      section 3, connections opened and closed (100000)
#   PM_CHURN_INFLIGHT   section 3, connections being opened at once (64)
#   PM_SCALE_CONNS      section 4, connections (10000; -n sets it)
#   MPSOCK_BENCH_PM     bench-pm binary (default build/bench/bench-pm)
#   MPSOCKD             mpsockd binary (default build/daemon/mpsockd)
#   MPSOCK_TESTSRV      echo server (default build/tests/tools/mpsock-testsrv)
#   PM_KEEP_LOG         a file to copy every mpsockd's log to, at the end
#
# Exit status: 0 when the run completed (whether or not the targets are
# met: this is a measurement, not a test), 1 when it failed, 77 without
# MPTCP.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${MPSOCK_BENCH_PM:-$ROOT/build/bench/bench-pm}
MPSOCKD=${MPSOCKD:-$ROOT/build/daemon/mpsockd}
export MPSOCK_TESTSRV=${MPSOCK_TESTSRV:-$ROOT/build/tests/tools/mpsock-testsrv}

PM_JOIN_CONNS=${PM_JOIN_CONNS:-400}
PM_JOIN_ROUNDS=${PM_JOIN_ROUNDS:-4}
PM_JOIN_WARMUP=${PM_JOIN_WARMUP:-10}
PM_FAILOVER_REPS=${PM_FAILOVER_REPS:-5}
PM_RATE=${PM_RATE:-50mbit}
PM_SHAPES=${PM_SHAPES:-policy plain}
PM_HOLD_CONNS=${PM_HOLD_CONNS:-10000}
PM_CHURN_CONNS=${PM_CHURN_CONNS:-100000}
PM_CHURN_INFLIGHT=${PM_CHURN_INFLIGHT:-64}
PM_SCALE_CONNS=${PM_SCALE_CONNS:-10000}
SECTIONS=123
STREAM_PORT=5301

usage()
{
	echo "usage: $0 [-s SECTIONS] [-n N]   (SECTIONS: digits of 1, 2, 3, 4;" \
		"default 123; N: section 4's connections)" >&2
	exit 64
}

while getopts "s:n:h" opt; do
	case $opt in
	s) SECTIONS=$OPTARG ;;
	n) PM_SCALE_CONNS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || usage
[[ $SECTIONS =~ ^[1234]+$ ]] || usage
for var in PM_JOIN_CONNS PM_JOIN_ROUNDS PM_JOIN_WARMUP PM_FAILOVER_REPS \
	PM_HOLD_CONNS PM_CHURN_CONNS PM_CHURN_INFLIGHT PM_SCALE_CONNS; do
	if [[ ! ${!var} =~ ^[0-9]+$ ]]; then
		echo "run-pm: $var must be a number, not '${!var}'" >&2
		exit 64
	fi
done
if ((PM_JOIN_ROUNDS < 1 || PM_JOIN_CONNS < PM_JOIN_ROUNDS || PM_FAILOVER_REPS < 1 ||
	PM_CHURN_INFLIGHT < 1)); then
	echo "run-pm: PM_JOIN_CONNS >= PM_JOIN_ROUNDS >= 1, PM_FAILOVER_REPS >= 1," \
		"PM_CHURN_INFLIGHT >= 1" >&2
	exit 64
fi
section() { [[ $SECTIONS == *"$1"* ]]; }

# The echo server (started by the testnet, inheriting this limit) and the
# benchmark hold PM_HOLD_CONNS descriptors each.
NOFILE=$((PM_HOLD_CONNS + PM_CHURN_INFLIGHT + 4096))
((PM_SCALE_CONNS + 4096 > NOFILE)) && NOFILE=$((PM_SCALE_CONNS + 4096))
if (($(ulimit -Hn) < NOFILE)); then
	ulimit -Hn "$NOFILE" || exit 1
fi
if (($(ulimit -Sn) < NOFILE)); then
	ulimit -Sn "$NOFILE" || exit 1
fi

NAME=run-pm
PIN_CMD=()
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_prepare "$BENCH" "$MPSOCKD"

SRV=$TESTNET_SRV_WIFI4
ALL_LOG=$TESTNET_TMP/mpsockd-all.log
: >"$ALL_LOG"
MPSOCKD_DIED=0
MPSOCKD_WHAT=
READY_LOG=()
STREAM_PID=

# mpsockd_stop WHAT: stop the running mpsockd (if any), keep its log
mpsockd_stop()
{
	[[ -n $MPSOCKD_PID ]] || return 0
	if ! kill -0 "$MPSOCKD_PID" 2>/dev/null; then
		echo "run-pm: mpsockd ($MPSOCKD_WHAT) died during the run: $(cat "$LOG")" >&2
		MPSOCKD_DIED=1
	fi
	stop_pid "$MPSOCKD_PID"
	MPSOCKD_PID=
	{
		echo "--- mpsockd ($MPSOCKD_WHAT)"
		cat "$LOG"
	} >>"$ALL_LOG"
}

# use_kernel_pm ENDPOINT_FLAGS: the client namespace on the in-kernel PM,
# with one endpoint, the cell address
use_kernel_pm()
{
	mpsockd_stop
	cli_exec sysctl -q -w net.mptcp.path_manager=kernel || exit 1
	cli_exec ip mptcp endpoint flush || exit 1
	# shellcheck disable=SC2086 # the flags are words
	cli_exec ip mptcp endpoint add "$TESTNET_CLI_CELL4" dev cell $1 || exit 1
	cli_exec ip mptcp limits set subflow 2 || exit 1
}

# use_mpsockd CONFIG: the client namespace on the userspace PM, a fresh
# mpsockd with CONFIG, reacting to the connections' events.  (It says
# "serving" before it watches the events socket: until its first timer,
# about 1 s, events wait.  "bench-pm ready" waits for the first reaction
# to a probe connection, so that no measurement starts before, and prints
# how long that took.)
use_mpsockd()
{
	local out

	mpsockd_stop
	cli_exec ip mptcp endpoint flush || exit 1
	cli_exec sysctl -q -w net.mptcp.path_manager=userspace || exit 1
	MPSOCKD_WHAT=$(echo "$1" | paste -sd ';')
	MPSOCKD_CONF=$1 bench_start_mpsockd
	out=$(cli_exec "$BENCH" ready -D "$MPSOCKD_PID" "$SRV" "$TESTNET_MPTCP_PORT") || {
		echo "run-pm: $out" >&2
		exit 1
	}
	READY_LOG+=("$out")
}

# tbf_all: PM_RATE on the client's wifi and cell, and the server's s1, s2
tbf_one()
{
	local ns=$1 dev=$2
	nsenter --net="/run/netns/$ns" -- tc qdisc replace dev "$dev" root tbf \
		rate "$PM_RATE" burst 32kbit latency 50ms
}

# shape NAME: the client's routing as testnet.sh builds it for
# TESTNET_ROUTING=NAME (policy: source-based rules and tables 101/102;
# plain: none, and the server announces its cell-side address)
shape()
{
	local a

	SHAPE=$1
	srv_exec ip mptcp endpoint flush
	for a in "$TESTNET_CLI_WIFI4" "$TESTNET_CLI_CELL4"; do
		cli_exec ip rule del from "$a" 2>/dev/null
	done
	for a in "$TESTNET_CLI_WIFI6" "$TESTNET_CLI_CELL6"; do
		cli_exec ip -6 rule del from "$a" 2>/dev/null
	done
	if [[ $1 == plain ]]; then
		srv_exec ip mptcp endpoint add "$TESTNET_SRV_CELL4" dev s2 signal || exit 1
		return 0
	fi
	cli_exec ip rule add from "$TESTNET_CLI_WIFI4" table 101 pref 1000 || exit 1
	cli_exec ip rule add from "$TESTNET_CLI_CELL4" table 102 pref 1000 || exit 1
	cli_exec ip -6 rule add from "$TESTNET_CLI_WIFI6" table 101 pref 1000 || exit 1
	cli_exec ip -6 rule add from "$TESTNET_CLI_CELL6" table 102 pref 1000 || exit 1
}

# srv_mib NAME: the server namespace's MPTcpExt counter NAME
srv_mib()
{
	srv_exec cat /proc/net/netstat | awk -v want="$1" '
	$1 == "MPTcpExt:" && !names { for (i = 2; i <= NF; i++) n[i] = $i; names = 1; next }
	$1 == "MPTcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == want) print $i }'
}

# wifi_up: wifi back up, with what the link going down removed (its
# routes, and its IPv6 address), and its tbf
wifi_up()
{
	cli_exec ip link set wifi up || exit 1
	cli_exec ip addr replace fd00:1::2/64 dev wifi nodad || exit 1
	cli_exec ip route replace default via "$TESTNET_SRV_WIFI4" dev wifi || exit 1
	cli_exec ip -6 route replace default via fd00:1::1 dev wifi || exit 1
	if [[ ${SHAPE:-policy} == plain ]]; then
		tbf_one "$TESTNET_CLI_NS" wifi || exit 1
		return 0
	fi
	cli_exec ip route replace 10.0.1.0/24 dev wifi src "$TESTNET_CLI_WIFI4" table 101 || exit 1
	cli_exec ip route replace default via "$TESTNET_SRV_WIFI4" dev wifi table 101 || exit 1
	cli_exec ip -6 route replace fd00:1::/64 dev wifi table 101 || exit 1
	cli_exec ip -6 route replace default via fd00:1::1 dev wifi table 101 || exit 1
	tbf_one "$TESTNET_CLI_NS" wifi || exit 1
}

# pm_finish RC: what every mpsockd said beyond its start lines, whether it
# survived, and the exit status (0: the run completed)
pm_finish()
{
	local rc=$1 other late

	mpsockd_stop
	[[ -n ${PM_KEEP_LOG:-} ]] && cp "$ALL_LOG" "$PM_KEEP_LOG"
	other=$(grep -v -e "^--- mpsockd" -e "serving" -e "path manager: policy" \
		-e "per-subflow socket options" -e "mpsockd: setting " \
		-e "mpsockd: state file" "$ALL_LOG")
	# pairs without a route through their interface (the plain shape,
	# and section 4's address before its routes): one line per pair,
	# then a count
	late=$(grep -c -e "no route through" -e "no route for" <<<"$other")
	if ((late)); then
		echo "run-pm: mpsockd logged $late \"no route ...\" lines (the" \
			"plain shape's cell -> $TESTNET_SRV_WIFI4, not opened; section" \
			"4's address back before its routes)" >&2
		other=$(grep -v -e "no route through" -e "no route for" <<<"$other")
	fi
	# subflows for connections that were gone when mpsockd read their
	# events: the probes of "bench-pm ready", read late (see use_mpsockd)
	late=$(grep -c "open .*invalid token" <<<"$other")
	if ((late)); then
		echo "run-pm: mpsockd logged $late \"open ...: Invalid argument: invalid" \
			"token\" (connections already closed when it read their events)" >&2
		other=$(grep -v "open .*invalid token" <<<"$other")
	fi
	if [[ -n $other ]]; then
		echo "run-pm: mpsockd reported:" >&2
		echo "$other" | head -40 >&2
	fi
	if ((MPSOCKD_DIED)); then
		rc=1
	fi
	if ((rc != 0)); then
		echo "run-pm: the benchmark failed (status $rc)" >&2
		exit 1
	fi
	exit 0
}

echo "# bench-pm: kernel $(uname -r), $(nproc) CPUs; client $TESTNET_CLI_WIFI4 (wifi)" \
	"and $TESTNET_CLI_CELL4 (cell), server $SRV; server PM" \
	"$(srv_exec sysctl -n net.mptcp.path_manager); sections $SECTIONS"
echo "# PM_JOIN_CONNS=$PM_JOIN_CONNS PM_JOIN_ROUNDS=$PM_JOIN_ROUNDS" \
	"PM_JOIN_WARMUP=$PM_JOIN_WARMUP PM_FAILOVER_REPS=$PM_FAILOVER_REPS" \
	"PM_RATE=$PM_RATE PM_HOLD_CONNS=$PM_HOLD_CONNS PM_CHURN_CONNS=$PM_CHURN_CONNS" \
	"PM_CHURN_INFLIGHT=$PM_CHURN_INFLIGHT PM_SCALE_CONNS=$PM_SCALE_CONNS"
rc=0
T_START=$SECONDS

# ------------------------------------------------------------- section 1
if section 1; then
	echo
	echo "== 1. connect() to the second subflow: in-kernel PM (endpoint" \
		"$TESTNET_CLI_CELL4 dev cell subflow) vs mpsockd (policy fullmesh)"
	echo "# $PM_JOIN_ROUNDS rounds of $((PM_JOIN_CONNS / PM_JOIN_ROUNDS)) timed" \
		"connections each (after $PM_JOIN_WARMUP untimed) per PM, alternating;" \
		"to the echo server $SRV:$TESTNET_MPTCP_PORT"
	JOIN_DAT=$TESTNET_TMP/join.dat
	: >"$JOIN_DAT"
	per=$((PM_JOIN_CONNS / PM_JOIN_ROUNDS))
	for ((r = 1; r <= PM_JOIN_ROUNDS && rc == 0; r++)); do
		# the last round takes the remainder
		((r == PM_JOIN_ROUNDS)) && per=$((PM_JOIN_CONNS - per * (PM_JOIN_ROUNDS - 1)))
		use_kernel_pm subflow
		echo -n "# round $r: "
		cli_exec "$BENCH" join -q -n "$per" -w "$PM_JOIN_WARMUP" -l kernel \
			-o "$JOIN_DAT" "$SRV" "$TESTNET_MPTCP_PORT" || rc=1
		((rc == 0)) || break
		use_mpsockd "policy fullmesh"
		echo -n "# round $r: "
		cli_exec "$BENCH" join -q -n "$per" -w "$PM_JOIN_WARMUP" -l mpsockd \
			-o "$JOIN_DAT" "$SRV" "$TESTNET_MPTCP_PORT" || rc=1
	done
	mpsockd_stop
	"$BENCH" report join "$JOIN_DAT" || rc=1
	echo "# section 1: $((SECONDS - T_START)) s"
fi

# ------------------------------------------------------------- section 2
if ((rc == 0)) && section 2; then
	T2=$SECONDS
	echo
	echo "== 2. unplanned failover: in-kernel PM (endpoint $TESTNET_CLI_CELL4 dev" \
		"cell subflow backup) vs mpsockd (policy fullmesh, mode handover)"
	echo "# tbf rate $PM_RATE burst 32kbit latency 50ms on the client's wifi, cell" \
		"and the server's s1, s2; download from $SRV:$STREAM_PORT (bench-pm serve);"
	echo "# wifi taken down (RTM_NEWLINK, as \"ip link set wifi down\") in the" \
		"client namespace 3 s after the second subflow is up"
	echo "# longest gap: the longest time between two read()s that returned data," \
		"from 1 s before the link went down to the end"
	echo "# stall: from the link going down (t_down, just before the request) to" \
		"the first instant t (t_down or a read after it) from which the next" \
		"100 ms receive >= 50% of the rate of the second before t_down"
	echo "# (each repetition ends 1.1 s after the rate is back, or 6 s after t_down)"
	for dev in wifi cell; do
		tbf_one "$TESTNET_CLI_NS" "$dev" || exit 1
	done
	for dev in s1 s2; do
		tbf_one "$TESTNET_SRV_NS" "$dev" || exit 1
	done
	nsenter --net="/run/netns/$TESTNET_SRV_NS" -- "$BENCH" serve -P "$STREAM_PORT" \
		</dev/null >"$TESTNET_TMP/stream-srv.log" 2>&1 &
	STREAM_PID=$!
	EXTRA_PIDS+=("$STREAM_PID")
	for ((i = 0; i < 100; i++)); do
		grep -q "streaming on" "$TESTNET_TMP/stream-srv.log" && break
		if ! kill -0 "$STREAM_PID" 2>/dev/null; then
			echo "run-pm: the streaming server exited: $(cat "$TESTNET_TMP/stream-srv.log")" >&2
			exit 1
		fi
		sleep 0.05
	done
	for sh in $PM_SHAPES; do
		shape "$sh"
		echo
		echo "== 2 ($sh): the client's routing: $([[ $sh == plain ]] &&
			echo "no policy routing, each link its connected route," \
				"default via wifi; the server announces $TESTNET_SRV_CELL4" ||
			echo "source-based policy routing (tables 101, 102)")"
		FAIL_DAT=$TESTNET_TMP/failover-$sh.dat
		: >"$FAIL_DAT"
		told=0
		for ((r = 1; r <= PM_FAILOVER_REPS && rc == 0; r++)); do
			use_kernel_pm "subflow backup"
			echo "# repetition $r, in-kernel PM:"
			cli_exec "$BENCH" failover -l kernel -o "$FAIL_DAT" "$SRV" \
				"$STREAM_PORT" || rc=1
			wifi_up
			((rc == 0)) || break
			use_mpsockd $'policy fullmesh\nmode handover'
			echo "# repetition $r, mpsockd:"
			rm0=$(srv_mib RmAddr)
			cli_exec "$BENCH" failover -l mpsockd -o "$FAIL_DAT" "$SRV" \
				"$STREAM_PORT" || rc=1
			(($(srv_mib RmAddr) > rm0)) && told=$((told + 1))
			wifi_up
		done
		mpsockd_stop
		"$BENCH" report failover "$FAIL_DAT" || rc=1
		echo "server received RM_ADDR (MPTcpExtRmAddr grew) in $told of" \
			"$PM_FAILOVER_REPS mpsockd repetitions ($sh)"
	done
	shape policy
	cli_exec tc qdisc del dev wifi root
	cli_exec tc qdisc del dev cell root
	srv_exec tc qdisc del dev s1 root
	srv_exec tc qdisc del dev s2 root
	stop_pid "$STREAM_PID"
	echo "# section 2: $((SECONDS - T2)) s"
fi

# ------------------------------------------------------------- section 3
if ((rc == 0)) && section 3; then
	T3=$SECONDS
	echo
	echo "== 3. mpsockd (policy single) memory and CPU: $PM_HOLD_CONNS live" \
		"connections, then $PM_CHURN_CONNS opened and closed ($PM_CHURN_INFLIGHT at" \
		"a time); each echoes 1 byte and is closed with a reset"
	use_mpsockd "policy single"
	echo "# mpsockd pid $MPSOCKD_PID, fresh; figures read once it has been idle" \
		"for 300 ms (/proc/PID/schedstat); CPU = utime+stime (/proc/PID/stat)"
	cli_exec "$BENCH" rss -D "$MPSOCKD_PID" -n "$PM_HOLD_CONNS" -N "$PM_CHURN_CONNS" \
		-c "$PM_CHURN_INFLIGHT" "$SRV" "$TESTNET_MPTCP_PORT" || rc=1
	echo "# section 3: $((SECONDS - T3)) s"
fi

# ------------------------------------------------------------- section 4
if ((rc == 0)) && section 4; then
	T4=$SECONDS
	echo
	echo "== 4. scale: $PM_SCALE_CONNS connections under mpsockd (policy" \
		"fullmesh); $TESTNET_CLI_CELL4 removed from cell, then added again" \
		"with its table 102 routes"
	echo "# all_ms: until every connection is settled; conn_p50/p99_ms: each" \
		"connection's, from the change to the dump (every 5 ms) that showed it;" \
		"status_request, event_delivery: during both changes"
	use_mpsockd "policy fullmesh"
	cli_exec "$BENCH" scale -n "$PM_SCALE_CONNS" -a "$TESTNET_CLI_CELL4/24" \
		-d cell -s "$TESTNET_CLI_WIFI4" \
		-r "ip route replace 10.0.2.0/24 dev cell src $TESTNET_CLI_CELL4 table 102 &&
		    ip route replace default via $TESTNET_SRV_CELL4 dev cell table 102" \
		"$SRV" "$TESTNET_MPTCP_PORT" || rc=1
	mpsockd_stop
	echo "# section 4: $((SECONDS - T4)) s"
fi

echo
if ((${#READY_LOG[@]})); then
	echo "# the ${#READY_LOG[@]} fresh mpsockd instances first reacted to a probe" \
		"connection's events after (ms): $(printf '%s\n' "${READY_LOG[@]}" |
			awk '{ print $8 }' | paste -sd ' ')"
fi
echo "# server MPTcpExtMPJoinRejected: $(srv_exec cat /proc/net/netstat | awk '
	$1 == "MPTcpExt:" && !names { for (i = 2; i <= NF; i++) n[i] = $i; names = 1; next }
	$1 == "MPTcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == "MPJoinRejected") print $i }')"
echo "# total: $((SECONDS - T_START)) s"
pm_finish "$rc"
