#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The event stream under load, through mpsockd: 100 connections of uid
# 65534 open and close subflows continuously (MPSOCK_LOAD_SECONDS, 30 by
# default) while 10 subscriber processes each follow 10 of them; one of
# them never reads until the end.  Witness: ip mptcp monitor in the same
# namespace.  The nine that read lose nothing (per connection, as many
# SUBFLOW_ESTABLISHED and SUBFLOW_CLOSED as the monitor printed), the
# stuck one is told how many it lost (and what it got plus what it lost
# is what happened), and mpsockd's memory stays bounded.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_EVLOAD:=$_TESTNET_ROOT/build/tests/tools/mpsock-evload}"
: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"
: "${MPSOCK_LOAD_SECONDS:=30}"
# each connection opens a subflow and resets the previous one once per
# period: the in-kernel PM of the server rejects joins under faster churn
: "${MPSOCK_LOAD_PERIOD_MS:=150}"
CONNS=100
SUBS=10
# mpsockd's resident memory may grow by this much over the whole run, and
# not at all (within one page-sized step) over its second half
RSS_MAX_GROWTH_KB=4096
RSS_LATE_SLACK_KB=64

export TESTNET_CLIENT_PM=userspace
netns_setup
# nothing of ours may outlive the test (mpsockd would hold its output open)
trap 'kill ${LOAD_PID:-} ${MON_PID:-} ${MARK_PID:-} ${D_PID:-} 2>/dev/null; testnet_down' EXIT
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
S_CELL=$TESTNET_SRV_CELL4
C_CELL=$TESTNET_CLI_CELL4
MON=$TESTNET_TMP/monitor.txt
OUT=$TESTNET_TMP/evload.out

[ -x "$MPSOCK_EVLOAD" ] || { echo "Bail out! no $MPSOCK_EVLOAD"; exit 1; }
# one user's hundred streams: this is a load test, not one of the per-user
# shares (test-security.sh tests those)
start_mpsockd "policy single
per-user clients 1000
per-user subscriptions 1000" || { echo "Bail out! mpsockd"; exit 1; }
PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_EVLOAD" "$PUB/"
chmod 755 "$PUB/mpsock-evload"

rss()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$D_PID/status" 2>/dev/null
}

nfds()
{
	local f n=0

	for f in "/proc/$D_PID/fd/"*; do
		[ -L "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# the witness, subscribed before the first connection, with room for
# seconds of events (the receive buffer is capped by net.core.rmem_max)
start_ipmon "$CLI_NS" "$MON" -rcvbuf 8388608 ||
	{ echo "Bail out! ip mptcp monitor"; exit 1; }
MON_PID=$IPMON_PID
RSS_BEFORE=$(rss)
FDS_BEFORE=$(nfds)

: >"$OUT"
# shellcheck disable=SC2046
$(unpriv_prefix) "$PUB/mpsock-evload" -H -n "$CONNS" -s "$SUBS" \
	-t "$MPSOCK_LOAD_SECONDS" -p "$MPSOCK_LOAD_PERIOD_MS" \
	"$S4" "$PORT" "$C_CELL" "$S_CELL" >"$OUT" 2>"$OUT.err" &
LOAD_PID=$!

# one sample a second until the subscribers report
SAMPLES=()
deadline=$((SECONDS + MPSOCK_LOAD_SECONDS + 30))
while ! grep -q '^done' "$OUT" && kill -0 "$LOAD_PID" 2>/dev/null &&
	((SECONDS < deadline)); do
	if grep -q '^subscribed' "$OUT"; then
		SAMPLES+=("$(rss)")
		# the most it held: the last sample may follow the subscribers'
		# departure
		n=$(nfds)
		[ "$n" -gt "${FDS_DURING:-0}" ] && FDS_DURING=$n
	fi
	sleep 1
done
RSS_AFTER=$(rss)
check "the load ran to its end" grep -q '^done' "$OUT"

# the monitor has printed everything once it printed an event that came
# after all of them: an MPTCP listener opened and closed in the client
# namespace now (LISTENER_CREATED and _CLOSED, event types 15 and 16,
# which an iproute2 that does not know them, 6.1 for one, prints as
# "UNKNOWN 15" and "UNKNOWN 16")
MARK_PORT=5299
nsenter --net="$CLI_NS" "$MPSOCK_TESTSRV" --port "$MARK_PORT" --mode echo \
	--pidfile "$TESTNET_TMP/mark.pid" >"$TESTNET_TMP/mark.log" 2>&1 &
MARK_PID=$!
poll 10 test -s "$TESTNET_TMP/mark.pid"
kill "$MARK_PID"
wait "$MARK_PID" 2>/dev/null
MARK_PID=
check "ip mptcp monitor printed every event (its end marker came)" \
	poll 30 grep -Eq '^ *\[ *(LISTENER_CLOSED|UNKNOWN 16)\]' "$MON"
kill "$MON_PID"
wait "$MON_PID" 2>/dev/null
MON_PID=
FDS_AFTER=$(nfds)
# then the connections may close
kill "$LOAD_PID" 2>/dev/null
wait "$LOAD_PID"
check "mpsock-evload exited 0" test $? = 0
LOAD_PID=
sed 's/^/# evload: /' "$OUT.err"
grep '^load:' "$OUT" | sed 's/^/# /'
check "subflows were opened" \
	grep -Eq '^load: .* opens=[1-9][0-9]* .*closes=[1-9]' "$OUT"

# the witness is only worth something if it lost nothing itself
# (iproute2 says "netlink receive error ... No buffer space" and goes on)
check "ip mptcp monitor did not overrun" test ! -s "$MON.err"
sed 's/^/# monitor: /' "$MON.err"
check "ip mptcp monitor saw the $CONNS connections created" \
	test "$(awk '/^ *\[ *CREATED\]/' "$MON" | grep -c 'token=')" = "$CONNS"

# per token: "TOKEN ESTABLISHED CLOSED" as the monitor printed them
awk '/SF_ESTABLISHED|SF_CLOSED/ {
	for (i = 1; i <= NF; i++)
		if ($i ~ /^token=/) t = substr($i, 7)
	if ($0 ~ /SF_ESTABLISHED/) e[t]++; else c[t]++; seen[t] = 1
}
END { for (t in seen) printf "%s %d %d\n", t, e[t], c[t] }' "$MON" |
	sort >"$TESTNET_TMP/mon.counts"

# sub_counts K: "TOKEN ESTABLISHED CLOSED" as subscriber K counted them
sub_counts()
{
	awk -v k="sub=$1" '$1 == k {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %d %d\n", v["token"], v["established"], v["closed"]
	}' "$OUT" | sort
}

