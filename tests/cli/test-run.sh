#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsock run against the real kernel, with programs that know nothing of
# MPTCP: bash's /dev/tcp client connects to the test network's echo
# server, and ss -tiM and ip mptcp monitor say what its connection is:
# MPTCP under mpsock run, TCP with --no-mptcp; with mpsockd (policy
# fullmesh) and --mode handover, run by a user without privileges, its
# cell subflow is a backup (b in the client's ss -tiM, B in the
# server's), where the namespace's own mode (aggregate) makes it a
# regular one.  Also: the
# program is exec'd (its pid is the one started), its exit status,
# signal and arguments (spaces, empty words, dashes) are its own; the
# caller's LD_PRELOAD entries are kept, and loaded, and the shim is not
# added twice; a missing shim stops everything (1); a command not found
# is 127, one that cannot be executed 126; a setuid or setgid program
# gets a warning, and indeed runs without the shim; usage errors (2).

# shellcheck disable=SC2016,SC2034 # checks are strings eval'd later
. "$(dirname "$0")/../netns/lib.sh"

: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"
: "${MPSOCK_PRELOAD:=$_TESTNET_ROOT/build/preload/libmpsock-preload.so}"
: "${MPSOCK_LIB:=$_TESTNET_ROOT/build/lib/libmpsock.so}"

[ "$(id -u)" = 0 ] || skip_all "needs root"
for f in "$MPSOCK_CLI" "$MPSOCK_PRELOAD" "$MPSOCK_LIB"; do
	if [ ! -e "$f" ]; then
		echo "Bail out! $f is not built"
		exit 1
	fi
done

export TESTNET_CLIENT_PM=userspace
netns_setup
T=$TESTNET_TMP
PORT=$TESTNET_MPTCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
S4=$TESTNET_SRV_WIFI4
W4=$TESTNET_CLI_WIFI4
C4=$TESTNET_CLI_CELL4

