#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python package (python/mpsock) against the real kernel, as uid 65534
# without capabilities, through mpsockd (policy fullmesh): the cases of
# test-control.sh, test-sockopt.sh and test-events.sh through the Python
# API, driven by tests/python/pyctl.py.  Witnesses: ss -tiM (subflows,
# flags, tcp_info, ss --tos), a packet capture (FIN, RST), and the
# server's ip mptcp monitor for examples/handover.py.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_PY_TESTS:=$_TESTNET_ROOT/tests/python}"
: "${MPSOCK_PY_RUN:=$MPSOCK_PY_TESTS/run-python.sh}"
: "${PYTHONPATH:=$_TESTNET_ROOT/python}"
: "${MPSOCK_LIBRARY:=$_TESTNET_ROOT/build/lib/libmpsock.so.0}"
: "${MPSOCK_PYTHON:=python3}"
: "${MPSOCK_EXAMPLES_SRC:=$_TESTNET_ROOT/examples}"
: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"

export TESTNET_CLIENT_PM=userspace
netns_setup
# nothing of ours may outlive the test
trap 'kill ${D_PID:-} ${DUMP_PID:-} ${MON_PID:-} 2>/dev/null; testnet_down' EXIT
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
S_CELL=$TESTNET_SRV_CELL4
C_WIFI=$TESTNET_CLI_WIFI4
C_CELL=$TESTNET_CLI_CELL4

# The package, the library and the scripts where uid 65534 reads them (the
# build tree may be private), and the interpreter itself, not a shim that
# only its owner may run (pyenv's).
PUB=$(dirname "$(probe_for_anyone)")
mkdir -p "$PUB/mpsock"
cp "$PYTHONPATH"/mpsock/*.py "$PUB/mpsock/"
cp -L "$MPSOCK_LIBRARY" "$PUB/libmpsock.so.0"
cp "$MPSOCK_PY_RUN" "$MPSOCK_PY_TESTS/pyctl.py" \
	"$MPSOCK_EXAMPLES_SRC/handover.py" "$PUB/"
chmod -R a+rX "$PUB"
MPSOCK_PYTHON=$("$MPSOCK_PYTHON" -c 'import sys; print(sys.executable)')
export MPSOCK_PYTHON PYTHONPATH=$PUB MPSOCK_LIBRARY=$PUB/libmpsock.so.0
printf '#!/bin/sh\nexec "%s/run-python.sh" "%s/pyctl.py" "$@"\n' "$PUB" "$PUB" \
	>"$PUB/pyctl"
chmod 755 "$PUB/pyctl"
MPSOCK_CTL_BIN=$PUB/pyctl

# py_unpriv ARGS...: python3 as uid 65534 without capabilities
py_unpriv()
{
	# shellcheck disable=SC2046
	$(unpriv_prefix) "$PUB/run-python.sh" "$@"
}

imports_own_copy()
{
	local want got

	want="$("$MPSOCK_CLI" -V | sed 's/^mpsock //') $PUB/libmpsock.so.0"
	got=$(py_unpriv -c 'import mpsock, mpsock._native as n
print(mpsock.__version__, *n.candidates())')
	[ "$got" = "$want" ] || { echo "# got '$got', wanted '$want'"; return 1; }
}
if ! py_unpriv -c '' 2>/dev/null; then
	echo "Bail out! uid 65534 cannot run $MPSOCK_PYTHON: configure -Dpython= with an interpreter any user may run"
	exit 1
fi
check "uid 65534 imports mpsock from $PUB, with that libmpsock (mpsock -V's version)" \
	imports_own_copy

start_mpsockd "policy fullmesh" || { echo "Bail out! mpsockd"; exit 1; }

# ss_flags LOCALADDR:PORT: "b= B= e=" of that subflow in ss -tiM
ss_flags()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { print $3, $4, $5 }'
}

ss_has()
{
	ss_subflows "$PORT" | awk -v l="$1" '$1 == l { f = 1 } END { exit !f }'
}

# ss_detail LOCAL: ss --tos -ti's two lines of that subflow, joined
ss_detail()
{
	nsenter --net="$CLI_NS" ss -tinH --tos "( dport = :$PORT )" |
		awk -v l="$1" '/^[^ \t]/ { a = $4; sub(/%[^:\]]*/, "", a)
			hit = (a == l); head = $0; next }
			hit { print head " |" $0; exit }'
}

