#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsock show --watch against the real kernel: an idle connection with two
# subflows and one that streams to a sink.  Written to a file for a second
# at -i 0.2, in text and in JSON, the frames come one after another; each
# frame's connections and subflows are those of ss -tiM; from the second
# frame on, the streaming subflow's send rate is positive (and agrees with
# its byte counter over the frames' timestamps), the idle ones' rates are
# 0, and the first frame has none.  On a terminal (script(1)'s pty) frames
# are redrawn in place and the terminal is restored at SIGINT.  SIGINT and
# SIGTERM end it with status 0; a bad -i is a usage error (2).

. "$(dirname "$0")/../netns/lib.sh"

: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"
: "${MPSOCK_EXAMPLES:=$_TESTNET_ROOT/build/examples}"

[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v jq >/dev/null || skip_all "needs jq"
command -v script >/dev/null || skip_all "needs script (util-linux)"

export TESTNET_CLIENT_PM=userspace
netns_setup
T=$TESTNET_TMP
CLI_NS=/run/netns/$TESTNET_CLI_NS
SRV_NS=/run/netns/$TESTNET_SRV_NS
S4=$TESTNET_SRV_WIFI4
C_CELL=$TESTNET_CLI_CELL4
PORT=$TESTNET_MPTCP_PORT
SINK_PORT=5204

# every process this test starts, stopped by pid on exit
PIDS=()
cleanup()
{
	local pid

	[ -n "${CTL_PID:-}" ] && ctl_stop
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	testnet_down
}
trap cleanup EXIT

# run CMD...: RC, OUT and ERR of CMD
run()
{
	"$@" >"$T/run.out" 2>"$T/run.err"
	RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
}

# ---------------------------------------------------------------- usage

# bad_interval ARGS...: exit 2, nothing on stdout, the hint on stderr
bad_interval()
{
	run "$MPSOCK_CLI" show "$@"
	if [ "$RC" = 2 ] && [ -z "$OUT" ] &&
		[[ $ERR == *"Try \"mpsock help\""* ]]; then
		ok "show $*: exit 2, a usage error"
	else
		not_ok "show $*: exit 2, a usage error (rc=$RC: $OUT $ERR)"
	fi
}
for i in 0 0.05 3601 -1 abc 1e-1 0x1 inf nan 1.5s . ""; do
	bad_interval --watch -i "$i"
done
bad_interval --watch -i
bad_interval -i 0.5
bad_interval --watch --bogus
run "$MPSOCK_CLI" show -i 1 --watch token 1 --nothing
check "show -i 1 --watch token 1 --nothing: exit 2, names '--nothing'" \
	eval '[ "$RC" = 2 ] && [[ $ERR == *--nothing* ]]'

# ---------------------------------------------------------- connections

# the idle one: mpsock-ctl, one echo, then a second subflow over cell
MPSOCK_CTL_BIN=$MPSOCK_CTL
ctl_start nsenter --net="$CLI_NS" -- || {
	echo "Bail out! the idle connection did not connect"
	exit 1
}
expect "idle connection: one echo" echo "ok bytes=5"
expect "idle connection: a second subflow over cell" \
	"open $C_CELL:0 $S4:0 wait 3000" "ok id=*"
# the busy one: examples/handover streams (~25 Mbit/s) to a sink, and with
# an interface that never gets an address, never hands over
nsenter --net="$SRV_NS" -- "$MPSOCK_TESTSRV" --mode sink --port $SINK_PORT \
	--pidfile "$T/sink.pid" >"$T/sink.log" 2>&1 &
PIDS+=($!)
poll 5 test -s "$T/sink.pid" || echo "# the sink did not start"
nsenter --net="$CLI_NS" -- "$MPSOCK_EXAMPLES/handover" "$S4" $SINK_PORT 60 \
	mpsock-none "$S4" >"$T/stream.log" 2>&1 &
PIDS+=($!)

hex2dec()
{
	awk 'function hex(s,   i, n) {
		n = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++)
			n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	{ $2 = sprintf("%.0f", hex($2)); print }'
}