BG_PIDS=()
cleanup()
{
	local pid

	for pid in "${BG_PIDS[@]}" ${CL_PID:+"$CL_PID"} ${D_PID:+"$D_PID"}; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

SHIM=$(realpath "$MPSOCK_PRELOAD")
LIB=$(realpath "$MPSOCK_LIB")
export MPSOCK_PRELOAD_PATH=$SHIM
unset LD_PRELOAD MPSOCK_MODE MPSOCK_PRELOAD_MPTCP

# A sanitizer build's shim needs its runtimes loaded first in programs
# that are not built with them: they are the caller's own LD_PRELOAD
# entries, which mpsock run must keep in front.  Those programs (bash,
# cat...) are not ours: their leaks at exit are not this test's.
SAN_RT=$(ldd "$SHIM" | awk '/lib(asan|ubsan)\.so/ { printf "%s%s", s, $3; s = " " }')
if [ -n "$SAN_RT" ]; then
	PROG_ENV=(LD_PRELOAD="$SAN_RT"
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
else
	PROG_ENV=()
fi
# what the program's LD_PRELOAD starts with
PRE=${SAN_RT:+$SAN_RT:}

# run CMD...: RC, OUT and ERR of CMD
run()
{
	"$@" >"$T/run.out" 2>"$T/run.err"
	RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
}

# check_run NAME TEST...: TEST (a command) about the last run; its output
# on failure
check_run()
{
	local name=$1

	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name"
		echo "# rc=$RC"
		sed 's/^/# stdout: /' "$T/run.out"
		sed 's/^/# stderr: /' "$T/run.err"
	fi
}

# "${MRUN[@]}" ARGS...: mpsock run ARGS in the client namespace (nsenter,
# env and mpsock exec: a background job's $! is the program's pid)
MRUN=(nsenter --net="$CLI_NS" -- env "${PROG_ENV[@]}" "$MPSOCK_CLI" run)

# ---------------------------------------------------------------- usage

RUN_USAGE='Usage: mpsock [ OPTIONS ] run [ --mode MODE ] [ --no-mptcp ] [ -- ]
                              CMD [ ARGS... ]
MODE := { default | manual | aggregate | handover | interactive }'

for how in --help -h; do
	run "$MPSOCK_CLI" run $how
	check_run "mpsock run $how: exit 0, run's usage on stdout, nothing on stderr" \
		eval '[ "$RC" = 0 ] && [ "$OUT" = "$RUN_USAGE" ] && [ -z "$ERR" ]'
done
run "$MPSOCK_CLI" help
check_run "mpsock help has run's usage lines" \
	eval '[[ $OUT == *"$(sed -n "1s/^Usage: /       /;1,2p" <<<"$RUN_USAGE")"* ]] &&
		[[ $OUT == *"$(sed -n 3p <<<"$RUN_USAGE")"* ]]'

# usage_error NAME BADWORD ARGS...: exit 2, nothing on stdout, BADWORD and
# the hint on stderr, and the program did not run
usage_error()
{
	local name=$1 bad=$2

	shift 2
	rm -f "$T/ran"
	run "$MPSOCK_CLI" run "$@"
	check_run "$name: exit 2, stderr names '$bad' and says 'Try \"mpsock help\"'" \
		eval '[ "$RC" = 2 ] && [ -z "$OUT" ] && [[ $ERR == *"$bad"* ]] &&
			[[ $ERR == *"Try \"mpsock help\""* ]] && [ ! -e "$T/ran" ]'
}
usage_error "mpsock run" "no command"
usage_error "mpsock run --bogus touch" --bogus --bogus touch "$T/ran"
usage_error "mpsock run -x touch" '"-x"' -x touch "$T/ran"
usage_error "mpsock run --mode bogus touch" '"bogus"' --mode bogus touch "$T/ran"
usage_error "mpsock run --mode=handov touch" '"handov"' --mode=handov touch "$T/ran"
usage_error "mpsock run --mode" '"--mode"' --mode
usage_error "mpsock run --no-mptcp --" "no command" --no-mptcp --

# every mode name, as the shim reads it
for m in default manual aggregate handover interactive; do
	run "${MRUN[@]}" --mode "$m" printenv MPSOCK_MODE
	check_run "--mode $m: the program's MPSOCK_MODE is $m" \
		eval '[ "$RC" = 0 ] && [ "$OUT" = "$m" ] && [ -z "$ERR" ]'
done
run "${MRUN[@]}" --mode=interactive printenv MPSOCK_MODE
check_run "--mode=interactive: the program's MPSOCK_MODE is interactive" \
	eval '[ "$RC" = 0 ] && [ "$OUT" = interactive ]'

# ------------------------------------------------- the program's own things

run "${MRUN[@]}" printf '<%s>\n' 'a b' '' --mode -x '*' "$(printf 'two\nlines')"
check_run "arguments reach the program as given (spaces, empty, dashes, a glob, a newline)" \
	eval '[ "$RC" = 0 ] && [ -z "$ERR" ] &&
		[ "$OUT" = "$(printf "<%s>\n" "a b" "" --mode -x "*" "two
lines")" ]'
run "${MRUN[@]}" --no-mptcp -- printf '<%s>\n' --no-mptcp
check_run "--: the words after CMD are the program's, options included" \
	eval '[ "$RC" = 0 ] && [ "$OUT" = "<--no-mptcp>" ]'
run "${MRUN[@]}" bash -c 'exit 42'
check_run "the program's exit status (42) is mpsock run's" \
	eval '[ "$RC" = 42 ] && [ -z "$ERR" ]'
run "${MRUN[@]}" bash -c 'kill -USR1 $$'
check_run "a signal that ends the program (SIGUSR1) ends mpsock run (128 + 10)" \
	eval '[ "$RC" = 138 ]'
"${MRUN[@]}" bash -c 'echo $$' >"$T/pid.out" 2>&1 &
pid=$!
wait "$pid"
same "exec, no fork: the program's pid is the one started" "$pid" \
	"$(cat "$T/pid.out")"
run "${MRUN[@]}" bash -c 'printf "%s|" "$LD_PRELOAD" "$MPSOCK_PRELOAD_MPTCP" "${MPSOCK_MODE-unset}"'
check_run "the program's environment: the shim in LD_PRELOAD, MPSOCK_PRELOAD_MPTCP=1, no MPSOCK_MODE" \
	eval '[ "$OUT" = "$PRE$SHIM|1|unset|" ]'

# ----------------------------------------------------------------- failures

run "${MRUN[@]}" "no-such-program-$$" arg
check_run "a command not found: 127, named on stderr" \
	eval '[ "$RC" = 127 ] && [ -z "$OUT" ] &&
		[[ $ERR == *"no-such-program-$$: command not found"* ]]'
run "${MRUN[@]}" "$T/no-such-file"
check_run "a path that does not exist: 127, named on stderr" \
	eval '[ "$RC" = 127 ] && [[ $ERR == *"$T/no-such-file: No such file or directory"* ]]'
printf 'echo not for running\n' >"$T/not-executable"
chmod 644 "$T/not-executable"
run "${MRUN[@]}" "$T/not-executable"
check_run "a file that is not executable: 126, named on stderr" \
	eval '[ "$RC" = 126 ] && [ -z "$OUT" ] &&
		[[ $ERR == *"$T/not-executable: Permission denied"* ]]'
run "${MRUN[@]}" "$T"
check_run "a directory: 126" eval '[ "$RC" = 126 ] && [[ $ERR == *"$T"* ]]'

rm -f "$T/ran"
run env MPSOCK_PRELOAD_PATH="$T/no-shim.so" "$MPSOCK_CLI" run touch "$T/ran"
check_run "no shim at MPSOCK_PRELOAD_PATH: exit 1, the path on stderr, the program not run" \
	eval '[ "$RC" = 1 ] && [ -z "$OUT" ] && [[ $ERR == *"$T/no-shim.so"* ]] &&
		[ ! -e "$T/ran" ]'
run env MPSOCK_PRELOAD_PATH="$T" "$MPSOCK_CLI" run touch "$T/ran"
check_run "MPSOCK_PRELOAD_PATH a directory: exit 1, the program not run" \
	eval '[ "$RC" = 1 ] && [[ $ERR == *"not a file"* ]] && [ ! -e "$T/ran" ]'

# ------------------------------------------------------------- LD_PRELOAD

# maps_have FILE...: the last run's output (a /proc/PID/maps) maps each FILE
maps_have()
{
	local f

	for f in "$@"; do
		grep -qF " $f" "$T/run.out" || return 1
	done
}

run nsenter --net="$CLI_NS" -- env "${PROG_ENV[@]}" \
	LD_PRELOAD="${PRE}$LIB " "$MPSOCK_CLI" run bash -c \
	'printf "%s\n" "$LD_PRELOAD"; cat /proc/$$/maps'
check_run "an LD_PRELOAD entry of the caller's is kept, in front, the shim added after it" \
	eval '[ "$(head -n 1 "$T/run.out")" = "$PRE$LIB:$SHIM" ]'
check_run "... and the program loaded both (its /proc/PID/maps)" \
	maps_have "$LIB" "$SHIM"
ln -s "$SHIM" "$T/shim-link.so"
for given in "$SHIM" "$T/shim-link.so" "$LIB:$T/shim-link.so"; do
	run nsenter --net="$CLI_NS" -- env "${PROG_ENV[@]}" \
		LD_PRELOAD="$PRE$given" "$MPSOCK_CLI" run printenv LD_PRELOAD
	check_run "LD_PRELOAD=$given already has the shim: left as it is" \
		eval '[ "$RC" = 0 ] && [ "$OUT" = "$PRE$given" ]'
done

# a program that raises its privileges: ld.so ignores LD_PRELOAD in it
if findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
	ok "setuid and setgid programs # SKIP $T is on a nosuid mount"
else
	for bit in setuid setgid; do
		cp "$(command -v cat)" "$T/cat-$bit"
		chown 65534:65534 "$T/cat-$bit"
		[ "$bit" = setuid ] && chmod 4755 "$T/cat-$bit"
		[ "$bit" = setgid ] && chmod 2755 "$T/cat-$bit"
		run "${MRUN[@]}" "$T/cat-$bit" /proc/self/maps
		check_run "a $bit program: a warning naming it on stderr, then it runs" \
			eval '[ "$RC" = 0 ] && [[ $ERR == *"$T/cat-$bit is $bit"* ]] &&
				[[ $ERR == *"without the shim"* ]]'
		check_run "... and it did run without the shim (its maps)" \
			eval '! maps_have "$SHIM" && grep -q . "$T/run.out"'
	done
	chmod 755 "$T/cat-setgid"
	run "${MRUN[@]}" "$T/cat-setgid" /proc/self/maps
	check_run "the same program without the bit: no warning, the shim loaded" \
		eval '[ "$RC" = 0 ] && [ -z "$ERR" ] && maps_have "$SHIM"'
fi

# ------------------------------------------------- connections: witnesses

# A TCP client in bash: connects to HOST PORT, sends a line, prints what
# the echo server sends back, and holds the connection until the fifo
# HOLD gives it a line or EOF (each wait bounded, so that it always ends).
CLIENT='exec 3<>"/dev/tcp/$1/$2" || exit 3
echo "hello $$" >&3
read -r -t 10 line <&3 || exit 4
echo "echoed: $line"
read -r -t 60 _ <"$3"
exec 3>&-'

# client_start NAME RUNNER...: the client through RUNNER (up to and
# including "run [OPTIONS]") against $S4:$PORT; CL_PID is its pid; waits
# for the echo (1 if it does not come)
client_start()
{
	local name=$1

	shift
	wait_mptcp_idle
	rm -f "$T/$name.hold"
	mkfifo "$T/$name.hold"
	"$@" bash -c "$CLIENT" client "$S4" "$PORT" "$T/$name.hold" \
		>"$T/$name.out" 2>&1 &
	CL_PID=$!
	# opened read-write: it neither blocks nor needs the client
	exec {HOLD_FD}<>"$T/$name.hold"
	poll 10 grep -q '^echoed:' "$T/$name.out" && return 0
	echo "# client $name:" >&2
	sed 's/^/# /' "$T/$name.out" >&2
	return 1
}

# client_stop: let it close; its status
client_stop()
{
	local rc

	exec {HOLD_FD}>&-
	wait "$CL_PID"
	rc=$?
	CL_PID=
	return $rc
}

# sport_of PID SS-OPTIONS: the local port of PID's connection to the
# server, as ss -p shows it (-M: its MPTCP socket; -t: its TCP socket)
sport_of()
{
	nsenter --net="$CLI_NS" -- ss -Hnp "$2" state established \
		"( dport = :$PORT )" | awk -v p="pid=$1," 'index($0, p) {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9.]+:[0-9]+$/) { split($i, a, ":"); print a[2]; exit }
	}'
}

# view: the client's subflows to the server as ss -tiM shows them,
# "LOCALADDR REMOTEADDR b=BACKUP", sorted
view()
{
	ss_subflows "$PORT" | awk '{ split($1, l, ":"); split($2, r, ":")
		print l[1], r[1], $3 }' | sort
}