# py_view: the API's list in ss_subflows' format
py_view()
{
	ctl list
	awk '/^sf / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %s b=%s B=%s e=%s j=%s lid=%s rid=%s\n", v["local"],
			v["remote"], v["bl"], v["br"], v["e"], v["j"], v["lid"],
			v["rid"] }' <<<"$REPLY_LINE" | sort
}

last_id() { echo "${REPLY_LINE##*id=}"; }

# kv KEY TEXT: the value of KEY=VALUE or KEY:VALUE in TEXT
kv()
{
	grep -o "\(^\|[ |]\)$1[=:][^ ]*" <<<"$2" | head -n 1 | sed "s/^[ |]*$1[=:]//"
}

# tcp_info_agrees ID LOCAL: tcp_info() of subflow ID equals ss -ti's
# figures for its 4-tuple (the connection is idle: they hold still)
tcp_info_agrees()
{
	local py ss_line f

	ctl "tcpinfo $1"
	py=$REPLY_LINE
	ss_line=$(ss_detail "$2")
	[[ $py == "ok state=ESTABLISHED "* && -n $ss_line ]] || return 1
	for f in bytes_acked bytes_received cwnd; do
		[ "$(kv "$f" "$py")" = "$(kv "$f" "$ss_line")" ] || return 1
	done
	[ "$(kv snd_mss "$py")" = "$(kv mss "$ss_line")" ] &&
		[ "$(kv pmtu "$py")" = "$(kv pmtu "$ss_line")" ] &&
		# ss prints rtt in ms: tcpi_rtt / 1000
		[ "$(awk -v r="$(kv rtt "$ss_line" | cut -d/ -f1)" \
			'BEGIN { printf "%d", r * 1000 + 0.5 }')" = "$(kv rtt_us "$py")" ]
}

# ---------------------------------------------- control, unprivileged

# manual: the policy (fullmesh) stays away from this connection
export PYCTL_MODE=manual
# shellcheck disable=SC2046
ctl_start $(unpriv_prefix) || { echo "Bail out! pyctl did not connect"; exit 1; }
unset PYCTL_MODE
expect "open before the handshake completes: ENOTCONN, an mpsock.Error" \
	"open $C_CELL:0 $S4:0" "err ENOTCONN OSError mpsock.Error message=*"
expect "data flows" echo "ok bytes=5"
# "nothing more happens" is what is tested: the wait is the test
one_subflow_for_a_second()
{
	local i

	for i in $(seq 10); do
		[ "$(ss_subflows "$PORT" | wc -l)" = 1 ] || return 1
		sleep 0.1
	done
}
check "set_mode('manual') before connect: the policy adds no subflow" \
	one_subflow_for_a_second

same "subflows() equals ss -tiM (addresses, b, B, e, j, address ids)" \
	"$(ss_subflows "$PORT")" "$(py_view)"
expect "subflows() of the descriptor equals that of the socket" fdlist "ok count=1"
L1=$(sf_local 1)
ctl "tcpinfo 1"
check "tcp_info(1) is sane ($REPLY_LINE)" \
	eval "[[ '$REPLY_LINE' == 'ok state=ESTABLISHED '* ]] &&
	      [ $(kv rtt_us "$REPLY_LINE") -gt 0 ] && [ $(kv rtt_us "$REPLY_LINE") -lt 1000000 ] &&
	      [ $(kv cwnd "$REPLY_LINE") -ge 1 ] && [ $(kv bytes_received "$REPLY_LINE") -ge 5 ] &&
	      [ $(kv bytes_acked "$REPLY_LINE") -ge 5 ] && [ $(kv delivery_rate "$REPLY_LINE") != None ]"
