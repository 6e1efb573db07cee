#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The mpsock(8) command-line tool against the real kernel.  Several MPTCP
# connections of different processes (root and uid 65534; IPv4, IPv6 and
# v4-mapped; 1 to 3 subflows, local and remote backup) are listed with
# "mpsock show" and every field is compared with independent witnesses:
# ss -tiepnM for connections, subflows, flags, address ids, tokens, inodes,
# uids and owners, and the owning processes' own mpsock_subflow_list() for
# subflow ids.  open/close/backup are checked with ss, monitor with
# ip mptcp monitor.  JSON is read with jq, text against the documented
# format.  Unprivileged use (uid 65534 without capabilities): show, the
# EPERM of the control commands, and monitor through mpsockd.

. "$(dirname "$0")/../netns/lib.sh"

: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"
: "${MPSOCK_VERSION:=}"

[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v jq >/dev/null || skip_all "needs jq"
if [ ! -x "$MPSOCK_CLI" ]; then
	echo "Bail out! $MPSOCK_CLI is not built"
	exit 1
fi

export TESTNET_CLIENT_PM=userspace
netns_setup
T=$TESTNET_TMP
PORT=$TESTNET_MPTCP_PORT
TCP_PORT=$TESTNET_TCP_PORT
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
S_CELL=$TESTNET_SRV_CELL4
S6=$TESTNET_SRV_WIFI6
C4=$TESTNET_CLI_WIFI4
C_CELL=$TESTNET_CLI_CELL4
C_CELL6=$TESTNET_CLI_CELL6

# every process this test starts, killed by pid on exit
declare -A HPID HFD
BG_PIDS=()

cleanup()
{
	local name pid

	for name in "${!HFD[@]}"; do
		eval "exec ${HFD[$name]}>&-"
	done
	for pid in "${HPID[@]}" "${BG_PIDS[@]}" ${D_PID:+"$D_PID"}; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

# copies any user can run (the build tree may be private)
PUB=$(dirname "$(probe_for_anyone)")
cp "$MPSOCK_CTL" "$PUB/mpsock-ctl"
cp "$MPSOCK_CLI" "$PUB/mpsock"
lib=$(ldd "$MPSOCK_CLI" 2>/dev/null | awk '/libmpsock/ { print $3 }')
[ -n "$lib" ] && [ -f "$lib" ] && cp -L "$lib" "$PUB/"
chmod 755 "$PUB"/*

# cli ARGS: the CLI as root in the client namespace
cli()
{
	nsenter --net="$CLI_NS" -- "$MPSOCK_CLI" "$@"
}

# ucli ARGS: the CLI as uid 65534 without capabilities in the client namespace
ucli()
{
	# shellcheck disable=SC2046
	$(unpriv_prefix) env LD_LIBRARY_PATH="$PUB" "$PUB/mpsock" "$@"
}

# run CMD...: RC, OUT and ERR of CMD
run()
{
	"$@" >"$T/run.out" 2>"$T/run.err"
	RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
}

# explain: show the last run's output in the TAP stream
explain()
{
	echo "# rc=$RC"
	sed 's/^/# stdout: /' "$T/run.out"
	sed 's/^/# stderr: /' "$T/run.err"
}

# check_run NAME TEST...: TEST (a command) about the last run; its output on
# failure
check_run()
{
	local name=$1

	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name"
		explain
	fi
}

# hold NAME CMD...: start CMD (an mpsock-ctl) in the background, commands
# from a fifo, answers in $T/NAME.out; wait for "connected"
hold()
{
	local name=$1 fd

	shift
	mkfifo "$T/$name.in"
	"$@" <"$T/$name.in" >"$T/$name.out" 2>&1 &
	HPID[$name]=$!
	exec {fd}>"$T/$name.in"
	HFD[$name]=$fd
	for _ in $(seq 50); do
		grep -q '^connected' "$T/$name.out" && return 0
		kill -0 "${HPID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "# $name did not connect: $(cat "$T/$name.out")"
	return 1
}

# hcmd NAME CMD: one command to holder NAME; its answer lines in REPLY_LINE
hcmd()
{
	local name=$1 n last

	n=$(wc -l <"$T/$name.out")
	echo "$2" >&"${HFD[$name]}"
	for _ in $(seq 300); do
		REPLY_LINE=$(tail -n +$((n + 1)) "$T/$name.out")
		last=${REPLY_LINE##*$'\n'}
		case $last in ok* | err*) return 0 ;; esac
		sleep 0.05
	done
	echo "# $name: no answer to '$2'"
	return 1
}

# unhold NAME: the holder closes its connection and exits
unhold()
{
	echo quit >&"${HFD[$1]}"
	eval "exec ${HFD[$1]}>&-"
	wait "${HPID[$1]}" 2>/dev/null
	unset "HFD[$1]" "HPID[$1]"
}

# The witness.  ss_snapshot NSPATH: every MPTCP connection and subflow of
# the namespace as ss -tiepnM shows them, one line each, sorted:
#   conn TOKEN STATE LOCAL REMOTE uid=N ino=N owners=CMD:PID,...
#   sf TOKEN STATE LOCAL REMOTE b= B= e= j= lid= rid= flags= sent= acked=
#      recv= rtt=RTT/RTTVAR
# TOKEN: the connection's (local) token; v4-mapped addresses as IPv4.
SS_AWK='
function ep(a) {
	gsub(/%[^:\]]*/, "", a)
	if (a ~ /^\[::ffff:[0-9.]+\]:/) {
		a = substr(a, 9)
		sub(/\]/, "", a)
	}
	return a
}
/^[^ \t]/ {
	netid = $1; state = $2; loc = ep($5); rem = ep($6)
	uid = 0; ino = 0; owners = ""
	for (i = 7; i <= NF; i++) {
		if ($i ~ /^uid:/) uid = substr($i, 5)
		if ($i ~ /^ino:/) ino = substr($i, 5)
		if ($i ~ /^users:/) {
			s = $i
			while (match(s, /\("[^"]*",pid=[0-9]+/)) {
				u = substr(s, RSTART + 2, RLENGTH - 2)
				sub(/",pid=/, ":", u)
				owners = owners (owners == "" ? "" : ",") u
				s = substr(s, RSTART + RLENGTH)
			}
		}
	}
	next
}
netid == "mptcp" && state != "LISTEN" {
	tok = ""
	for (i = 1; i <= NF; i++)
		if ($i ~ /^token:/)
			tok = substr($i, 7)
	printf "conn %s %s %s %s uid=%s ino=%s owners=%s\n", tok, state, loc,
		rem, uid, ino, owners
}
netid == "tcp" && state != "LISTEN" && /tcp-ulp-mptcp/ {
	fl = ""; tok = ""; lid = ""; rid = ""; rtt = "0/0"
	sent = 0; acked = 0; recv = 0
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^flags:/) fl = substr($i, 7)
		else if ($i ~ /^token:/) {
			# token:REM(id:R)/LOC(id:L)
			t = $i
			gsub(/[()]/, " ", t); gsub(/\//, " ", t)
			split(t, p, " ")
			tok = p[3]; rid = substr(p[2], 4); lid = substr(p[4], 4)
		}
		else if ($i ~ /^rtt:/) rtt = substr($i, 5)
		else if ($i ~ /^bytes_sent:/) sent = substr($i, 12)
		else if ($i ~ /^bytes_acked:/) acked = substr($i, 13)
		else if ($i ~ /^bytes_received:/) recv = substr($i, 16)
	}
	gsub(/v/, "", fl)
	printf "sf %s %s %s %s b=%d B=%d e=%d j=%d lid=%s rid=%s flags=%s sent=%s acked=%s recv=%s rtt=%s\n",
		tok, state, loc, rem, (index(fl, "b") > 0), (index(fl, "B") > 0),
		(index(fl, "e") > 0), ((index(fl, "J") + index(fl, "j")) > 0),
		lid, rid, fl, sent, acked, recv, rtt
}'

# norm: the token (field 2) in decimal, rtt=X/Y rounded to 0.01 ms
NORM_AWK='
function hex(s,   i, n) {
	n = 0
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
{
	$2 = sprintf("%.0f", hex($2))
	for (i = 3; i <= NF; i++)
		if ($i ~ /^rtt=/) {
			split(substr($i, 5), r, "/")
			$i = sprintf("rtt=%.2f/%.2f", r[1], r[2])
		}
	print
}'

ss_snapshot()
{
	nsenter --net="$1" -- ss -tiepnMH | awk "$SS_AWK" | awk "$NORM_AWK" |
		sort
}

# The CLI's JSON in the witness's format (owners sorted by pid).
JQ_LINES='
def ep(a4; a6; p): if a4 != null then "\(a4):\(p)"
	elif a6 != null then "[\(a6)]:\(p)" else "?:\(p)" end;
def bit(v): if v == true then 1 elif v == false then 0 else "?" end;
def hexn: ltrimstr("0x") | ascii_downcase | explode
	| reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
def letters: if (.flags | type) != "string" then "?" else
	(.flags | hexn) as $f
	| [[1, "M"], [2, "m"], [4, "J"], [8, "j"], [16, "B"], [32, "b"],
	   [64, "e"], [128, "c"]]
	| map(select((($f / .[0]) | floor) % 2 == 1) | .[1]) | join("") end;
.[] | .token as $t |
	"conn \($t) \(.state) \(ep(.saddr4; .saddr6; .sport)) \(ep(.daddr4; .daddr6; .dport)) uid=\(.uid) ino=\(.inode) owners=\([.owners // [] | sort_by(.pid) | .[] | "\(.cmd):\(.pid)"] | join(","))",
	(.subflows // [] | .[] | "sf \($t) \(.state) \(ep(.saddr4; .saddr6; .sport)) \(ep(.daddr4; .daddr6; .dport)) b=\(bit(.backup)) B=\(bit(.backup_remote)) e=\(bit(.fully_established)) j=\(bit(.join)) lid=\(.locid) rid=\(.remid) flags=\(letters) sent=\(.bytes_sent) acked=\(.bytes_acked) recv=\(.bytes_received) rtt=\(.rtt)/\(.rttvar)")'

# json_lines FILE: the CLI's JSON in the witness's format
json_lines()
{
	jq -r "$JQ_LINES" "$1" | awk "$NORM_AWK" | sort
}

# jqt FILE TOKEN FILTER: FILTER on that connection's object (-c, -r)
jqt()
{
	jq -cr --arg t "$2" ".[] | select(.token == \$t) | $3" "$1"
}

# snap NSPATH CMD...: run CMD between two witness snapshots, again until
# the namespace did not change meanwhile (for 15 s at most, then saying
# so: what follows compares CMD's output with a snapshot it may not
# match); CMD's output in $T/snap.out, the snapshot in SS
snap()
{
	local ns=$1 ss2 end=$((SECONDS + 15))

	shift
	while :; do
		SS=$(ss_snapshot "$ns")
		"$@" >"$T/snap.out" 2>"$T/snap.err"
		SNAP_RC=$?
		ss2=$(ss_snapshot "$ns")
		[ "$SS" = "$ss2" ] && break
		if ((SECONDS >= end)); then
			echo "# snap: the namespace kept changing for 15 s around: $*"
			break
		fi
		sleep 0.3
	done
	sed 's/^/# stderr: /' "$T/snap.err"
}

# dec HEX: a token in decimal; hex8 DEC: as 8 hex digits
dec() { awk "$NORM_AWK" <<<"x $1" | awk '{ print $2 }'; }
hex8() { printf '%08x' "$1"; }

# ss_token_of PID: the token (decimal) of the connection PID holds
ss_token_of()
{
	ss_snapshot "$CLI_NS" | awk -v p=":$1" '$1 == "conn" {
		n = split(substr($8, 8), o, ",")
		for (i = 1; i <= n; i++)
			if (substr(o[i], length(o[i]) - length(p) + 1) == p)
				print $2
	}'
}

# ss_sf TOKEN LOCAL-PATTERN REMOTE: witness lines of that connection's
# subflows (states ESTAB only) whose local address matches the awk regex
ss_sf()
{
	ss_snapshot "$CLI_NS" | awk -v t="$1" -v l="$2" -v r="$3" \
		'$1 == "sf" && $2 == t && $3 == "ESTAB" && $4 ~ l && $5 == r'
}

# wait_for CMD...: up to 5 s for CMD to succeed
wait_for() { poll 5 "$@"; }

nonempty() { [ -n "$(eval "$1")" ]; }
TAB=$'\t'


# ---------------------------------------------------------------- usage

USAGE='Usage: mpsock [ OPTIONS ] COMMAND [ ARGS ]
       mpsock [ OPTIONS ] show [ token TOKEN ] [ --watch [ -i SECONDS ] ]
       mpsock [ OPTIONS ] monitor [ token TOKEN ]
       mpsock [ OPTIONS ] open token TOKEN local ADDR [ lport PORT ]
                               remote ADDR [ rport PORT ] [ backup ] [ wait ]
       mpsock [ OPTIONS ] close token TOKEN SUBFLOW [ reset ]
       mpsock [ OPTIONS ] backup token TOKEN SUBFLOW { on | off }
       mpsock [ OPTIONS ] check [ CAPABILITY... ]
       mpsock [ OPTIONS ] run [ --mode MODE ] [ --no-mptcp ] [ -- ]
                              CMD [ ARGS... ]
       mpsock help
SUBFLOW := { id ID | local ADDR lport PORT remote ADDR rport PORT }
MODE := { default | manual | aggregate | handover | interactive }
OPTIONS := { -j[son] | -p[retty] | -n[etns] NAME | -t[imestamp] |
             -H | -O[neline] | -V[ersion] | -h[elp] }'

for how in help --help -h -help; do
	run "$MPSOCK_CLI" $how
	check_run "mpsock $how: exit 0, the usage text on stdout, nothing on stderr" \
		eval '[ "$RC" = 0 ] && [ "$OUT" = "$USAGE" ] && [ -z "$ERR" ]'
done

# mpsock(8)'s SYNOPSIS: the usage text without "Usage: " and the indent of
# its command lines, blank lines aside
same "mpsock(8)'s SYNOPSIS is the usage text" \
	"$(awk '!done && /^(Usage: |       )/ { print substr($0, 8); next }
		{ done = 1; print }' <<<"$USAGE")" \
	"$(awk '/^# SYNOPSIS/ { s = 1; next }
		s && /^```/ { if (++n == 2) exit; next }
		s && n == 1 && NF' "$_TESTNET_ROOT/man/mpsock.8.scd")"

# usage_error NAME BADWORD ARGS...: exit 2, nothing on stdout, BADWORD
# (as given, or quoted as getopt(3) does: 'x') and the hint on stderr
usage_error()
{
	local name=$1 bad=$2

	shift 2
	run "$MPSOCK_CLI" "$@"
	check_run "$name: exit 2, stderr names '$bad' and says 'Try \"mpsock help\"'" \
		eval '[ "$RC" = 2 ] && [ -z "$OUT" ] &&
			[[ $ERR == *"$bad"* || $ERR == *"'"'"'${bad#-}'"'"'"* ]] &&
			[[ $ERR == *"Try \"mpsock help\""* ]]'
}

# misuse prints the usage text on stderr
run "$MPSOCK_CLI" bogus
check_run "mpsock bogus: exit 2, the usage text on stderr, naming 'bogus'" \
	eval '[ "$RC" = 2 ] && [ -z "$OUT" ] && [[ $ERR == *"$USAGE"* ]] &&
		[[ $ERR == *bogus* ]] && [[ $ERR == *"Try \"mpsock help\""* ]]'
run "$MPSOCK_CLI"
check_run "mpsock without a command: exit 2, the usage text on stderr" \
	eval '[ "$RC" = 2 ] && [ -z "$OUT" ] && [[ $ERR == *"$USAGE"* ]]'
usage_error "mpsock -x show" -x -x show
usage_error "mpsock show tokn 1" tokn show tokn 1
usage_error "mpsock backup token 1a2b3c4d id 1 maybe" maybe \
	backup token 1a2b3c4d id 1 maybe
usage_error "mpsock open token xyz ..." xyz \
	open token xyz local "$C_CELL" remote "$S4"
usage_error "mpsock open ... local 10.0.2.999" 10.0.2.999 \
	open token 1a2b3c4d local 10.0.2.999 remote "$S4"

# missing arguments: exit 2 with the hint, nothing on stdout
missing()
{
	run "$MPSOCK_CLI" "$@"
	check_run "mpsock $*: missing argument: exit 2, 'Try \"mpsock help\"' on stderr" \
		eval '[ "$RC" = 2 ] && [ -z "$OUT" ] &&
			[[ $ERR == *"Try \"mpsock help\""* ]]'
}
missing open
missing open token 1a2b3c4d local "$C_CELL"
missing open token 1a2b3c4d remote "$S4"
missing close token 1a2b3c4d
missing close token 1a2b3c4d local "$C_CELL" lport 1 remote "$S4"
missing backup token 1a2b3c4d id 1
missing show token
missing -n

for how in -V -Version; do
	run "$MPSOCK_CLI" $how
	check_run "mpsock $how: exit 0, the version on stdout" \
		eval '[ "$RC" = 0 ] && [ -z "$ERR" ] &&
			[[ $OUT =~ mpsock.*[0-9]+\.[0-9]+\.[0-9]+ ]] &&
			[[ $OUT == *"$MPSOCK_VERSION"* ]]'
done

# ---------------------------------------------------------- connections

# c1: root, IPv4, three subflows: the initial one, a local backup, and one
# to the server's cell address that the server marks backup (B)
# c2: root, IPv6, two subflows; c3: uid 65534, one subflow;
# c4: root, v4-mapped IPv6; tcp: root, plain TCP (not MPTCP: not listed)
started=1
hold c1 nsenter --net="$CLI_NS" -- "$MPSOCK_CTL" "$S4" "$PORT" || started=0
hold c2 nsenter --net="$CLI_NS" -- "$MPSOCK_CTL" "$S6" "$PORT" || started=0
# shellcheck disable=SC2046
hold c3 $(unpriv_prefix) "$PUB/mpsock-ctl" "$S4" "$PORT" || started=0
hold c4 nsenter --net="$CLI_NS" -- "$MPSOCK_CTL" "::ffff:$S4" "$PORT" ||
	started=0
hold tcp nsenter --net="$CLI_NS" -- "$MPSOCK_CTL" -P "$S4" "$TCP_PORT" ||
	started=0
if [ "$started" = 0 ]; then
	echo "Bail out! the connections could not be started"
	exit 1
fi
for c in c1 c2 c3 c4 tcp; do
	hcmd "$c" echo
	[ "$REPLY_LINE" = "ok bytes=5" ] || echo "# $c: echo: $REPLY_LINE"
	hcmd "$c" pid
	if [ "$REPLY_LINE" != "ok pid=${HPID[$c]}" ]; then
		echo "Bail out! $c: pid ${HPID[$c]} is not the holder ($REPLY_LINE)"
		exit 1
	fi
done

hcmd c1 "open $C_CELL:0 $S4:0 backup wait 3000"
echo "# c1: $REPLY_LINE"
nsenter --net="$SRV_NS" ip mptcp endpoint add "$S_CELL" id 1 signal
hcmd c1 "open $C_CELL:0 $S_CELL:0 wait 3000"
echo "# c1: $REPLY_LINE"
# the server makes its cell address a backup: MP_PRIO, B on our side
nsenter --net="$SRV_NS" ip mptcp endpoint change id 1 backup
hcmd c2 "open [$C_CELL6]:0 [$S6]:0 wait 3000"
echo "# c2: $REPLY_LINE"

declare -A TOK
for c in c1 c2 c3 c4; do
	TOK[$c]=$(ss_token_of "${HPID[$c]}")
done
settled()
{
	local s

	s=$(ss_snapshot "$CLI_NS")
	[ "$(grep -c "^sf ${TOK[c1]} ESTAB" <<<"$s")" = 3 ] &&
		[ "$(grep -c "^sf ${TOK[c2]} ESTAB" <<<"$s")" = 2 ] &&
		grep -q "^sf ${TOK[c1]} ESTAB $C_CELL:[0-9]* $S_CELL:$PORT b=0 B=1 " <<<"$s" &&
		grep -q "^sf ${TOK[c1]} ESTAB $C_CELL:[0-9]* $S4:$PORT b=1 B=0 " <<<"$s"
}
if ! wait_for settled; then
	echo "Bail out! the connections did not reach the planned state"
	ss_snapshot "$CLI_NS" | sed 's/^/# /'
	exit 1
fi
# (late ACKs may still change a counter: snap retries until ss is steady)

# ------------------------------------------------------- show -j, as root

snap "$CLI_NS" cli -j show
cp "$T/snap.out" "$T/show.json"
check "show -j: exit 0" test "$SNAP_RC" = 0
check "show -j: one JSON array" \
	eval '[ "$(jq -r type "$T/show.json" 2>/dev/null)" = array ]'
SHOW=$(json_lines "$T/show.json")

NCONN=$(grep '^sf ' <<<"$SS" | awk '{ print $2 }' | sort -u | wc -l)
check "show -j: $NCONN connections, as many as distinct tokens in ss -tiM" \
	eval '[ "$NCONN" -ge 4 ] && [ "$(jq length "$T/show.json")" = "$NCONN" ]'
check "show -j: every token is 8 lowercase hex digits" \
	eval '[ "$(jq -r ".[].token" "$T/show.json" | grep -cvx "[0-9a-f]\{8\}")" = 0 ] &&
		[ "$(jq -r ".[].token" "$T/show.json" | wc -l)" = "$NCONN" ]'
same "show -j: connections (token state tuple uid inode owners) = ss -tiepM" \
	"$(grep '^conn ' <<<"$SS")" "$(grep '^conn ' <<<"$SHOW")"
for c in c1 c2 c3 c4; do
	t=${TOK[$c]}
	exp=$(grep "^sf $t " <<<"$SS")
	if [ -z "$exp" ]; then
		not_ok "$c: ss -tiM shows its subflows"
		continue
	fi
	same "show -j: $c ($(hex8 "$t")): $(wc -l <<<"$exp") subflows, tuples, flags, b, B, locid, remid, token, bytes, rtt = ss -tiM" \
		"$exp" "$(grep "^sf $t " <<<"$SHOW")"
	same "show -j: $c: owners = [pid ${HPID[$c]} mpsock-ctl]" \
		"[{\"pid\":${HPID[$c]},\"cmd\":\"mpsock-ctl\"}]" \
		"$(jqt "$T/show.json" "$(hex8 "$t")" '.owners | map({pid: .pid, cmd: .cmd})')"
	# the subflow ids the owner itself reads with mpsock_subflow_list()
	hcmd "$c" list
	exp=$(awk '/^sf id=/ { sub(/id=/, "", $2); sub(/local=/, "", $4);
		sub(/remote=/, "", $5); print $2, $4, $5 }' <<<"$REPLY_LINE" |
		sed 's/\[::ffff:\([0-9.]*\)\]/\1/g' | sort)
	got=$(jq -r --arg t "$(hex8 "$t")" '.[] | select(.token == $t) |
		.subflows[] | "\(.id) \(if .saddr4 then .saddr4 else "[\(.saddr6)]" end):\(.sport) \(if .daddr4 then .daddr4 else "[\(.daddr6)]" end):\(.dport)"' \
		"$T/show.json" | sort)
	if [ -n "$exp" ]; then
		same "show -j: $c: subflow ids = the owner's mpsock_subflow_list()" \
			"$exp" "$got"
	else
		not_ok "show -j: $c: the owner lists its subflows ($REPLY_LINE)"
	fi
done
same "show -j: the v4-mapped connection (c4) has saddr4/daddr4, not saddr6" \
	"$C4 $S4 null null" "$(jqt "$T/show.json" "$(hex8 "${TOK[c4]}")" \
	'[.saddr4, .daddr4, .saddr6, .daddr6] | map(tostring) | join(" ")')"
same "show -j: the IPv6 connection (c2) has saddr6/daddr6" \
	"$TESTNET_CLI_WIFI6 $S6 null" "$(jqt "$T/show.json" "$(hex8 "${TOK[c2]}")" \
	'[.saddr6, .daddr6, .saddr4] | map(tostring) | join(" ")')"
check "show -j: the plain TCP connection (ss: to port $TCP_PORT) is not listed" \
	eval 'nsenter --net="$CLI_NS" ss -tnH state established "( dport = :$TCP_PORT )" | grep -q . &&
		[ "$(jq "[.[] | select(.dport == $TCP_PORT)] | length" "$T/show.json")" = 0 ]'
check "show -j: every subflow has its id as root" \
	eval '[ "$(jq "[.[].subflows[] | select(has(\"id\") | not)] | length" "$T/show.json")" = 0 ]'

# --------------------------------------------------- options, show token

snap "$CLI_NS" cli -j -p show
check "-j -p: pretty (several lines per connection), the same connections" \
	eval '[ "$(wc -l <"$T/snap.out")" -gt "$((NCONN * 4))" ] &&
		[ "$(json_lines "$T/snap.out" | grep "^conn")" = "$(grep "^conn" <<<"$SS")" ]'
snap "$CLI_NS" cli -json show
check "-json: the long option" \
	eval '[ "$(json_lines "$T/snap.out" | grep "^conn")" = "$(grep "^conn" <<<"$SS")" ]'
snap "$CLI_NS" "$MPSOCK_CLI" -netns "$TESTNET_CLI_NS" -j show
check "-netns NAME: the long option" \
	eval '[ "$SNAP_RC" = 0 ] && [ "$(json_lines "$T/snap.out" | grep "^conn")" = "$(grep "^conn" <<<"$SS")" ]'
t1=$(hex8 "${TOK[c1]}")
snap "$CLI_NS" cli -j show token "$t1"
check "show token $t1: only that connection, all 3 subflows" \
	eval '[ "$(jq -r ".[].token" "$T/snap.out")" = "$t1" ] &&
		[ "$(jq ".[0].subflows | length" "$T/snap.out")" = 3 ]'
snap "$CLI_NS" "$MPSOCK_CLI" -n "$TESTNET_CLI_NS" -j show
check "-n $TESTNET_CLI_NS from the host namespace: the client's connections" \
	eval '[ "$(json_lines "$T/snap.out" | grep "^conn")" = "$(grep "^conn" <<<"$SS")" ]'
# the server's namespace: accepted connections of mpsock-testsrv, not its
# listener
SRV_PID=$(cat "$T/mptcp-srv.pid")
snap "$SRV_NS" "$MPSOCK_CLI" -n "$TESTNET_SRV_NS" -j show
check "-n server namespace: exit 0" test "$SNAP_RC" = 0
same "-n server namespace: connections and subflows = ss -tiepM there" \
	"$SS" "$(json_lines "$T/snap.out")"
check "-n server namespace: owned by mpsock-testsrv ($SRV_PID), no listener" \
	eval '[ "$(jq -r "[.[] | .owners == [{\"pid\": $SRV_PID, \"cmd\": \"mpsock-testsrv\"}] and .state != \"LISTEN\"] | all" "$T/snap.out")" = true ] &&
		[ "$(jq length "$T/snap.out")" -ge 4 ]'

# ------------------------------------------------------------ text show

# text_check SS TEXTFILE CONN: CONN's lines in the text output against the
# witness; prints what differs
text_check()
{
	local ss=$1 file=$2 c=$3 t line sfl want owners l r st words rest
	local b j e wrtt rtt id fail=0

	t=${TOK[$c]}
	line=$(grep "^conn $t " <<<"$ss")
	read -r _ _ st l r _ _ owners <<<"$line"
	owners=${owners#owners=}
	want="token $(hex8 "$t") $st $l $r uid $(sed -n 's/.* uid=\([0-9]*\) .*/\1/p' <<<"$line") users:(($(sed 's/\([^:,]*\):\([0-9]*\)/"\1",pid=\2/g; s/,"/),("/g' <<<"$owners")))"
	if ! grep -qxF -- "$want" "$file"; then
		echo "# no line: $want"
		fail=1
	fi
	# the subflow lines that follow it
	sfl=$(awk -v w="$want" '$0 == w { on = 1; next }
		/^[^\t]/ { on = 0 } on' "$file")
	if [ "$(wc -l <<<"$sfl")" != "$(grep -c "^sf $t " <<<"$ss")" ]; then
		echo "# $(wc -l <<<"$sfl") subflow lines under it, wanted $(grep -c "^sf $t " <<<"$ss")"
		fail=1
	fi
	hcmd "$c" list
	while read -r _ _ st l r b _ e j lid rid _ _ _ _ wrtt; do
		id=$(sed 's/\[::ffff:\([0-9.]*\)\]/\1/g' <<<"$REPLY_LINE" |
			awk -v l="local=$l" -v r="remote=$r" \
			'$4 == l && $5 == r { sub(/id=/, "", $2); print $2 }')
		line=$(grep -F -- " $l $r " <<<"$sfl")
		want="${TAB}id $id locid ${lid#lid=} remid ${rid#rid=} $l $r $st "
		if [ "${line:0:${#want}}" != "$want" ] || [ -z "$id" ]; then
			echo "# subflow line for $l $r: '$line', wanted it to start with '$want'"
			fail=1
			continue
		fi
		rest=${line:${#want}}
		words=" ${rest%%rtt:*}"
		rtt=${rest#*rtt:}
		rtt=${rtt%% *}
		want=$([ "$b" = b=1 ] && echo 1)$([ "$j" = j=1 ] && echo 2)$([ "$e" = e=1 ] && echo 3)
		if [ "$([[ $words == *" backup "* ]] && echo 1)$([[ $words == *" join "* ]] && echo 2)$([[ $words == *" fully-established "* ]] && echo 3)" != "$want" ]; then
			echo "# flags of $l $r: '$words' for $b $j $e"
			fail=1
		fi
		if [ "$(awk -v a="$rtt" -v b="${wrtt#rtt=}" 'BEGIN {
			split(a, x, "/"); split(b, y, "/")
			printf "%.2f/%.2f", x[1], x[2]; exit }')" != "${wrtt#rtt=}" ]; then
			echo "# rtt of $l $r: '$rtt', ss: ${wrtt#rtt=}"
			fail=1
		fi
		for k in sent:sent acked:acked recv:received; do
			w=$(awk -v t="$t" -v l="$l" -v r="$r" \
				'$1 == "sf" && $2 == t && $4 == l && $5 == r' <<<"$ss" |
				sed -n "s/.* ${k%%:*}=\([0-9]*\) .*/\1/p")
			if [ "$w" != 0 ] && [[ "$rest " != *" bytes_${k#*:}:$w "* ]]; then
				echo "# $l $r: no bytes_${k#*:}:$w in '$rest'"
				fail=1
			fi
		done
	done < <(grep "^sf $t " <<<"$ss")
	return $fail
}

snap "$CLI_NS" cli show
cp "$T/snap.out" "$T/show.txt"
check "show: exit 0, one 'token' line per connection ($NCONN)" \
	eval '[ "$SNAP_RC" = 0 ] && [ "$(grep -c "^token " "$T/show.txt")" = "$NCONN" ]'
check "show: one tab-indented line per subflow" \
	eval '[ "$(grep -c "^${TAB}id " "$T/show.txt")" = "$(grep -c "^sf " <<<"$SS")" ] &&
		[ "$(grep -vc "^token \|^	id " "$T/show.txt")" = 0 ]'
check "show: c1 (IPv4, 3 subflows, b and B) in the documented format = ss -tiepM" \
	text_check "$SS" "$T/show.txt" c1
check "show: c2 (IPv6: [ADDR]:PORT) in the documented format = ss -tiepM" \
	text_check "$SS" "$T/show.txt" c2
check "show: c3 (uid 65534) in the documented format = ss -tiepM" \
	text_check "$SS" "$T/show.txt" c3
check "show: c4 (v4-mapped, printed as IPv4) in the documented format = ss -tiepM" \
	text_check "$SS" "$T/show.txt" c4
run cli -H show
check_run "-H: no header line, the same lines" \
	eval '[ "$RC" = 0 ] && [ "$(sed "s/rtt:[^ ]*//" "$T/run.out")" = "$(sed "s/rtt:[^ ]*//" "$T/show.txt")" ]'
run cli -O show
oneline_ok()
{
	local t l r

	[ "$RC" = 0 ] && [ "$(wc -l <<<"$OUT")" = "$NCONN" ] &&
		[ "$(grep -c '^token ' <<<"$OUT")" = "$NCONN" ] || return 1
	while read -r _ t _ l r _; do
		grep "^token $(hex8 "$t") " <<<"$OUT" | grep -qF " $l $r " ||
			return 1
	done < <(grep '^sf ' <<<"$SS")
}
check_run "-O: one line per connection, with all its subflows" oneline_ok

# ------------------------------------------------------ show, uid 65534

snap "$CLI_NS" ucli -j show
cp "$T/snap.out" "$T/ushow.json"
USHOW=$(json_lines "$T/ushow.json")
check "uid 65534: show -j exits 0" test "$SNAP_RC" = 0
same "uid 65534: all connections and subflows, as ss -tiepM (owners aside)" \
	"$(sed 's/ owners=.*//' <<<"$SS")" "$(sed 's/ owners=.*//' <<<"$USHOW")"
t3=$(hex8 "${TOK[c3]}")
same "uid 65534: owners of its own connection c3 = [pid ${HPID[c3]}]" \
	"[{\"pid\":${HPID[c3]},\"cmd\":\"mpsock-ctl\"}]" \
	"$(jqt "$T/ushow.json" "$t3" '.owners | map({pid: .pid, cmd: .cmd})')"
same "uid 65534: no owner of root's connections" 0 \
	"$(jq --arg t "$t3" '[.[] | select(.token != $t) | .owners // [] | length] | add' "$T/ushow.json")"
same "uid 65534: no subflow id on root's connections ($(jq --arg t "$t3" '[.[] | select(.token != $t) | .subflows[]] | length' "$T/ushow.json") subflows)" \
	0 "$(jq --arg t "$t3" '[.[] | select(.token != $t) | .subflows[] | select(has("id"))] | length' "$T/ushow.json")"
hcmd c3 list
same "uid 65534: subflow ids of its own connection = its mpsock_subflow_list()" \
	"$(awk '/^sf id=/ { sub(/id=/, "", $2); sub(/local=/, "", $4); print $2, $4 }' <<<"$REPLY_LINE")" \
	"$(jqt "$T/ushow.json" "$t3" '.subflows[] | "\(.id) \(.saddr4):\(.sport)"')"

# -------------------------------------------------- open, backup, close

BAD=$(hex8 $(((${TOK[c3]} ^ 0x5a5a5a5a) & 0xffffffff)))
while grep -q "^conn $(dec "$BAD") " <<<"$SS"; do
	BAD=$(hex8 $((($(dec "$BAD") + 1) & 0xffffffff)))
done

run cli open token "$t3" local "$C_CELL" remote "$S4"
check_run "open on c3 (held by uid 65534): exit 0, prints 'id N'" \
	eval '[ "$RC" = 0 ] && [[ $OUT =~ ^id\ [0-9]+$ ]]'
ID1=${OUT#id }
check "open: ss -tiM shows $C_CELL:* -> $S4:$PORT on c3" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$C_CELL:' $S4:$PORT"
L1=$(ss_sf "${TOK[c3]}" "^$C_CELL:" "$S4:$PORT" | awk '{ print $4 }')
LP1=${L1##*:}
hcmd c3 list
check "open: the id printed ($ID1) is the one the owner lists for $L1" \
	grep -q "^sf id=$ID1 .* local=$L1 " <<<"$REPLY_LINE"

# a fixed port below the ephemeral range (32768-60999 in a new
# namespace): no socket of the test can hold it already
LP2=31001
run cli -j open token "$t3" local "$C_CELL" lport "$LP2" remote "$S_CELL" \
	rport "$PORT" backup
check_run "open -j ... lport $LP2 ... backup: exit 0, prints {\"id\":N}" \
	eval '[ "$RC" = 0 ] && [ "$(jq -r ".id | type" <<<"$OUT")" = number ]'
ID2=$(jq -r .id <<<"$OUT" 2>/dev/null)
check "open backup: ss -tiM shows $C_CELL:$LP2 -> $S_CELL:$PORT with b" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$C_CELL:$LP2\$' $S_CELL:$PORT | grep ' b=1 '"
hcmd c3 list
check "open -j: the id printed ($ID2) is the one the owner lists for $C_CELL:$LP2" \
	grep -q "^sf id=$ID2 .* local=$C_CELL:$LP2 " <<<"$REPLY_LINE"

run cli open token "$(hex8 "${TOK[c2]}")" local "$C_CELL6" remote \
	"$TESTNET_SRV_CELL6"
check_run "open on c2 with IPv6 addresses: exit 0" test "$RC" = 0
check "open IPv6: ss -tiM shows [$C_CELL6]:* -> [$TESTNET_SRV_CELL6]:$PORT on c2" \
	wait_for nonempty "ss_sf ${TOK[c2]} '^[[]${C_CELL6}[]]:' '[$TESTNET_SRV_CELL6]:$PORT'"

run cli backup token "$t3" local "$C_CELL" lport "$LP1" remote "$S4" rport \
	"$PORT" on
check_run "backup on by tuple: exit 0" test "$RC" = 0
check "backup on: ss -tiM shows b on $L1" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$L1\$' $S4:$PORT | grep ' b=1 '"
run cli backup token "$t3" id "$ID1" off
check_run "backup off by id: exit 0" test "$RC" = 0
check "backup off: ss -tiM shows no b on $L1" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$L1\$' $S4:$PORT | grep ' b=0 '"

# a reset leaves no socket; a graceful close leaves one in TIME-WAIT
# (a device-bound subflow shows as ADDR%DEV:PORT)
ss_tan() { nsenter --net="$CLI_NS" ss -tanH | sed 's/%[^: ]*:/:/g'; }
no_socket() { ! ss_tan | grep -q " $1 "; }
closing_socket()
{
	ss_tan | grep " $1 " |
		grep -q '^\(FIN-WAIT-[12]\|TIME-WAIT\|CLOSING\) '
}
run cli close token "$t3" id "$ID2" reset
check_run "close by id with reset: exit 0" test "$RC" = 0
check "close reset: ss shows no socket from $C_CELL:$LP2 at all (RST)" \
	wait_for no_socket "$C_CELL:$LP2"
run cli close token "$t3" local "$C_CELL" lport "$LP1" remote "$S4" rport \
	"$PORT"
check_run "close by tuple: exit 0" test "$RC" = 0
check "close: ss shows $L1 no longer established but closing (FIN)" \
	wait_for closing_socket "$L1"
hcmd c3 echo
check "c3 still carries data" test "$REPLY_LINE" = "ok bytes=5"

# esrch NAME ARGS: exit 1, ESRCH's text on stderr after "mpsock: COMMAND: "
esrch()
{
	local name=$1 cmd=$2

	shift
	run cli "$@"
	check_run "$name: exit 1, 'mpsock: $cmd: No such process' on stderr" \
		eval '[ "$RC" = 1 ] && [ -z "$OUT" ] &&
			[[ $ERR == "mpsock: $cmd: No such process"* ]]'
}
esrch "open, unknown token $BAD" open token "$BAD" local "$C_CELL" remote "$S4"
esrch "close, unknown token" close token "$BAD" id 1
esrch "backup, unknown token" backup token "$BAD" id 1 on
esrch "close, unknown subflow id" close token "$t3" id 200
esrch "backup, unknown subflow tuple" backup token "$t3" local "$C_CELL" \
	lport 1 remote "$S4" rport "$PORT" on

# eperm NAME ARGS: as uid 65534: exit 1 with EPERM's text
eperm()
{
	local name=$1 cmd=$2

	shift
	run ucli "$@"
	check_run "$name: exit 1, 'mpsock: $cmd: Operation not permitted' on stderr" \
		eval '[ "$RC" = 1 ] && [ -z "$OUT" ] &&
			[[ $ERR == "mpsock: $cmd: Operation not permitted"* ]]'
}
nsf=$(ss_sf "${TOK[c3]}" . "$S4:$PORT" | wc -l)
eperm "uid 65534: open on its own connection" open token "$t3" local \
	"$C_CELL" remote "$S4"
eperm "uid 65534: backup" backup token "$t3" id 1 on
eperm "uid 65534: close" close token "$t3" id 1 reset
check "uid 65534: ss -tiM shows c3's subflows unchanged" \
	eval '[ "$(ss_sf "${TOK[c3]}" . "$S4:$PORT" | wc -l)" = "$nsf" ] &&
		[ "$(ss_sf "${TOK[c3]}" . "$S4:$PORT" | grep -c " b=1 ")" = 0 ]'

# ------------------------------------------------------ monitor, as root

EV_KEYS="token remid locid saddr4 saddr6 daddr4 daddr6 sport dport backup error"
# ev_norm: "TYPE key=value..." lines (ip mptcp monitor's, or the CLI's
# text without a timestamp) reduced to EV_KEYS in that order, token in
# decimal, SF_PRIO named SF_PRIORITY
ev_norm()
{
	awk -v keys="$EV_KEYS" '
	function hex(s,   i, n) {
		n = 0
		for (i = 1; i <= length(s); i++)
			n = n * 16 + index("0123456789abcdef", substr(tolower(s), i, 1)) - 1
		return n
	}
	{
		sub(/^\[ */, ""); sub(/\]/, "")
		if ($1 == "SF_PRIO") $1 = "SF_PRIORITY"
		delete v
		for (i = 2; i <= NF; i++) {
			k = $i; sub(/=.*/, "", k)
			v[k] = substr($i, length(k) + 2)
		}
		if ("token" in v) v["token"] = sprintf("%.0f", hex(v["token"]))
		out = $1
		n = split(keys, ks, " ")
		for (i = 1; i <= n; i++)
			if (ks[i] in v)
				out = out " " ks[i] "=" v[ks[i]]
		print out
	}'
}
# ev_json: the CLI's JSON lines as ev_norm input
ev_json()
{
	jq -r '. as $e | [$e.type] + ([$e | keys_unsorted[] | select(. != "type")] |
		map("\(.)=\($e[.] | if . == true then 1 elif . == false then 0 else . end)")) | join(" ")' "$1"
}

start_ipmon "$CLI_NS" "$T/ipmon.txt"
BG_PIDS+=("$IPMON_PID")
nsenter --net="$CLI_NS" -- "$MPSOCK_CLI" -j monitor >"$T/mon.json" \
	2>"$T/mon.err" &
MON_J=$!
BG_PIDS+=("$MON_J")
nsenter --net="$CLI_NS" -- "$MPSOCK_CLI" -t monitor >"$T/mon.txt" \
	2>"$T/mon-t.err" &
MON_T=$!
BG_PIDS+=("$MON_T")
nsenter --net="$CLI_NS" -- "$MPSOCK_CLI" -j monitor token "$t1" \
	>"$T/monf.json" 2>"$T/monf.err" &
MON_F=$!
BG_PIDS+=("$MON_F")
# as root each reads the kernel's event group itself: subscribed before
# the first event
for pid in "$MON_J" "$MON_T" "$MON_F"; do
	poll 10 genl_listening "$CLI_NS" "$pid" ||
		echo "# monitor $pid did not subscribe"
done

# sf_sport HOLDER ID: the local port of subflow ID, as the holder lists it
sf_sport()
{
	hcmd "$1" list
	awk -v id="id=$2" '$2 == id { sub(/.*:/, "", $4); print $4 }' \
		<<<"$REPLY_LINE"
}

# mark HOLDER: an end marker, one more subflow of HOLDER's connection,
# opened and reset; a monitor that printed its SF_CLOSED (events come in
# order) printed everything before it.  Sets MARK_SPORT.
mark()
{
	local id

	hcmd "$1" "open $C_CELL:0 $S4:0 wait 3000"
	id=${REPLY_LINE##*id=}
	MARK_SPORT=$(sf_sport "$1" "$id")
	hcmd "$1" "close $id rst"
}
# text_marked FILE, json_marked FILE: FILE has the marker's SF_CLOSED
text_marked()
{
	grep -Eq "SF_CLOSED.* sport=$MARK_SPORT( |\$)" "$1"
}
json_marked()
{
	jq -e "select(.type == \"SF_CLOSED\" and .sport == $MARK_SPORT)" \
		"$1" 2>/dev/null | grep -q .
}

hcmd c1 "open $C_CELL:0 $S4:0 wait 3000"
K=${REPLY_LINE##*id=}
hcmd c1 list
LK=$(awk -v id="id=$K" '$2 == id { sub(/local=/, "", $4); print $4 }' \
	<<<"$REPLY_LINE")
echo "# c1: subflow $K from $LK"
check "monitor -j: SF_ESTABLISHED of c1 from $LK (token $t1) while it runs (flushed)" \
	wait_for eval "jq -e 'select(.type == \"SF_ESTABLISHED\" and .token == \"$t1\" and .saddr4 == \"$C_CELL\" and .sport == ${LK##*:} and .daddr4 == \"$S4\" and .dport == $PORT)' \"\$T/mon.json\" 2>/dev/null | grep -q ."
hcmd c1 "close $K rst"
# the peer changes its priority: SF_PRIORITY on c1's subflow to it
nsenter --net="$SRV_NS" ip mptcp endpoint change id 1 nobackup
# a new connection: CREATED, ESTABLISHED, ANNOUNCED, CLOSED
hold c5 nsenter --net="$CLI_NS" -- "$MPSOCK_CTL" "$S4" "$PORT"
hcmd c5 echo
wait_for nonempty "ss_token_of ${HPID[c5]}"
t5=$(hex8 "$(ss_token_of "${HPID[c5]}")")
# (its CLOSED is sent when it closes, before unhold returns)
unhold c5
# another connection's event, filtered out by "token $t1"
hcmd c2 "open [$C_CELL6]:0 [$TESTNET_SRV_CELL6]:0 wait 3000"
# c1's marker: seen by all four monitors, the filtered one too
mark c1
echo "# end marker: c1's subflow from port $MARK_SPORT"
wait_for text_marked "$T/ipmon.txt" || echo "# ip mptcp monitor: no end marker"
wait_for json_marked "$T/mon.json" || echo "# monitor -j: no end marker"
wait_for text_marked "$T/mon.txt" || echo "# monitor -t: no end marker"
wait_for json_marked "$T/monf.json" || echo "# monitor -j token: no end marker"
for pid in "$MON_J" "$MON_T" "$MON_F"; do
	kill -0 "$pid" 2>/dev/null || echo "# monitor $pid exited early"
done
kill "${BG_PIDS[@]}" 2>/dev/null
wait "${BG_PIDS[@]}" 2>/dev/null
BG_PIDS=()
sed 's/^/# stderr: /' "$T/mon.err" "$T/mon-t.err" "$T/monf.err"

check "monitor -j: every line is a JSON object with a type and a token" \
	eval '[ -s "$T/mon.json" ] && while read -r l; do
		jq -e "type == \"object\" and (.type | type) == \"string\" and (.token | test(\"^[0-9a-f]{8}$\"))" <<<"$l" >/dev/null 2>&1 || exit 1
		done <"$T/mon.json"'
check "monitor -j: only the documented event types" \
	eval '[ "$(jq -r .type "$T/mon.json" | grep -cvx "CREATED\|ESTABLISHED\|CLOSED\|ANNOUNCED\|REMOVED\|SF_ESTABLISHED\|SF_CLOSED\|SF_PRIORITY\|LOST")" = 0 ]'
IPMON=$(ev_norm <"$T/ipmon.txt")
check "ip mptcp monitor saw the events (SF_ESTABLISHED, SF_CLOSED, SF_PRIORITY, CREATED, CLOSED)" \
	eval 'for e in SF_ESTABLISHED SF_CLOSED SF_PRIORITY CREATED ESTABLISHED ANNOUNCED CLOSED; do
		grep -q "^$e " <<<"$IPMON" || exit 1; done'
same "monitor -j: the events and their fields = ip mptcp monitor" \
	"$IPMON" "$(ev_json "$T/mon.json" | ev_norm)"
check "monitor -t: every line is '[SEC.USEC] TYPE token=T key=value...'" \
	eval '[ -s "$T/mon.txt" ] && [ "$(grep -Evc "^\[[0-9]+\.[0-9]{6}\] (CREATED|ESTABLISHED|CLOSED|ANNOUNCED|REMOVED|SF_ESTABLISHED|SF_CLOSED|SF_PRIORITY|LOST) token=[0-9a-f]{8}( [a-z0-9_]+=[^ =]+)*$" "$T/mon.txt")" = 0 ]'
same "monitor -t: the events and their fields = ip mptcp monitor" \
	"$IPMON" "$(sed 's/^\[[0-9.]*\] //' "$T/mon.txt" | ev_norm)"
check "monitor: the new connection's CREATED, ESTABLISHED and CLOSED ($t5)" \
	eval 'for e in CREATED ESTABLISHED CLOSED; do
		jq -e "select(.type == \"$e\" and .token == \"$t5\")" "$T/mon.json" | grep -q . || exit 1; done'
check "monitor -j token $t1: only c1's events, the same as ip mptcp monitor's" \
	eval '[ "$(jq -r .token "$T/monf.json" | sort -u)" = "$t1" ] &&
		[ "$(ev_json "$T/monf.json" | ev_norm)" = "$(grep " token=${TOK[c1]} " <<<"$IPMON")" ]'

# --------------------------------------------------- monitor, uid 65534

# shellcheck disable=SC2046
run timeout 10 $(unpriv_prefix) env LD_LIBRARY_PATH="$PUB" "$PUB/mpsock" monitor
check_run "uid 65534: monitor without mpsockd: exit 1 with EPERM's text" \
	eval '[ "$RC" = 1 ] && [[ $ERR == "mpsock: monitor: Operation not permitted"* ]]'

# mpsock check without mpsockd, as a user: it says what it cannot know
run ucli -j check mpsockd sockopt:TCP_NODELAY mptcp
check_run "uid 65534, no mpsockd: check: exit 1, JSON, mpsockd does not, MPTCP works" \
	eval '[ "$RC" = 1 ] &&
		[ "$(jq -r "map(.check + \"=\" + .status) | join(\",\")" <<<"$OUT")" = \
		"mptcp=works,mpsockd=does not,sockopt:TCP_NODELAY=does not" ]'
run ucli check mptcp full-info
check_run "uid 65534: check mptcp full-info: exit 0, two text lines that work" \
	eval '[ "$RC" = 0 ] && [ "$(grep -c " works " <<<"$OUT")" = 2 ] &&
		[ "$(wc -l <<<"$OUT")" = 2 ] && [ -z "$ERR" ]'
run cli check no-such-thing
check_run "check with an unknown capability: exit 2, named on stderr" \
	eval '[ "$RC" = 2 ] && [[ $ERR == *"no-such-thing"* ]]'

# -v: it logs each request it answered (below: the subscription)
MPSOCKD_ARGS=-v start_mpsockd
if ! grep -q serving "$T/mpsockd.log"; then
	echo "# mpsockd did not start:"
	sed 's/^/# /' "$T/mpsockd.log"
fi
# With mpsockd, a user acts on the connections of its own processes as
# those processes could (through mpsockd); never on anybody else's.
eperm "uid 65534, mpsockd running: open on root's connection" open \
	token "$t1" local "$C_CELL" remote "$S4"
nsf=$(ss_sf "${TOK[c3]}" . "$S4:$PORT" | wc -l)
run ucli open token "$t3" local "$C_CELL" lport 31002 remote "$S4"
check_run "uid 65534, mpsockd running: open on its own connection: exit 0, 'id N'" \
	eval '[ "$RC" = 0 ] && [[ $OUT =~ ^id\ [0-9]+$ ]] && [ -z "$ERR" ]'
UID3=${OUT#id }
check "uid 65534, mpsockd running: ss -tiM shows the new subflow from $C_CELL:31002" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$C_CELL:31002\$' $S4:$PORT"
run ucli backup token "$t3" id "$UID3" on
check "uid 65534, mpsockd running: backup on its own subflow: ss -tiM shows b" \
	wait_for nonempty "ss_sf ${TOK[c3]} '^$C_CELL:31002\$' $S4:$PORT | grep ' b=1 '"
run ucli close token "$t3" id "$UID3" reset
check_run "uid 65534, mpsockd running: close reset: exit 0" eval '[ "$RC" = 0 ]'
check "uid 65534, mpsockd running: c3 is back to its $nsf subflows" \
	wait_for eval '[ "$(ss_sf "${TOK[c3]}" . "$S4:$PORT" | wc -l)" = "$nsf" ]'

# shellcheck disable=SC2046
$(unpriv_prefix) env LD_LIBRARY_PATH="$PUB" "$PUB/mpsock" -j monitor \
	>"$T/umon.json" 2>"$T/umon.err" &
UMON=$!
BG_PIDS+=("$UMON")
start_ipmon "$CLI_NS" "$T/ipmon2.txt"
BG_PIDS+=("$IPMON_PID")
# mpsockd answers the subscription once it forwards the events
poll 10 grep -q "subscribe-owner request from pid $UMON uid 65534: ok" \
	"$T/mpsockd.log" || echo "# the monitor through mpsockd did not subscribe"
# root's connection first: c3's events come after them
hcmd c1 "open $C_CELL:0 $S4:0 wait 3000"
hcmd c1 "close ${REPLY_LINE##*id=} rst"
run cli open token "$t3" local "$C_CELL" remote "$S4"
ID3=${OUT#id }
hcmd c3 list
L3=$(awk -v id="id=$ID3" '$2 == id { sub(/local=/, "", $4); print $4 }' \
	<<<"$REPLY_LINE")
wait_for nonempty "ss_sf ${TOK[c3]} '^$L3\$' $S4:$PORT" >/dev/null
run cli close token "$t3" id "$ID3" reset
# the last event, c3's SF_CLOSED: both monitors printed all before it
MARK_SPORT=${L3##*:}
wait_for text_marked "$T/ipmon2.txt" || echo "# ip mptcp monitor: no SF_CLOSED of $L3"
wait_for json_marked "$T/umon.json" || echo "# monitor through mpsockd: no SF_CLOSED of $L3"
check "uid 65534: monitor through mpsockd keeps running" kill -0 "$UMON"
kill "${BG_PIDS[@]}" 2>/dev/null
wait "${BG_PIDS[@]}" 2>/dev/null
BG_PIDS=()
sed 's/^/# stderr: /' "$T/umon.err"
check "uid 65534: its connection's SF_ESTABLISHED from $L3 (token $t3)" \
	eval "jq -e 'select(.type == \"SF_ESTABLISHED\" and .token == \"$t3\" and .sport == ${L3##*:})' \"\$T/umon.json\" | grep -q ."
same "uid 65534: its connection's events (type, token) = ip mptcp monitor's for $t3" \
	"$(ev_norm <"$T/ipmon2.txt" | grep " token=${TOK[c3]} " | awk '{ print $1, $2 }')" \
	"$(ev_json "$T/umon.json" | ev_norm | awk '{ print $1, $2 }')"
check "uid 65534: none of root's connections' events (ip mptcp monitor saw c1's)" \
	eval 'ev_norm <"$T/ipmon2.txt" | grep -q " token=${TOK[c1]} " &&
		[ "$(jq -r .token "$T/umon.json" | grep -cvx "$t3")" = 0 ]'
# mpsock check with mpsockd: its policy, its program, its probe of this
# kernel; a user sees the same through mpsockd as root does
run cli -j check
check_run "check as root: a JSON array, every capability once" \
	eval '[ "$(jq -r type <<<"$OUT")" = array ] &&
		[ "$(jq -r ".[].check" <<<"$OUT" | sort -u | wc -l)" = "$(jq length <<<"$OUT")" ]'
for c in mptcp full-info path-manager pm-commands events mpsockd cgroup2 btf \
	bpf netns-cookie; do
	check "check as root: $c works ($(jq -r ".[] | select(.check == \"$c\") | .detail" <<<"$OUT"))" \
		eval "[ \"\$(jq -r '.[] | select(.check == \"$c\") | .status' <<<\"\$OUT\")\" = works ]"
done
check "check: the path manager is userspace in namespace $TESTNET_CLI_NS" \
	eval "jq -r '.[] | select(.check == \"path-manager\") | .detail' <<<\"\$OUT\" |
		grep -q '^userspace, in network namespace $TESTNET_CLI_NS '"
check "check: mpsockd's policy as configured (single)" \
	eval "jq -r '.[] | select(.check == \"mpsockd\") | .detail' <<<\"\$OUT\" |
		grep -q 'policy single, mode aggregate'"
ROOT_SOCKOPT=$(jq -c '[.[] | select(.check | startswith("sockopt:"))]' <<<"$OUT")
check "check: 16 per-subflow options, each probed (none unknown)" \
	eval '[ "$(jq length <<<"$ROOT_SOCKOPT")" = 16 ] &&
		[ "$(jq "[.[] | select(.status == \"info\")] | length" <<<"$ROOT_SOCKOPT")" = 0 ]'
run ucli -j check sockopt
same "check as uid 65534: the same option paths, through mpsockd" \
	"$ROOT_SOCKOPT" "$(jq -c '[.[] | select(.check | startswith("sockopt:"))]' <<<"$OUT")"
run cli check
check_run "check in text: one line per capability, as many as in JSON" \
	eval '[ "$(wc -l <<<"$OUT")" = "$(cli -j check | jq length)" ]'

kill "$D_PID"
wait "$D_PID"
D_PID=

finish