# cell_sport: the local port of the client's cell subflow (ss -tiM)
cell_sport()
{
	ss_subflows "$PORT" | awk -v c="$C4" '
		{ split($1, l, ":") } l[1] == c { print l[2] }'
}

# srv_flags ADDR:PORT: the ss -tiM flags of the server's subflow from the
# client's ADDR:PORT (B: the client marked it backup); none if not there
srv_flags()
{
	nsenter --net="/run/netns/$TESTNET_SRV_NS" -- ss -tinMH state established \
		"( sport = :$PORT )" | awk -v c="$1" '
	# the listener is IPv6: [::ffff:10.0.2.2]:PORT
	/^[^ \t]/ { peer = $NF; gsub(/\[::ffff:|\]/, "", peer); next }
	/tcp-ulp-mptcp/ && peer == c {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^flags:/) print substr($i, 7)
	}'
}

start_ipmon "$CLI_NS" "$T/mon" || not_ok "ip mptcp monitor subscribed"
BG_PIDS+=("$IPMON_PID")

# mon_has PATTERN...: ip mptcp monitor printed a line matching each
# PATTERN (waiting up to 5 s); if not, what it printed
mon_has()
{
	local p

	for p in "$@"; do
		poll 5 grep -q -- "$p" "$T/mon" && continue
		sed 's/^/# monitor: /' "$T/mon"
		return 1
	done
}