check "tcp_info(1) agrees with ss -ti (bytes_acked, bytes_received, cwnd, mss, pmtu, rtt)" \
	poll 3 tcp_info_agrees 1 "$L1"

start_capture "$CLI_NS" "$TESTNET_TMP/py.pcap" "tcp port $PORT" ||
	not_ok "tcpdump capturing"

expect "open_subflow(wait=3) over cell" "open $C_CELL:0 $S4:0 wait 3" "ok id=*"
ID2=$(last_id)
L2=$(sf_local "$ID2")
check "ss -tiM shows it ($L2), not backup, fully established" \
	test "$(ss_flags "$L2")" = "b=0 B=0 e=1"
expect "open_subflow(backup=True) without wait" \
	"open $C_CELL:0 $S_CELL:0 backup" "ok id=*"
ID3=$(last_id)
L3=$(sf_local "$ID3")
check "ss -tiM shows $L3 as local backup once established" \
	poll 5 eval "[ \"\$(ss_flags $L3)\" = 'b=1 B=0 e=1' ]"
same "subflows() still equals ss -tiM" "$(ss_subflows "$PORT")" "$(py_view)"

expect "set_backup(1, True)" "backup 1 1" ok
check "ss -tiM shows subflow 1 ($L1) as backup" test "$(ss_flags "$L1")" = "b=1 B=0 e=1"
expect "set_backup(1, False)" "backup 1 0" ok
check "ss -tiM shows subflow 1 not backup again" test "$(ss_flags "$L1")" = "b=0 B=0 e=1"

# per-subflow socket options: subflow $ID2 alone
expect "setsockopt($ID2, IP_TOS, 0xb8)" "sso $ID2 tos 0xb8" ok
expect "getsockopt($ID2, IP_TOS) reads it back" "sgo $ID2 tos" "ok value=184"
expect "getsockopt(1, IP_TOS): subflow 1 keeps 0" "sgo 1 tos" "ok value=0"
check "ss --tos shows tos:0xb8 on $L2" eval "ss_detail $L2 | grep -q 'tos:0xb8'"
check "and on neither $L1 nor $L3" \
	eval "! ss_detail $L1 | grep -q 'tos:0xb8' && ! ss_detail $L3 | grep -q 'tos:0xb8'"
expect "setsockopt($ID2, TCP_CONGESTION, 'reno'), a str" "sso $ID2 cc reno" ok
expect "getsockopt($ID2, TCP_CONGESTION) is the str 'reno'" "sgo $ID2 cc" "ok value=reno"
check "ss -ti shows reno on $L2 only" \
	eval "ss_detail $L2 | grep -q '|[[:space:]]*reno ' && ! ss_detail $L1 | grep -q '|[[:space:]]*reno '"
expect "setsockopt of an unknown id: ProcessLookupError" "sso 9 tos 4" \
	"err ESRCH ProcessLookupError mpsock.Error message=*"

expect "close_subflow($ID3, reset=True)" "close $ID3 rst" ok
check "ss -tiM no longer shows $L3" eval "! ss_has $L3"
expect "close_subflow($ID2): graceful" "close $ID2" ok
check "ss -tiM no longer shows $L2" eval "! ss_has $L2"
expect "the connection goes on" echo "ok bytes=5"

# errors
expect "close_subflow(999): ProcessLookupError, ESRCH, mpsock.Error, a message" \
	"close 999" "err ESRCH ProcessLookupError mpsock.Error message=?*"
expect "set_backup(999): the same" "backup 999 1" \
	"err ESRCH ProcessLookupError mpsock.Error message=?*"
expect "tcp_info(999): ProcessLookupError" "tcpinfo 999" \
	"err ESRCH ProcessLookupError mpsock.Error message=?*"
