#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd killed (-9) under load and started again: 100 MPTCP connections
# stream data through the checksum server the whole time.  While it is
# down, a control call fails fast with EPERM, mpsock_set_mode() with
# EOPNOTSUPP, and some subflows are reset behind its back; after the
# restart it finds every connection again (sock_diag) and its claims and
# modes (the state file), and opens only what is missing: per connection
# the (local address, remote address) pairs in ss -tiM are unique and as
# many as the policy wants, ip mptcp monitor shows no subflow beyond
# those, the claimed connection is left alone, the same client's control
# call works again, and every byte of every stream is verified.  It runs
# with and without source-based policy routing on the client
# (TESTNET_ROUTING): without, the cell link reaches only the server's
# announced cell address, so each connection has wifi -> S1, wifi -> S2 and
# cell -> S2 instead of wifi -> S1 and cell -> S1.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_PMCLIENT:=$_TESTNET_ROOT/build/tests/tools/mpsock-pmclient}"
: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"

export TESTNET_CLIENT_PM=userspace
netns_setup
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
T=$TESTNET_TMP
CK=5203 # the checksum server
NCONN=100
W4=$TESTNET_CLI_WIFI4 C4=$TESTNET_CLI_CELL4 S1=$TESTNET_SRV_WIFI4
S2=$TESTNET_SRV_CELL4
# the policy's subflows of a connection to S1, as sorted address pairs, and
# how many a connection without any gets; mesh A B C: backup flags
if [ "$TESTNET_ROUTING" = plain ]; then
	WANT="$W4>$S1,$W4>$S2,$C4>$S2" WIFI_ONLY="$W4>$S1,$W4>$S2"
	# S2 is known only from the server's announcement, which a connection
	# made while mpsockd was down got unheard: the kernel lists no peer
	# addresses, so mpsockd cannot learn them after a restart
	MISSING=0
	mesh() { lines "$W4 $S1 b=$1" "$W4 $S2 b=$2" "$C4 $S2 b=$3"; }
else
	WANT="$W4>$S1,$C4>$S1" WIFI_ONLY="$W4>$S1"
	MISSING=1
	mesh() { lines "$W4 $S1 b=$1" "$C4 $S1 b=$3"; }
fi
declare -A CL_PID CL_FD CL_SPORT CL_TOK
BG_PIDS=()

cleanup()
{
	local n p

	for n in "${!CL_PID[@]}"; do
		kill "${CL_PID[$n]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-}; do
		kill "$p" 2>/dev/null
	done
	[ -n "${CTL_PID:-}" ] && kill "$CTL_PID" 2>/dev/null
	for n in "${!CL_PID[@]}"; do
		wait "${CL_PID[$n]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-}; do
		wait "$p" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

cli() { nsenter --net="$CLI_NS" -- "$@"; }



# cl_start NAME ARGS...: mpsock-pmclient ARGS (ending HOST PORT) in the
# client namespace, commands through a fifo
cl_start()
{
	local name=$1 fd

	shift
	mkfifo "$T/$name.in"
	nsenter --net="$CLI_NS" -- "$MPSOCK_PMCLIENT" "$@" <"$T/$name.in" \
		>"$T/$name.out" 2>&1 &
	CL_PID[$name]=$!
	exec {fd}>"$T/$name.in"
	CL_FD[$name]=$fd
	if ! poll 20 grep -q '^ready' "$T/$name.out"; then
		echo "# client $name did not connect:" >&2
		sed 's/^/# /' "$T/$name.out" >&2
		return 1
	fi
	CL_SPORT[$name]=$(awk '$1 == "conn" && $2 == 0 {
		sub(/sport=/, "", $3); print $3 }' "$T/$name.out")
	poll 5 eval "CL_TOK[$name]=\$(tok_of ${CL_SPORT[$name]}); [ -n \"\${CL_TOK[$name]}\" ]"
}

cl_cmd()
{
	local n

	n=$(wc -l <"$T/$1.out")
	echo "$2" >&"${CL_FD[$1]}"
	poll 10 eval "[ \$(wc -l <'$T/$1.out') -gt $n ]"
	REPLY_LINE=$(tail -n 1 "$T/$1.out")
}

cl_stop()
{
	local rc fd=${CL_FD[$1]}

	echo stop >&"$fd"
	exec {fd}>&-
	wait "${CL_PID[$1]}"
	rc=$?
	unset "CL_PID[$1]"
	VERIFIED=$(grep '^verified' "$T/$1.out")
	return $rc
}

# ss_sf PORT: "TOKEN LOCAL REMOTE b=.. B=.." for each client subflow to PORT
ss_sf()
{
	cli ss -tinMH state established "( dport = :$1 )" | awk '
	/^[^ \t]/ { l = $(NF-1); r = $NF; gsub(/%[^:\]]*/, "", l); next }
	/tcp-ulp-mptcp/ {
		fl = ""; tok = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^flags:/) fl = substr($i, 7)
			if ($i ~ /^token:/) {
				t = $i
				gsub(/[()\/]/, " ", t)
				split(t, p, " ")
				# ss omits leading zeros, ip mptcp monitor not
				tok = sprintf("%8s", p[3])
				gsub(/ /, "0", tok)
			}
		}
		printf "%s %s %s b=%d B=%d\n", tok, l, r,
			(index(fl, "b") > 0), (index(fl, "B") > 0)
	}'
}