# mpsock run: MPTCP
if client_start mptcp "${MRUN[@]}"; then
	check "the client's pid is the one started, and its line came back" \
		grep -qx "echoed: hello $CL_PID" "$T/mptcp.out"
	SPORT=$(sport_of "$CL_PID" -M)
	check "ss -M: the program holds an MPTCP socket to $S4:$PORT (port ${SPORT:-none})" \
		test -n "$SPORT"
	check "ss -tiM: its subflow $W4:$SPORT -> $S4:$PORT is MPTCP (tcp-ulp-mptcp)" \
		eval "ss_subflows $PORT | grep -q '^$W4:$SPORT $S4:$PORT '"
	check "ip mptcp monitor: CREATED and ESTABLISHED from $W4:$SPORT" \
		mon_has "CREATED.*saddr4=$W4 daddr4=$S4 sport=$SPORT dport=$PORT" \
			"ESTABLISHED.*saddr4=$W4 daddr4=$S4 sport=$SPORT dport=$PORT"
else
	not_ok "mpsock run bash (/dev/tcp) connected"
fi
client_stop
check "the client's exit status after the exchange: 0" test "$?" = 0

# --no-mptcp (and -n NAME instead of nsenter): TCP
if client_start tcp env "${PROG_ENV[@]}" "$MPSOCK_CLI" -n "$TESTNET_CLI_NS" \
	run --no-mptcp; then
	SPORT=$(sport_of "$CL_PID" -t)
	check "--no-mptcp: ss -t: the program holds a TCP connection to $S4:$PORT (port ${SPORT:-none})" \
		test -n "$SPORT"
	check "--no-mptcp: ss -M: no MPTCP socket of the program" \
		test -z "$(sport_of "$CL_PID" -M)"
	check "--no-mptcp: ss -ti: no tcp-ulp-mptcp on $W4:$SPORT" \
		eval "! nsenter --net=$CLI_NS ss -tinH state established \
			'( sport = :$SPORT )' | grep -q tcp-ulp-mptcp"
	# a CREATED would come at once, with the SYN
	check "--no-mptcp: ip mptcp monitor saw nothing from port $SPORT" \
		eval "! grep -q 'sport=$SPORT ' '$T/mon'"