expect "open_subflow() refused by the peer: ConnectionRefusedError" \
	"open $C_CELL:0 $S_CELL:9 wait 3" \
	"err ECONNREFUSED ConnectionRefusedError mpsock.Error message=*"
expect "a plain TCP connection: OSError EOPNOTSUPP" \
	"nottcp $S4 $TESTNET_TCP_PORT" "err EOPNOTSUPP OSError mpsock.Error message=*"

# events: the iterator with a timeout.  The library names an event's
# subflow when the event is read: each is read while its subflow lives.
expect "events(sock, timeout=1.5)" "evopen 1.5" ok
expect "a subflow to open" "open $C_CELL:0 $S4:0 wait 3" "ok id=*"
EV=$(last_id)
LE=$(sf_local "$EV")
ctl evnext
sed 's/^/# /' <<<"$REPLY_LINE"
check "next(stream): SUBFLOW_ESTABLISHED of subflow $EV from $LE" \
	grep -qx "ev type=SUBFLOW_ESTABLISHED id=$EV local=$LE remote=$S4:$PORT backup=0 error=0" \
	<<<"$REPLY_LINE"
expect "and to reset it" "close $EV rst" ok
ctl evwait
sed 's/^/# /' <<<"$REPLY_LINE"
check "the iterator: SUBFLOW_CLOSED of subflow $EV, ECONNABORTED (reset here)" \
	grep -qx "ev type=SUBFLOW_CLOSED id=$EV local=$LE remote=$S4:$PORT backup=0 error=ECONNABORTED" \
	<<<"$REPLY_LINE"
check "nothing else, and the iteration ended 1.5 s after it (${REPLY_LINE##*$'\n'})" \
	eval "[[ '${REPLY_LINE##*$'\n'}' == 'ok events=1 idle='* ]] &&
	      awk -v t=\"\${REPLY_LINE##*idle=}\" 'BEGIN { exit !(t >= 1.45 && t < 3) }'"
expect "leaving 'with' closes the stream and its descriptor" evclose "ok fd_closed=1"

# events: asyncio, async for and loop.add_reader()
for form in aevents areader; do
	ctl "$form $C_CELL:0 $S4:0 1.5"
	sed 's/^/# /' <<<"$REPLY_LINE"
	id=$(sed -n 's/^ok id=\([0-9]*\) .*/\1/p' <<<"$REPLY_LINE")
	check "$form: SUBFLOW_ESTABLISHED and SUBFLOW_CLOSED of subflow ${id:-?}, nothing else" \
		eval "[ -n '$id' ] &&
		grep -q '^ev type=SUBFLOW_ESTABLISHED id=$id local=$C_CELL:[0-9]* remote=$S4:$PORT ' <<<'$REPLY_LINE' &&
		grep -q '^ev type=SUBFLOW_CLOSED id=$id .* error=ECONNABORTED$' <<<'$REPLY_LINE' &&
		[[ '${REPLY_LINE##*$'\n'}' == *' events=2' ]]"
done

expect "an asyncio transport's socket: subflows()" \
	"atransport $S4 $PORT" "ok count=* remote=$S4:$PORT bytes=5"
ctl_stop

# the capture, once it holds every packet sent so far
stop_capture "$CLI_NS" "$TESTNET_TMP/py.pcap" "$PORT" ||
	not_ok "capture: complete (its end marker captured within 20 s)"
pcap_text "$TESTNET_TMP/py.pcap" >"$TESTNET_TMP/py.txt"
check "capture: RST from ${L3##*:} (reset=True)" \
	grep -q "$C_CELL.${L3##*:} > .*Flags \[R.\]" "$TESTNET_TMP/py.txt"
check "capture: FIN and no RST from ${L2##*:} (graceful)" \
	eval "grep -q '$C_CELL.${L2##*:} > .*Flags \[F.\]' $TESTNET_TMP/py.txt &&
	      ! grep -q '$C_CELL.${L2##*:} > .*Flags \[R' $TESTNET_TMP/py.txt"