# tok_of SPORT: the token of the connection with a subflow from SPORT
tok_of()
{
	ss_sf $CK | awk -v sp="$1" '
	{ n = split($2, a, ":"); if (a[n] == sp) { print $1; exit } }'
}

# view NAME: "LOCALADDR REMOTEADDR b=.." of each subflow of NAME's connection
view()
{
	ss_sf $CK | awk -v t="${CL_TOK[$1]}" '$1 == t { l = $2; r = $3
		sub(/:[0-9]+$/, "", l); sub(/:[0-9]+$/, "", r)
		print l, r, $4 }' | sort
}

expect_view()
{
	poll "${4:-5}" eval "[ \"\$(view $2)\" = \"$3\" ]"
	same "$1" "$3" "$(view "$2")"
}

# load_report: for each of the load's connections (their tokens in
# $T/L.toks), its subflows' address pairs; prints "conns=N good=M" and a
# line for each connection that does not have exactly the pairs of $WANT
load_report()
{
	ss_sf $CK | awk -v want="$WANT" -v toks="$T/L.toks" '
	BEGIN { while ((getline t <toks) > 0) mine[t] = 1 }
	$1 in mine { l = $2; r = $3
		sub(/:[0-9]+$/, "", l); sub(/:[0-9]+$/, "", r)
		p[$1] = p[$1] " " l ">" r }
	END {
		for (t in mine) {
			if (!(t in p)) { print "missing", t; continue }
			n = split(substr(p[t], 2), a, " ")
			# sort the pairs (few: insertion sort)
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j] < a[j-1]; j--) {
					x = a[j]; a[j] = a[j-1]; a[j-1] = x
				}
			s = a[1]
			for (i = 2; i <= n; i++) s = s "," a[i]
			conns++
			if (s == want) good++
			else print "bad", t, s
		}
		printf "conns=%d good=%d\n", conns, good
	}'
}

load_ok()
{
	load_report >"$T/report"
	[ "$(tail -n 1 "$T/report")" = "conns=$NCONN good=$NCONN" ]
}

report_check()
{
	poll "$2" load_ok
	check "$1 ($(tail -n 1 "$T/report"))" load_ok
	head -n 5 "$T/report" | grep -v '^conns=' | sed 's/^/# /'
}

# ------------------------------------------------------------------- setup

nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --port $CK --mode checksum \
	--pidfile "$T/ck.pid" </dev/null >"$T/ck.log" 2>&1 &
echo $! >>"$T/pids"
poll 5 test -s "$T/ck.pid" || { echo "Bail out! checksum server"; exit 1; }

start_mpsockd "policy fullmesh"
grep -q serving "$T/mpsockd.log" || { echo "Bail out! mpsockd"; exit 1; }
FULL2=$(mesh 0 0 0)
# what a connection made while mpsockd is down gets after its restart
if [ "$TESTNET_ROUTING" = plain ]; then
	LATE=$(lines "$W4 $S1 b=0")
