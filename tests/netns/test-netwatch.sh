#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd's view of links and addresses survives lost rtnetlink news: its
# group socket gets a tiny receive buffer (MPSOCKD_NETWATCH_RCVBUF) and
# overruns while a down interface's hundreds of addresses churn, with
# mpsockd stopped (SIGSTOP) so that the overrun is certain; the dumps that
# resync it are long and race the churn (NLM_F_DUMP_INTR), and the first
# two of them fail on purpose (MPSOCKD_TEST_FAIL_DUMPS) so that the failure
# path runs every time.  Through all of it the wifi and cell addresses stay,
# and so must the connections' subflows: the same local ports in the
# client's ss -tiM, no REMOVED or SF_CLOSED in the server's ip mptcp
# monitor, every byte verified by the checksum server.  An address added
# while the news was lost gets its subflow once a resync goes through.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_PMCLIENT:=$_TESTNET_ROOT/build/tests/tools/mpsock-pmclient}"
: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"

export TESTNET_CLIENT_PM=userspace
netns_setup
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
T=$TESTNET_TMP
LOG=$T/mpsockd.log
CK=5203 # the checksum server
W4=$TESTNET_CLI_WIFI4 C4=$TESTNET_CLI_CELL4 S1=$TESTNET_SRV_WIFI4
W6=$TESTNET_CLI_WIFI6 C6=$TESTNET_CLI_CELL6 S6=$TESTNET_SRV_WIFI6
C4B=10.0.2.3 # added while mpsockd hears nothing
NSTATIC=600  # addresses that stay on the down link: every dump is long
NCHURN=300   # added and deleted again, over and over
declare -A CL_PID CL_FD CL_SPORT
BG_PIDS=()

cleanup()
{
	local n p

	[ -n "${CHURN_PID:-}" ] && touch "$T/churn.stop"
	for n in "${!CL_PID[@]}"; do
		kill "${CL_PID[$n]}" 2>/dev/null
	done
	# a stopped mpsockd would keep SIGTERM pending
	[ -n "${D_PID:-}" ] && kill -CONT "$D_PID" 2>/dev/null
	for p in "${BG_PIDS[@]}" ${D_PID:-}; do
		kill "$p" 2>/dev/null
	done
	for p in "${!CL_PID[@]}"; do
		wait "${CL_PID[$p]}" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" ${D_PID:-} ${CHURN_PID:-}; do
		wait "$p" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

cli() { nsenter --net="$CLI_NS" -- "$@"; }

# ------------------------------------------------ clients (mpsock-pmclient)

# cl_start NAME ARGS...: a client in the client namespace against the
# checksum server (ARGS end with HOST PORT), commands through a fifo
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
	if ! poll 10 grep -q '^ready' "$T/$name.out"; then
		echo "# client $name did not connect:" >&2
		sed 's/^/# /' "$T/$name.out" >&2
		return 1
	fi
	CL_SPORT[$name]=$(awk '$1 == "conn" && $2 == 0 {
		sub(/sport=/, "", $3); print $3 }' "$T/$name.out")
}

# check_verified NAME: stop client NAME, every byte arrived
check_verified()
{
	local rc fd=${CL_FD[$1]}

	echo stop >&"$fd"
	exec {fd}>&-
	wait "${CL_PID[$1]}"
	rc=$?
	unset "CL_PID[$1]"
	check "$1: every byte the server received is verified ($(grep '^verified' "$T/$1.out"))" \
		test "$rc" = 0
	[ "$rc" = 0 ] || grep -v '^conn .* ok' "$T/$1.out" | sed 's/^/# /'
}

# ------------------------------------------------------- what ss -tiM shows

# ss_sf NS FILTER: "TOKEN LOCAL:PORT REMOTE:PORT" for every MPTCP subflow
ss_sf()
{
	nsenter --net="$1" -- ss -tinMH state established "$2" | awk '
	/^[^ \t]/ { l = $(NF-1); r = $NF; gsub(/%[^:\]]*/, "", l); next }
	/tcp-ulp-mptcp/ {
		tok = ""
		for (i = 1; i <= NF; i++)
			if ($i ~ /^token:/) {
				t = $i
				gsub(/[()\/]/, " ", t)
				split(t, p, " ")
				# ss omits leading zeros, ip mptcp monitor not
				tok = sprintf("%8s", p[3])
				gsub(/ /, "0", tok)
			}
		gsub(/[][]/, "", l); gsub(/[][]/, "", r)
		print tok, l, r
	}'
}

# subflows NAME: client NAME's subflows, "LOCALADDR:PORT REMOTEADDR", sorted
# (its connection: the one that has a subflow from its first local port)
subflows()
{
	ss_sf "$CLI_NS" "( dport = :$CK )" | awk -v sp="${CL_SPORT[$1]}" '
	{ n = split($2, a, ":"); if (a[n] == sp) tok = $1; line[NR] = $0 }
	END { for (i = 1; i <= NR; i++) { split(line[i], f, " ")
		if (f[1] != tok) continue
		sub(/:[0-9]+$/, "", f[3]); print f[2], f[3] } }' | sort
}

