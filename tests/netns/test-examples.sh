#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The draft's Figures 2 and 7 (examples/) against a live two-subflow
# connection, their output compared with ss -tiM.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_EXAMPLES:=$_TESTNET_ROOT/build/examples}"
netns_setup
PORT=$TESTNET_MPTCP_PORT

# listed_ready OUT: the example printed its listing (it writes it at once,
# one fflush before it waits on its standard input), or has exited
listed_ready()
{
	[ "$(grep -c '^Subflow id' "$1")" -ge 2 ] || ! kill -0 "$EX_PID" 2>/dev/null
}

# run_example OUT NAME HOST: run it with -w, wait for its listing
run_example()
{
	local out=$1 name=$2 host=$3

	# the subflows ss shows must be this connection's alone
	wait_mptcp_idle
	mkfifo "$TESTNET_TMP/hold"
	nsenter --net="/run/netns/$TESTNET_CLI_NS" -- "$MPSOCK_EXAMPLES/$name" -w "$host" \
		"$PORT" 2 <"$TESTNET_TMP/hold" >"$out" 2>&1 &
	EX_PID=$!
	exec 7>"$TESTNET_TMP/hold"
	poll 10 listed_ready "$out"
	[ "$(grep -c '^Subflow id' "$out")" -ge 2 ] && return 0
	sed 's/^/# /' "$out"
	return 1
}

end_example()
{
	exec 7>&-
	wait "$EX_PID"
	local rc=$?
	rm -f "$TESTNET_TMP/hold"
	return $rc
}

# ss_count N: ss -tiM shows N established subflows (a join the example
# listed may still be completing its handshake)
ss_count()
{
	[ "$(ss_subflows "$PORT" | grep -c .)" -eq "$1" ]
}

set_endpoints "$TESTNET_CLI_CELL4 subflow"

for fam in 4 6; do
	if [ $fam = 4 ]; then host=$TESTNET_SRV_WIFI4; else host=$TESTNET_SRV_WIFI6; fi
	[ $fam = 6 ] && set_endpoints "$TESTNET_CLI_CELL6 subflow"

	OUT=$TESTNET_TMP/fig2.out
	if run_example "$OUT" fig2-sub-ids "$host"; then
		same "IPv$fam Figure 2 lists ids 1 and 2" \
			"$(printf 'Subflow id : 1\nSubflow id : 2')" \
			"$(sort "$OUT")"
		check "IPv$fam Figure 2: ss sees the 2 subflows" \
			poll 5 ss_count 2
	else
		not_ok "IPv$fam Figure 2 ran"
	fi
	check "IPv$fam Figure 2 exits 0" end_example

	OUT=$TESTNET_TMP/fig7.out
	if run_example "$OUT" fig7-sub-tuple "$host"; then
		poll 5 ss_count "$(grep -c 'ip dst' "$OUT")"
		want=$(ss_subflows "$PORT" | awk '{ print $1, $2 }' |
			sed 's/\[//g; s/\]//g' | sort)
		got=$(awk '/ip src/ { s = $4 ":" $8 } /ip dst/ {
			print s, $4 ":" $8 }' "$OUT" | sort)
		same "IPv$fam Figure 7 tuples == ss -tiM" "$want" "$got"
	else
		not_ok "IPv$fam Figure 7 ran"
	fi
	check "IPv$fam Figure 7 exits 0" end_example
done

finish