check "capture: subflow $ID2 (${L2##*:}) sent with tos 0xb8, subflow 1 never" \
	eval "tcpdump -nn -v -r $TESTNET_TMP/py.pcap 2>/dev/null | grep -A1 'tos 0xb8' | grep -q '$C_CELL.${L2##*:} >' &&
	      ! tcpdump -nn -v -r $TESTNET_TMP/py.pcap 2>/dev/null | grep -A1 'tos 0xb8' | grep -q '$C_WIFI.${L1##*:} >'"

# ------------------------------------- set_mode("handover") before connect

wait_mptcp_idle
export PYCTL_MODE=handover
# shellcheck disable=SC2046
ctl_start $(unpriv_prefix) || not_ok "handover client connected"
unset PYCTL_MODE
expect "handover: data flows" echo "ok bytes=5"
handover_view()
{
	[ "$(ss_subflows "$PORT" | awk '{ sub(/:[0-9]+$/, "", $1)
		sub(/:[0-9]+$/, "", $2); print $1, $2, $3 }')" = \
		"$(lines "$C_WIFI $S4 b=0" "$C_CELL $S4 b=1")" ]
}
check "set_mode('handover'): wifi active, the cell subflow joined as backup (ss -tiM)" \
	poll 10 handover_view
ctl list
check "subflows() agrees: the cell subflow joined, backup" \
	grep -q "^sf id=[0-9]* state=ESTABLISHED local=$C_CELL:[0-9]* remote=$S4:$PORT backup=1 bl=1 br=0 e=1 j=1 " \
	<<<"$REPLY_LINE"
ctl_stop

# ---------------------------------------------- examples/handover.py

wait_mptcp_idle
start_ipmon "$SRV_NS" "$TESTNET_TMP/ho.mon" || not_ok "server's ip mptcp monitor listening"
MON_PID=$IPMON_PID
py_unpriv "$PUB/handover.py" "$S_CELL" "$PORT" "$C_WIFI" "$S4" \
	>"$TESTNET_TMP/ho.out" 2>&1
rc=$?
sed 's/^/# handover.py: /' "$TESTNET_TMP/ho.out"
check "handover.py exits 0" test "$rc" = 0
check "handover.py: subflow 2 established over $C_WIFI, subflow 1 ($C_CELL) closed" \
	eval "grep -qx 'subflow 2 established over $C_WIFI -> $S4' $TESTNET_TMP/ho.out &&
	      grep -qx 'subflow 1 closed: $C_CELL -> $S_CELL' $TESTNET_TMP/ho.out"
check "handover.py: the data went on, the wifi subflow alone left" \
	eval "[ \"\$(grep -c 'bytes echoed intact' $TESTNET_TMP/ho.out)\" = 2 ] &&
	      [ \"\$(grep -c '^now: ' $TESTNET_TMP/ho.out)\" = 1 ] &&
	      grep -q '^now: subflow 2 $C_WIFI -> $S4 rtt [1-9][0-9]* us$' $TESTNET_TMP/ho.out"
# the server's socket is AF_INET6: its events give v4-mapped addresses
check "the server saw the wifi join (SF_ESTABLISHED from $C_WIFI)" \
	poll 5 grep -Eq "SF_ESTABLISHED.* daddr(4=|6=::ffff:)$C_WIFI " "$TESTNET_TMP/ho.mon"
check "and the cell subflow close (SF_CLOSED of $C_CELL)" \
	poll 5 grep -Eq "SF_CLOSED.* daddr(4=|6=::ffff:)$C_CELL " "$TESTNET_TMP/ho.mon"
kill "$MON_PID"
wait "$MON_PID" 2>/dev/null
MON_PID=
sed 's/^/# server monitor: /' "$TESTNET_TMP/ho.mon"

kill "$D_PID"
wait "$D_PID" 2>/dev/null
D_PID=
finish
