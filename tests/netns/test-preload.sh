#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Unmodified programs under libmpsock-preload.so: the draft's Figures 2, 4,
# 7 and 9 as written (plain getsockopt()/setsockopt(), -include mpsock.h,
# plain TCP sockets) run as uid 65534 through mpsockd, checked against
# ss -tiM; socket(AF_INET, SOCK_STREAM, 0) is MPTCP with
# MPSOCK_PRELOAD_MPTCP=1 and TCP without.

. "$(dirname "$0")/lib.sh"

export TESTNET_CLIENT_PM=kernel
netns_setup
: "${MPSOCK_PRELOAD:=$_TESTNET_ROOT/build/preload/libmpsock-preload.so}"
: "${MPSOCK_FIGURES:=$_TESTNET_ROOT/build/tests/figures}"
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
C_CELL=$TESTNET_CLI_CELL4

PUB=$(dirname "$(probe_for_anyone)")
for f in figure-fig2 figure-fig4 figure-fig7 figure-fig9 sockproto; do
	cp "$MPSOCK_FIGURES/$f" "$PUB/"
done
cp "$MPSOCK_PRELOAD" "$PUB/"

# A sanitizer build's shim needs its runtimes loaded first
SAN_RT=$(ldd "$MPSOCK_PRELOAD" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')

# as_app [ENV=VALUE...] PROGRAM ARGS...: under the shim
as_app()
{
	nsenter --net="$CLI_NS" env \
		LD_PRELOAD="$SAN_RT$PUB/libmpsock-preload.so" "$@"
}
UNPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --"

# run_figure OUT PATTERN PROGRAM ARGS...: run it held open on a fifo until
# done; wait until its output has a line matching PATTERN (a figure
# writes all it prints with one fflush before it holds)
run_figure()
{
	local out=$1 pattern=$2

	shift 2
	# what ss shows must be this figure's connection alone
	wait_mptcp_idle
	rm -f "$TESTNET_TMP/hold"
	mkfifo "$TESTNET_TMP/hold"
	# shellcheck disable=SC2086
	as_app MPSOCK_PRELOAD_MPTCP=1 $UNPRIV "$@" <"$TESTNET_TMP/hold" \
		>"$out" 2>&1 &
	FIG_PID=$!
	exec 7>"$TESTNET_TMP/hold"
	poll 10 eval "grep -q '$pattern' '$out' || ! kill -0 $FIG_PID 2>/dev/null"
	grep -q "$pattern" "$out" && return 0
	sed 's/^/# /' "$out"
	return 1
}

# ss_count N: ss -tiM shows N established subflows (a join the figure
# listed may still be completing its handshake)
ss_count()
{
	[ "$(ss_subflows "$PORT" | grep -c .)" -eq "$1" ]
}

end_figure()
{
	exec 7>&-
	wait "$FIG_PID"
}

# socket conversion
# shellcheck disable=SC2086
out=$(as_app MPSOCK_PRELOAD_MPTCP=1 $UNPRIV "$PUB/sockproto")
check "MPSOCK_PRELOAD_MPTCP=1: socket(AF_INET, SOCK_STREAM, 0) is MPTCP" \
	test "$out" = "protocol=262"
# shellcheck disable=SC2086
out=$(as_app $UNPRIV "$PUB/sockproto")
check "without it the shim leaves TCP alone" test "$out" = "protocol=6"

# Figures 2 and 7: the in-kernel path manager opens a cell subflow
nsenter --net="$CLI_NS" ip mptcp endpoint add "$C_CELL" subflow
if run_figure "$TESTNET_TMP/fig2.out" '^Subflow id' "$PUB/figure-fig2" \
	"$S4" "$PORT" 2; then
	same "Figure 2 as written lists ids 1 and 2" \
		"$(printf 'Subflow id : 1\nSubflow id : 2')" \
		"$(sort "$TESTNET_TMP/fig2.out")"
	check "Figure 2: ss -tiM sees the same 2 subflows" poll 5 ss_count 2
else
	not_ok "Figure 2 ran"
fi
end_figure
if run_figure "$TESTNET_TMP/fig7.out" 'ip dst' "$PUB/figure-fig7" "$S4" \
	"$PORT" 2; then
	poll 5 ss_count "$(grep -c 'ip dst' "$TESTNET_TMP/fig7.out")"
	want=$(ss_subflows "$PORT" | awk '{ print $1, $2 }' | sort)
	got=$(awk '/ip src/ { s = $4 ":" $8 } /ip dst/ { print s, $4 ":" $8 }' \
		"$TESTNET_TMP/fig7.out" | sort)
	same "Figure 7 as written: tuples == ss -tiM" "$want" "$got"
else
	not_ok "Figure 7 ran"
fi
end_figure
nsenter --net="$CLI_NS" ip mptcp endpoint flush

# Figures 4 and 9 control subflows: the userspace path manager and mpsockd
nsenter --net="$CLI_NS" sysctl -qw net.mptcp.path_manager=userspace
start_mpsockd || echo "# mpsockd did not start"
if run_figure "$TESTNET_TMP/fig4.out" 'new subflow id' "$PUB/figure-fig4" \
	"$S4" "$PORT" "$C_CELL" "$TESTNET_SRV_CELL4"; then
	check "Figure 4 as written opened subflow 2" \
		grep -qx "new subflow id : 2" "$TESTNET_TMP/fig4.out"
	# the join may still be on its way when the call returns
	check "Figure 4: ss -tiM shows $C_CELL:12345 -> $TESTNET_SRV_CELL4" \
		poll 5 eval "ss_subflows $PORT | grep -q '^$C_CELL:12345 $TESTNET_SRV_CELL4:$PORT '"
else
	not_ok "Figure 4 ran"
fi
end_figure
if run_figure "$TESTNET_TMP/fig9.out" 'IP_TOS set' "$PUB/figure-fig9" "$S4" \
	"$PORT" 1 1; then
	check "Figure 9 as written set IP_TOS on subflow 1" \
		grep -qx "IP_TOS set on subflow 1" "$TESTNET_TMP/fig9.out"
	check "Figure 9: sock_diag shows tos:0xc on that subflow" \
		eval "nsenter --net=$CLI_NS ss -tnH --tos '( dport = :$PORT )' | grep -q 'tos:0xc'"
else
	not_ok "Figure 9 ran"
fi
end_figure
kill "$D_PID"
wait "$D_PID"
finish