# The witness: "conn TOKEN STATE" and "sf TOKEN STATE LOCAL REMOTE" for
# every MPTCP connection and subflow of the client namespace, as ss -tiM
# shows them (tokens in decimal, a device-bound ADDR%DEV as ADDR), sorted
ss_view()
{
	nsenter --net="$CLI_NS" -- ss -tinMH | awk '
	function ep(a) { gsub(/%[^:\]]*/, "", a); return a }
	/^[^ \t]/ { netid = $1; state = $2; loc = ep($5); rem = ep($6); next }
	netid == "mptcp" && state != "LISTEN" {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^token:/)
				print "conn", substr($i, 7), state
	}
	netid == "tcp" && state != "LISTEN" && /tcp-ulp-mptcp/ {
		# token:REMOTE(id:R)/LOCAL(id:L): the local token names ours
		for (i = 1; i <= NF; i++)
			if ($i ~ /^token:/) {
				t = $i
				sub(/^token:[^\/]*\//, "", t); sub(/\(.*/, "", t)
				print "sf", t, state, loc, rem
			}
	}' | hex2dec | sort
}

# the view a text frame (lines on stdin) gives, as ss_view
text_view()
{
	awk '/^token / { t = $2; print "conn", t, $3; next }
	/^\t/ {
		for (i = 1; i <= NF; i++)
			if ($i == "remid")
				print "sf", t, $(i + 4), $(i + 2), $(i + 3)
	}' | hex2dec | sort
}

# the view a JSON frame (one line on stdin) gives, as ss_view
JQ_VIEW='.connections[] | .token as $t |
	"conn \($t) \(.state)",
	(.subflows[] | "sf \($t) \(.state) \(.saddr4):\(.sport) \(.daddr4):\(.dport)")'
json_view() { jq -r "$JQ_VIEW" | hex2dec | sort; }

steady()
{
	local v

	v=$(ss_view)
	[ "$(grep -c '^conn .* ESTAB$' <<<"$v")" = 2 ] &&
		[ "$(grep -c '^sf .* ESTAB .*:'"$PORT"'$' <<<"$v")" = 2 ] &&
		[ "$(grep -c '^sf .* ESTAB .*:'"$SINK_PORT"'$' <<<"$v")" = 1 ] &&
		nsenter --net="$CLI_NS" -- ss -tinMH "( dport = :$SINK_PORT )" |
		grep -q 'bytes_acked:[0-9]\{6,\}'
}
if ! poll 10 steady; then
	echo "Bail out! the connections did not reach the planned state"
	ss_view | sed 's/^/# /'
	sed 's/^/# stream: /' "$T/stream.log"
	exit 1
fi

# frames OUT: how many whole frames OUT holds (text: each ends in a blank
# line; -j: one line each)
frames()
{
	case $1 in
	*.json) wc -l <"$1" ;;
	*) grep -c '^$' "$1" ;;
	esac
}

# watch OUT SIGNAL FRAMES ARGS...: mpsock ARGS, stdout to OUT, until OUT
# holds FRAMES frames (at most 60 s: a loaded machine is slow, not
# wrong), then SIGNAL; WATCH_RC, and the witness before and after
# (VIEW0/1)
watch()
{
	local out=$1 sig=$2 want=$3 pid i

	shift 3
	VIEW0=$(ss_view)
	nsenter --net="$CLI_NS" -- "$MPSOCK_CLI" "$@" >"$out" 2>"$out.err" &
	pid=$!
	for ((i = 0; i < 1200; i++)); do
		[ "$(frames "$out")" -ge "$want" ] && break
		sleep 0.05
	done
	kill -s "$sig" "$pid"
	wait "$pid"
	WATCH_RC=$?
	VIEW1=$(ss_view)
	sed 's/^/# stderr: /' "$out.err"
}

# intervals FILE: the gaps between the frames' timestamps (JSON), one a
# line, in seconds
intervals()
{
	jq -r .timestamp "$1" | awk 'NR > 1 { printf "%.3f\n", $1 - t } { t = $1 }'
}

# ------------------------------------------------------------------ text

watch "$T/w.txt" INT 5 show --watch -i 0.2
check "text: SIGINT: exit 0, nothing on stderr" \
	eval '[ "$WATCH_RC" = 0 ] && [ ! -s "$T/w.txt.err" ]'