else
	not_ok "mpsock run --no-mptcp bash (/dev/tcp) connected"
fi
client_stop

# --mode: mpsockd as the path manager, policy fullmesh, mode aggregate
start_mpsockd "$(printf 'policy fullmesh\nmode aggregate')" ||
	not_ok "mpsockd starts"
if client_start aggregate "${MRUN[@]}"; then
	poll 5 eval "[ \"\$(view)\" = \"\$(lines '$W4 $S4 b=0' '$C4 $S4 b=0')\" ]"
	same "without --mode: the namespace's mode, the cell subflow regular (ss -tiM)" \
		"$(lines "$W4 $S4 b=0" "$C4 $S4 b=0")" "$(view)"
	CSPORT=$(cell_sport)
	check "without --mode: the server's ss -tiM: $C4:${CSPORT:-?} is not the peer's backup" \
		eval 'f=$(srv_flags "$C4:$CSPORT"); [ -n "$f" ] && [[ $f != *B* ]]'
else
	not_ok "mpsock run bash (/dev/tcp) connected, aggregate"
fi
client_stop

# the same as a user without privileges: a copy of mpsock and the shim it
# can read, the mode asked for through mpsockd
PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_CLI" "$PUB/mpsock"
cp "$SHIM" "$PUB/libmpsock-preload.so"
chmod 755 "$PUB/mpsock" "$PUB/libmpsock-preload.so"
# shellcheck disable=SC2046 # unpriv_prefix is words
if client_start handover $(unpriv_prefix) env "${PROG_ENV[@]}" \
	MPSOCK_PRELOAD_PATH="$PUB/libmpsock-preload.so" "$PUB/mpsock" run \
	--mode handover; then
	check "--mode handover: the program runs as uid 65534" \
		test "$(stat -c %u "/proc/$CL_PID")" = 65534
	poll 5 eval "[ \"\$(view)\" = \"\$(lines '$W4 $S4 b=0' '$C4 $S4 b=1')\" ]"
	same "--mode handover: the cell subflow is a backup (b in ss -tiM)" \
		"$(lines "$W4 $S4 b=0" "$C4 $S4 b=1")" "$(view)"
	CSPORT=$(cell_sport)
	# what the client told the peer (its own SF_ESTABLISHED event may
	# come before mpsockd marks the subflow)
	check "--mode handover: the server's ss -tiM: $C4:${CSPORT:-?} is the peer's backup (B)" \
		poll 5 eval '[[ $(srv_flags "$C4:$CSPORT") == *B* ]]'
else
	not_ok "mpsock run --mode handover bash (/dev/tcp) connected, as uid 65534"
fi
client_stop

kill "$D_PID"
wait "$D_PID"
D_PID=
finish