else
	LATE=$FULL2
fi

# an unprivileged client: its control calls go through mpsockd
PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_CTL" "$PUB/mpsock-ctl"
MPSOCK_CTL_BIN=$PUB/mpsock-ctl
PORT=$TESTNET_MPTCP_PORT
CTL_HOST=$S1
# shellcheck disable=SC2046
ctl_start $(unpriv_prefix) || not_ok "unprivileged control client connected"
expect "unprivileged client: data flows" echo "ok bytes=5"

# a claimed connection and one in handover mode, chosen before connect
cl_start K -m manual -r 10000 "$S1" $CK || not_ok "client K connected"
check "K: mpsock_set_mode(MANUAL) before connect" grep -qx "mode ok" "$T/K.out"
cl_start HM -m handover -r 10000 "$S1" $CK || not_ok "client HM connected"
HO2=$(mesh 0 1 1)
expect_view "HM: handover, the cell subflow backup" HM "$HO2"

# the load
cl_start L -n $NCONN -r 50000 "$S1" $CK || not_ok "$NCONN connections opened"
awk '$1 == "conn" { sub(/sport=/, "", $3); print $3 }' "$T/L.out" |
	sort >"$T/L.ports"
ss_sf $CK | awk -v ports="$T/L.ports" '
	BEGIN { while ((getline p <ports) > 0) mine[p] = 1 }
	{ n = split($2, a, ":"); if (a[n] in mine) print $1 }' | sort -u >"$T/L.toks"
check "the load: $NCONN connections in ss ($(wc -l <"$T/L.toks"))" \
	test "$(wc -l <"$T/L.toks")" = $NCONN
report_check "before: every connection has the policy's subflows" 10
stays_k()
{
	sleep "$1"
	[ "$(view K)" = "$W4 $S1 b=0" ]
}
check "K (claimed): its single subflow only ($(flat view K))" stays_k 0

# ---------------------------------------------------------- kill -9 under load
cl_cmd L stats
SENT_BEFORE=$REPLY_LINE
kill -KILL "$D_PID"
wait "$D_PID" 2>/dev/null
D_PID=
cat "$T/mpsockd.log" >>"$T/mpsockd-all.log"
: >"$T/mpsockd.log"

t0=$(date +%s%N)
ctl "open $C4:0 $S1:0"
t1=$(date +%s%N)
check "mpsockd down: a control call fails with EPERM ($REPLY_LINE)" \
	eval "[[ '$REPLY_LINE' == 'err EPERM'* ]]"
check "mpsockd down: and fails fast ($(((t1 - t0) / 1000000)) ms)" \
	test $(((t1 - t0) / 1000000)) -lt 1000
cl_start Z -m manual "$S1" $CK || not_ok "client Z connected"
check "mpsockd down: mpsock_set_mode fails with EOPNOTSUPP ($(grep '^mode' "$T/Z.out"))" \
	grep -q "^mode err EOPNOTSUPP" "$T/Z.out"
# a connection made while mpsockd is down: nobody opens its subflows yet
cl_start N -r 10000 "$S1" $CK || not_ok "client N connected"