same "the witness: ss -tiM the same before and after" "$VIEW0" "$VIEW1"
# frames: a header line, connection and subflow lines, a blank line
nframes=$(grep -c '^Every 0.2s: mpsock show  [0-9-]* [0-9:.]*$' "$T/w.txt")
check "text: several frames ($nframes), each under its header" \
	eval '[ "$nframes" -ge 5 ] &&
		[ "$(grep -c "^\$" "$T/w.txt")" = "$nframes" ]'
awk -v d="$T" '/^Every / { f = sprintf("%s/t%02d", d, ++n) } { print > f }' \
	"$T/w.txt"
bad=
for f in "$T"/t[0-9]*; do
	[ "$(text_view <"$f")" = "$VIEW0" ] || bad="$bad ${f##*/}"
done
check "text: every frame's connections and subflows = ss -tiM${bad:+ (not:$bad)}" \
	test -z "$bad"
[ -n "$bad" ] && diff <(echo "$VIEW0") <(text_view <"$T/t01") | sed 's/^/# /'
check "text: the first frame has no rates" \
	eval '! grep -q "rate_" "$T/t01"'
# rates_of FRAME PORT: "SENT RECEIVED" of each subflow to PORT
rates_of()
{
	awk -v p=":$2" '/^\t/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "remid") r = $(i + 3)
			if ($i ~ /^rate_sent:/) s = substr($i, 11)
			if ($i ~ /^rate_received:/) v = substr($i, 15)
		}
		if (substr(r, length(r) - length(p) + 1) == p)
			print s, v
		s = v = ""
	}' "$1"
}
busy_bad= idle_bad=
for f in "$T"/t[0-9]*; do
	[ "${f##*/}" = t01 ] && continue
	r=$(rates_of "$f" $SINK_PORT)
	[[ $r =~ ^[1-9][0-9]*\ [0-9]+$ ]] || busy_bad="$busy_bad ${f##*/}:'$r'"
	r=$(rates_of "$f" "$PORT" | tr '\n' ' ')
	[ "$r" = "0 0 0 0 " ] || idle_bad="$idle_bad ${f##*/}:'$r'"
done
check "text: from frame 2 on, the streaming subflow's rate_sent > 0${busy_bad:+ (not:$busy_bad)}" \
	test -z "$busy_bad"
check "text: from frame 2 on, the idle subflows' rates are 0${idle_bad:+ (not:$idle_bad)}" \
	test -z "$idle_bad"
grep ":$SINK_PORT .*rate_sent" "$T/t02" | sed 's/^/# frame 2: /'

# ------------------------------------------------------------------ JSON

watch "$T/w.json" INT 5 -j show --watch -i 0.2
check "-j: SIGINT: exit 0, nothing on stderr" \
	eval '[ "$WATCH_RC" = 0 ] && [ ! -s "$T/w.json.err" ]'
same "the witness: ss -tiM the same before and after" "$VIEW0" "$VIEW1"
nframes=$(wc -l <"$T/w.json")
check "-j: several frames ($nframes), one JSON object a line, each parsed by jq" \
	eval '[ "$nframes" -ge 5 ] &&
		while read -r l; do
			jq -e "type == \"object\" and .interval == 0.2 and
				(.timestamp | type) == \"number\" and
				(.connections | type) == \"array\"" <<<"$l" \
				>/dev/null || exit 1
		done <"$T/w.json"'
bad=
n=0
while read -r l; do
	n=$((n + 1))
	[ "$(json_view <<<"$l")" = "$VIEW0" ] || bad="$bad $n"
done <"$T/w.json"
check "-j: every frame's connections and subflows = ss -tiM${bad:+ (not:$bad)}" \
	test -z "$bad"
# -i is kept: frames come every 0.2 s on a schedule, each stamped when its
# subflows were read, so one late read shortens the next gap: over N
# frames, the span is at least (N - 2) intervals and at most N - 1 seconds
# (the default -i 1 would be slower)
gaps=$(intervals "$T/w.json" | tr '\n' ' ')
span=$(jq -s '(.[-1].timestamp - .[0].timestamp) * 1000 | floor' "$T/w.json")
check "-j: $nframes frames spaced by -i 0.2 (gaps: $gaps)" \
	eval '[ "$span" -ge $(((nframes - 2) * 200)) ] &&
		[ "$span" -lt $(((nframes - 1) * 1000)) ]'
check "-j: the first frame has no rates" \
	eval '[ "$(head -n 1 "$T/w.json" | jq "[.connections[].subflows[] | select(has(\"rate_sent\") or has(\"rate_received\"))] | length")" = 0 ]'