# addrs NAME: the same without the local ports
addrs() { subflows "$1" | sed 's/:[0-9]* / /' | sort; }

# stoken NAME: the server's token of NAME's connection (by the client's
# local ports)
stoken()
{
	local ps

	ps=" $(subflows "$1" | awk '{ n = split($1, a, ":"); print a[n] }' |
		tr '\n' ' ')"
	ss_sf "$SRV_NS" "( sport = :$CK )" | awk -v ps="$ps" '
	{ n = split($3, a, ":"); if (index(ps, " " a[n] " ")) { print $1; exit } }'
}

# expect_addrs TEST NAME EXPECTED: wait (5 s) for NAME's subflows to be
# EXPECTED ("LOCALADDR REMOTEADDR" lines), then compare
expect_addrs()
{
	poll 5 eval "[ \"\$(addrs $2)\" = \"$3\" ]"
	same "$1" "$3" "$(addrs "$2")"
}

# ---------------------------------------------------------------- witnesses

# mon_start NAME NS: ip mptcp monitor in NS, once it has joined the
# kernel's event group (its generic netlink socket lists a group)
mon_start()
{
	nsenter --net="$2" ip mptcp monitor >"$T/$1.mon" &
	BG_PIDS+=($!)
	MON_PID=$!
	poll 5 eval "nsenter --net='$2' awk '\$2 == 16 && \$3 == $MON_PID &&
		\$4 != \"00000000\" { f = 1 } END { exit !f }' /proc/net/netlink"
}

# mon_has NAME PATTERN: monitor NAME printed a line matching PATTERN
# (waiting up to 2 s); if not, show what it printed
mon_has()
{
	poll 2 grep -q -- "$2" "$T/$1.mon" && return 0
	sed "s/^/# $1: /" "$T/$1.mon"
	return 1
}

# stopped: mpsockd is stopped (SIGSTOP took effect)
stopped()
{
	local st

	st=$(cat "/proc/$D_PID/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" = T ]
}

# ------------------------------------------------------------ the network

# a link that stays down (a veth pair: the kernel may lack the dummy
# driver): its addresses are in every dump and every group message, yet
# no policy would ever use them
cli ip link add churn type veth peer name churn-peer
for ((i = 0; i < NSTATIC; i++)); do
	echo "addr add 10.99.$((i / 250)).$((i % 250 + 1))/32 dev churn"
done >"$T/static.batch"
for ((i = 0; i < NCHURN; i++)); do
	echo "addr add 10.98.$((i / 250)).$((i % 250 + 1))/32 dev churn"
done >"$T/churn-add.batch"
sed 's/^addr add/addr del/' "$T/churn-add.batch" >"$T/churn-del.batch"
check "a down interface with $NSTATIC addresses" \
	cli ip -batch "$T/static.batch"

# churn_round: every churn address added, then deleted
churn_round()
{
	cli ip -batch "$T/churn-add.batch" && cli ip -batch "$T/churn-del.batch"
}

# churn_until PATTERN MAX: rounds until mpsockd's log matches PATTERN (at
# most MAX rounds, or until $T/churn.stop exists)
churn_until()
{
	local i

	for ((i = 0; i < $2; i++)); do
		[ -e "$T/churn.stop" ] && break
		grep -q -- "$1" "$LOG" && break
		churn_round
	done
	echo "$i" >"$T/churn.rounds"
}

# the checksum server, stopped by testnet_down (its pid file is in $T)
nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --port $CK --mode checksum \
	--pidfile "$T/ck.pid" </dev/null >"$T/ck.log" 2>&1 &
echo $! >>"$T/pids"
poll 5 test -s "$T/ck.pid" || { echo "Bail out! checksum server"; exit 1; }

check "the server's ip mptcp monitor is listening" mon_start srv "$SRV_NS"

MPSOCKD_NETWATCH_RCVBUF=1 MPSOCKD_TEST_FAIL_DUMPS=2 \
	start_mpsockd "policy fullmesh"
check "mpsockd starts (policy fullmesh)" grep -q serving "$LOG"
check "MPSOCKD_NETWATCH_RCVBUF=1: the group socket's buffer is tiny ($(grep -o 'buffer [0-9]* bytes' "$LOG"))" \
	grep -q 'netwatch: group socket receive buffer [0-9]* bytes' "$LOG"

# ----------------------------------------------- connections and subflows
cl_start A -r 50000 "$S1" $CK || not_ok "client A connected"
cl_start A6 -r 50000 "$S6" $CK || not_ok "client A6 connected"
expect_addrs "A: a subflow from wifi and one from cell (client ss -tiM)" A \
	"$(lines "$W4 $S1" "$C4 $S1")"