# subflows reset behind mpsockd's back: the cell subflows of 10 connections
head -n 10 "$T/L.toks" >"$T/killed.toks"
KILL_PORTS=$(ss_sf $CK | awk -v toks="$T/killed.toks" -v c="$C4:" '
	BEGIN { while ((getline t <toks) > 0) k[t] = 1 }
	$1 in k && index($2, c) == 1 { sub(/.*:/, "", $2); print $2 }')
FILTER=$(for p in $KILL_PORTS; do printf 'sport = :%s or ' "$p"; done)
cli ss -K -t state established src "$C4" "( ${FILTER% or } )" >/dev/null
load_report >"$T/report"
check "10 cell subflows reset with ss -K ($(grep -c '^bad' "$T/report") connections short)" \
	test "$(grep -c "^bad .* $WIFI_ONLY\$" "$T/report")" = 10
# nobody may open anything while mpsockd is down: the wait is the test.
# A negative check without a barrier: no path manager runs to say it
# handled N (userspace PM, mpsockd gone).  A second is far more than what
# any of them would take to open a subflow on N's ESTABLISHED (which came
# before its "ready"), mpsockd well within it.
sleep 1
check "mpsockd down: N still has only its initial subflow" \
	test "$(view N)" = "$W4 $S1 b=0"

# ------------------------------------------------------------------ restart
cl_cmd L stats
SENT_RESTART=${REPLY_LINE##*min=}
start_ipmon "$CLI_NS" "$T/restart.mon"
BG_PIDS+=("$IPMON_PID")
MON_PID=$IPMON_PID
start_mpsockd "policy fullmesh"
check "mpsockd restarted" grep -q serving "$T/mpsockd.log"
sed 's/^/# /' "$T/mpsockd.log"

report_check "after: every connection has the policy's subflows again" 5
expect_view "after: N, made while it was down, gets the subflows it can" N "$LATE"
# and no more: what mpsockd opens comes from what it found and from the
# events since, the SF_ESTABLISHED of its own subflows last; once those
# are out (ip mptcp monitor) and it acted on a later connection, it has
# decided on all of them (a failed open retried later is no duplicate:
# it left no pair)
poll 10 eval "[ \$(grep -c SF_ESTABLISHED '$T/restart.mon') -ge $((10 + 2 * MISSING)) ]" ||
	echo "# the monitor showed $(grep -c SF_ESTABLISHED "$T/restart.mon") subflows opened after 10 s"
pm_barrier "$S1" ||
	not_ok "after: mpsockd acted on the events since the restart (a later connection served)"
report_check "after: then still exactly those (no duplicate pairs)" 0
kill "$MON_PID"
wait "$MON_PID" 2>/dev/null
# the barrier's connection aside
NEW_SF=$(grep SF_ESTABLISHED "$T/restart.mon" |
	grep -vc "token=${PM_BARRIER_TOK:-none}")
check "ip mptcp monitor: $((10 + 2 * MISSING)) subflows opened after the restart (10 reset, N's and Z's), no more ($NEW_SF)" \
	test "$NEW_SF" = $((10 + 2 * MISSING))
check "after: K stays claimed, one subflow ($(flat view K))" \
	test "$(view K)" = "$W4 $S1 b=0"
check "after: HM keeps its handover mode ($(flat view HM))" \
	test "$(view HM)" = "$HO2"
check "after: Z (no mode: mpsockd was down) gets the policy's subflows" \
	poll 3 eval "[ \"\$(view Z)\" = \"$LATE\" ]"

expect "after: the same client's control call works again" \
	"open $C4:0 $TESTNET_SRV_CELL4:0 wait 3000" "ok id=*"
ctl_stop

# the streams go on, then every byte is checked
moved_on()
{
	cl_cmd L stats
	[ "${REPLY_LINE##*min=}" -gt "${SENT_RESTART:-0}" ]
}
check "every stream of the load sent more since the restart" poll 10 moved_on
for n in K HM N Z; do
	cl_stop "$n"
	check "$n: every byte verified ($VERIFIED)" test $? = 0
done
cl_stop L
rc=$?
check "the load: every byte of the $NCONN streams verified ($VERIFIED)" \
	test "$rc" = 0
grep -v '^conn .* ok' "$T/L.out" | grep -v '^conn .* sport=' | head -n 5 |
	sed 's/^/# /'
MIN_FINAL=${VERIFIED##*min=}
check "each stream carried data across the restart (before: $SENT_BEFORE, min at restart $SENT_RESTART, min at the end $MIN_FINAL)" \
	test "${MIN_FINAL:-0}" -gt "${SENT_RESTART:-0}"

kill "$D_PID"
wait "$D_PID" 2>/dev/null
D_PID=
if [ "$_tap_failed" -gt 0 ]; then
	echo "# mpsockd's log:" >&2
	cat "$T/mpsockd-all.log" "$T/mpsockd.log" | sed 's/^/#   /' >&2
fi
finish