# sub_sum K FIELD: FIELD summed over subscriber K's connections
sub_sum()
{
	awk -v k="sub=$1" -v f="$2" '$1 == k {
		for (i = 2; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == f) s += kv[2] }
	} END { print s + 0 }' "$OUT"
}

# mon_for K: the monitor's lines for subscriber K's tokens
mon_for()
{
	join <(sub_counts "$1" | cut -d' ' -f1) "$TESTNET_TMP/mon.counts" -a1 \
		-e 0 -o 0,2.2,2.3
}

for k in $(seq 1 $((SUBS - 1))); do
	n=$(sub_counts "$k" | wc -l)
	ev=$(($(sub_sum "$k" established) + $(sub_sum "$k" closed)))
	lost=$(sub_sum "$k" lost)
	echo "# subscriber $k: $n connections, $ev events" \
		"($(sub_sum "$k" established) established," \
		"$(sub_sum "$k" closed) closed), lost $lost," \
		"other $(sub_sum "$k" other)"
	if [ "$n" = $((CONNS / SUBS)) ] && [ "$lost" = 0 ] && [ "$ev" -gt 0 ]; then
		ok "subscriber $k read $ev events and lost none"
	else
		not_ok "subscriber $k read $ev events and lost none"
	fi
	same "subscriber $k: per connection, the events ip mptcp monitor printed" \
		"$(mon_for "$k")" "$(sub_counts "$k")"
done

got=$(($(sub_sum 0 established) + $(sub_sum 0 closed)))
lost=$(sub_sum 0 lost)
mon0=$(mon_for 0 | awk '{ s += $2 + $3 } END { print s + 0 }')
echo "# subscriber 0 (stuck): got $got events, lost $lost;" \
	"the monitor printed $mon0 for its connections"
check "the stuck subscriber is told it lost events" test "$lost" -gt 0
check "what it got plus what it lost is what happened ($got + $lost = $mon0)" \
	test $((got + lost)) = "$mon0"

half=${SAMPLES[$((${#SAMPLES[@]} / 2))]:-0}
echo "# mpsockd VmRSS (KiB): before $RSS_BEFORE, during" \
	"$(printf '%s\n' "${SAMPLES[@]}" | sort -n | sed -n '1p;$p' |
		paste -sd-) (${#SAMPLES[@]} samples, mid-run $half)," \
	"after $RSS_AFTER"
echo "# mpsockd descriptors: before $FDS_BEFORE, during ${FDS_DURING:-?}," \
	"after $FDS_AFTER"
check "mpsockd grew by less than $RSS_MAX_GROWTH_KB KiB" \
	test $((RSS_AFTER - RSS_BEFORE)) -lt "$RSS_MAX_GROWTH_KB"
check "mpsockd did not grow over the second half ($half -> $RSS_AFTER KiB)" \
	test $((RSS_AFTER - half)) -le "$RSS_LATE_SLACK_KB"
# the subscribers are gone: what is left is the load's control connection
# (a socket and a pidfd) and the netlink sockets libmpsock keeps (genl,
# sock_diag), a few descriptors, not one per stream
check "mpsockd let go of the $CONNS streams of the subscribers that left" \
	test $((${FDS_DURING:-0} - FDS_AFTER)) -ge "$CONNS" -a \
	"$FDS_AFTER" -le $((FDS_BEFORE + 8))
check "mpsockd still serves" kill -0 "$D_PID"
check "mpsockd's event queue did not overrun" \
	eval "! grep -q 'event queue overrun' '$TESTNET_TMP/mpsockd.log'"

kill "$D_PID"
wait "$D_PID" 2>/dev/null
D_PID=
finish