expect_addrs "A6: the same over IPv6" A6 "$(lines "$W6 $S6" "$C6 $S6")"
A_SF=$(subflows A)
A6_SF=$(subflows A6)
A_STOK=$(stoken A)
A6_STOK=$(stoken A6)
echo "# A: $(echo "$A_SF" | tr '\n' ' ')(server token $A_STOK)"
echo "# A6: $(echo "$A6_SF" | tr '\n' ' ')(server token $A6_STOK)"
check "the server's ss -tiM shows A's two subflows" \
	test "$(ss_sf "$SRV_NS" "( sport = :$CK )" | grep -c "^$A_STOK ")" = 2
check "the server's monitor saw A's cell subflow (SF_ESTABLISHED)" \
	mon_has srv "SF_ESTABLISHED.*token=$A_STOK .*daddr[46]=[:f]*$C4 "
check "no resync yet" eval "! grep -q 'netwatch: re' '$LOG'"

# ------------------------------------------------------------- overruns
# stopped, mpsockd cannot read: the churn's news overflows its socket, and
# the news of the cell address that comes after is lost with the rest
kill -STOP "$D_PID"
check "mpsockd stopped (SIGSTOP)" poll 2 stopped
churn_round
testnet_add_client_addr cell $C4B/24
# the resync dumps race more churn until one of them is interrupted
churn_until 'interrupted by a change (attempt' 150 &
CHURN_PID=$!
kill -CONT "$D_PID"
poll 20 grep -q 'netwatch: resynced' "$LOG"
check "the overrun: mpsockd resynced ($(grep -m1 'netwatch: resynced' "$LOG"))" \
	grep -q 'netwatch: resynced' "$LOG"
check "the first two resync dumps failed on purpose (MPSOCKD_TEST_FAIL_DUMPS=2)" \
	test "$(grep -c 'MPSOCKD_TEST_FAIL_DUMPS) (attempt' "$LOG")" = 2
check "the first resync went through only at its third attempt or later" \
	eval "grep -m1 'netwatch: resynced' '$LOG' |
		awk '{ n = \$5 } END { exit !(n >= 3) }'"
wait "$CHURN_PID"
CHURN_PID=
check "a resync dump raced the churn: the kernel marked it interrupted (NLM_F_DUMP_INTR; $(cat "$T/churn.rounds") churn rounds)" \
	grep -q 'interrupted by a change (attempt' "$LOG"

# once more, stopped: a resync that starts after this covers everything,
# and no news is lost after it; its line in the log means all is settled
kill -STOP "$D_PID"
poll 2 stopped
churn_round
NLOG=$(wc -l <"$LOG")
kill -CONT "$D_PID"
# since_stop: the log mpsockd wrote since it went on again
since_stop() { tail -n +$((NLOG + 1)) "$LOG"; }
poll 10 eval "since_stop | grep -q 'netwatch: resynced'"
check "the last overrun: resynced ($(since_stop | grep -m1 'netwatch: resynced'))" \
	eval "since_stop | grep -q 'netwatch: resynced'"
grep 'netwatch:' "$LOG" | sed 's/^/# /'
# last_line PATTERN: the number of the last line of the log matching it
last_line() { grep -n -- "$1" "$LOG" | tail -n 1 | cut -d: -f1; }
check "after the interrupted dump, a resync went through" \
	test "$(last_line 'netwatch: resynced')" -gt \
	"$(last_line 'interrupted by a change (attempt')"

# ------------------------------------------------------------- outcomes
same "A: the same wifi and cell subflows, same local ports (client ss -tiM)" \
	"$A_SF" "$(subflows A | grep -v "^$C4B:")"
same "A6: the same wifi and cell subflows, same local ports" \
	"$A6_SF" "$(subflows A6)"
expect_addrs "A: the address added unheard got its subflow after the resync" \
	A "$(lines "$W4 $S1" "$C4 $S1" "$C4B $S1")"
for n in A A6; do
	tok=$A_STOK
	[ $n = A6 ] && tok=$A6_STOK
	check "$n: the server's monitor saw no REMOVED and no SF_CLOSED" \
		eval "! grep -E '(REMOVED|SF_CLOSED).*token=$tok' '$T/srv.mon'"
done
grep -E 'REMOVED|SF_CLOSED' "$T/srv.mon" | sed 's/^/# srv.mon: /'
check_verified A
check_verified A6
check "mpsockd is still running" kill -0 "$D_PID"
kill "$D_PID"
wait "$D_PID"
rc=$?
D_PID=
check "SIGTERM: mpsockd exits with status 0 ($rc)" test "$rc" = 0
check "its log reports no sanitizer finding" \
	eval "! grep -qE 'runtime error|Sanitizer' '$LOG'"

if [ "$_tap_failed" -gt 0 ]; then
	echo "# mpsockd's log:" >&2
	sed 's/^/#   /' "$LOG" >&2
fi
finish