# per frame from the second: the busy subflow's rate, and the rate its
# bytes_sent and the frames' timestamps give; the idle subflows' rates
jq -r --argjson p "$SINK_PORT" '[.timestamp, (.connections[].subflows[] |
	select(.dport == $p) | .bytes_sent, .rate_sent // "none")] |
	map(tostring) | join(" ")' "$T/w.json" >"$T/busy"
jq -r --argjson p "$PORT" '[.connections[].subflows[] | select(.dport == $p) |
	"\(.rate_sent // "none")/\(.rate_received // "none")"] | join(" ")' \
	"$T/w.json" >"$T/idle"
check "-j: from frame 2 on, the streaming subflow's rate_sent > 0 and within 2x of its bytes_sent per second" \
	awk 'NR > 1 { r = $3; d = ($2 - b) / ($1 - t)
		if (r == "none" || r <= 0 || r < d / 2 || r > d * 2) bad = 1
		printf "# frame %d: rate_sent %s, bytes_sent/s %.0f\n", NR, r, d }
		{ t = $1; b = $2 } END { exit bad || NR < 2 }' "$T/busy"
check "-j: from frame 2 on, the idle subflows' rates are 0" \
	eval '[ "$(tail -n +2 "$T/idle" | sort -u)" = "0/0 0/0" ]'

# ------------------------------------------------------- SIGTERM, -H, -i

tok=$(head -n 1 "$T/w.json" | jq -r '.connections[0].token')
# (a second frame would come 1.5 s after the first)
watch "$T/term.txt" TERM 1 -H show --watch -i 1.5 token "$tok"
check "-H show --watch -i 1.5 token T: SIGTERM: exit 0, one frame without header: one connection" \
	eval '[ "$WATCH_RC" = 0 ] && ! grep -q "^Every" "$T/term.txt" &&
		[ "$(grep -c "^token " "$T/term.txt")" = 1 ] &&
		[ "$(tail -n 1 "$T/term.txt")" = "" ]'

# ------------------------------------------------------------- terminal

# on a pty (script(1)): the alternate screen and a hidden cursor, each
# frame from the top of a cleared screen, both restored at SIGINT
# (script -f writes the log as it comes: SIGINT once it holds 5 frames;
# the log's first line quotes the command, hence the count below of what
# follows that line).  script -c runs its command with $SHELL, or /bin/sh
# where the environment has none (as CI's has not): the command is a bash
# script run by bash, whatever the caller's shell.
cat >"$T/tty.sh" <<EOF_TTY
nsenter --net=$CLI_NS -- $MPSOCK_CLI show --watch -i 0.2 & p=\$!
for ((i = 0; i < 1200; i++)); do
	[ \$(tail -n +2 $T/tty.log | grep -o 'Every 0[.]2s' | wc -l) -ge 5 ] && break
	sleep 0.05
done
kill -s INT \$p; wait \$p; echo rc=\$?
EOF_TTY
script -qfec "bash $T/tty.sh" "$T/tty.log" >/dev/null 2>"$T/tty.err" </dev/null
if [ -s "$T/tty.err" ]; then sed "s/^/# script: /" "$T/tty.err"; fi
check "terminal: SIGINT: exit 0" grep -q 'rc=0' "$T/tty.log"
ENTER=$'\e[?1049h\e[?25l'
LEAVE=$'\e[?25h\e[?1049l'
REDRAW=$'\e[H\e[J'
# (after the header line script(1) writes)
tty_out=$(tail -n +2 "$T/tty.log")
nredraw=$(grep -oF "$REDRAW" <<<"$tty_out" | wc -l)
check "terminal: the alternate screen first, then frames redrawn in place ($nredraw times cursor home, clear)" \
	eval '[[ $tty_out == "$ENTER$REDRAW"Every* ]] && [ "$nredraw" -ge 5 ] &&
		[ "$(grep -o "Every 0.2s" <<<"$tty_out" | wc -l)" = "$nredraw" ]'
check "terminal: restored at the end (cursor shown, normal screen)" \
	eval '[[ ${tty_out%%rc=*} == *"$LEAVE"* ]] &&
		[[ ${tty_out##*"$LEAVE"} != *"Every"* ]]'

finish
