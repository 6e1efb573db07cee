#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sourced by the path manager's namespace tests, after lib.sh and
# netns_setup: mpsockd started and stopped with a configuration, clients
# (tests/tools/mpsock-pmclient) against a server, each connection's
# subflows as the client's and the server's ss -tiM show them, and
# ip mptcp monitor.  Expects T, CLI_NS, SRV_NS and CK (the checksum
# server's port) set, and the arrays CL_PID CL_FD CL_SPORT CL_PORT CL_TOK
# and BG_PIDS declared.

: "${MPSOCK_PMCLIENT:=$_TESTNET_ROOT/build/tests/tools/mpsock-pmclient}"

cli() { nsenter --net="$CLI_NS" -- "$@"; }
srv() { nsenter --net="$SRV_NS" -- "$@"; }


# ------------------------------------------------------------------ mpsockd

# pm_start CONFIG: (re)start the client's mpsockd with that configuration
pm_start()
{
	pm_stop
	start_mpsockd "$1"
	if ! grep -q serving "$T/mpsockd.log"; then
		echo "# mpsockd did not start with: $1" >&2
		sed 's/^/# /' "$T/mpsockd.log" >&2
		return 1
	fi
}

pm_stop()
{
	[ -n "${D_PID:-}" ] || return 0
	kill "$D_PID"
	wait "$D_PID" 2>/dev/null
	D_PID=
	cat "$T/mpsockd.log" >>"$T/mpsockd-all.log"
	: >"$T/mpsockd.log"
}

# ------------------------------------------------- clients (mpsock-pmclient)

# cl_start NAME ARGS...: a client in the client namespace against the
# checksum server (ARGS end with HOST PORT), commands through a fifo
cl_start()
{
	local name=$1 fd

	shift
	rm -f "$T/$name.in"
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
	cl_token "$name"
}

# cl_token NAME: find and keep the token of NAME's (first) connection
cl_token()
{
	local i

	for i in $(seq 50); do
		CL_TOK[$1]=$(tok_of "$(cl_port "$1")" "${CL_SPORT[$1]}")
		[ -n "${CL_TOK[$1]}" ] && return 0
		sleep 0.1
	done
	echo "# no token found for $1" >&2
	return 1
}

# cl_cmd NAME CMD: one command; its answer in REPLY_LINE
cl_cmd()
{
	local n

	n=$(wc -l <"$T/$1.out")
	echo "$2" >&"${CL_FD[$1]}"
	poll 10 eval "[ \$(wc -l <'$T/$1.out') -gt $n ]"
	REPLY_LINE=$(tail -n 1 "$T/$1.out")
}

# cl_stop NAME: stop it; VERIFIED is its "verified" line, returns its status
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

# check_verified NAME: stop client NAME, every byte arrived
check_verified()
{
	cl_stop "$1"
	local rc=$?

	check "$1: every byte the server received is verified ($VERIFIED)" \
		test "$rc" = 0
	[ "$rc" = 0 ] || grep -v '^conn .* ok' "$T/$1.out" | sed 's/^/# /'
}

# -------------------------------------------------------- what ss -tiM shows

# ss_sf NS FILTER: "TOKEN LOCAL REMOTE b=.. B=.." for every MPTCP subflow
ss_sf()
{
	nsenter --net="$1" -- ss -tinMH state established "$2" | awk '
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
		gsub(/::ffff:/, "", l); gsub(/::ffff:/, "", r)
		printf "%s %s %s b=%d B=%d\n", tok, l, r,
			(index(fl, "b") > 0), (index(fl, "B") > 0)
	}'
}

cl_port() { echo "${CL_PORT[$1]:-$CK}"; }

# tok_of PORT SPORT: the client's token of the connection to PORT that has
# a subflow from local port SPORT
tok_of()
{
	ss_sf "$CLI_NS" "( dport = :$1 )" | awk -v sp="$2" '
	{ n = split($2, a, ":"); if (a[n] == sp) { print $1; exit } }'
}

# sel TOKEN: ss_sf lines on stdin of that connection, sorted, as
# "LOCALADDR REMOTEADDR b=.. B=.." (ports dropped)
sel()
{
	awk -v t="$1" '$1 == t { l = $2; r = $3
		sub(/:[0-9]+$/, "", l); sub(/:[0-9]+$/, "", r)
		gsub(/[][]/, "", l); gsub(/[][]/, "", r)
		print l, r, $4, $5 }' | sort
}

# view NAME: client NAME's connection as the client's ss shows it,
# "LOCAL REMOTE b=LOCALBACKUP" per subflow
view()
{
	ss_sf "$CLI_NS" "( dport = :$(cl_port "$1") )" | sel "${CL_TOK[$1]}" |
		cut -d' ' -f1-3
}

# ports NAME: the local ports of its subflows
ports()
{
	ss_sf "$CLI_NS" "( dport = :$(cl_port "$1") )" | awk -v t="${CL_TOK[$1]}" '
	$1 == t { n = split($2, a, ":"); print a[n] }' | sort -n
}

token() { echo "${CL_TOK[$1]}"; }

# stoken NAME: the server's token of NAME's connection
stoken()
{
	local ps

	ps=" $(ports "$1" | tr '\n' ' ')"
	ss_sf "$SRV_NS" "( sport = :$(cl_port "$1") )" | awk -v ps="$ps" '
	{ n = split($3, a, ":"); if (index(ps, " " a[n] " ")) { print $1; exit } }'
}

# sview NAME: the same connection as the server's ss shows it (found by
# the ports of the client's subflows), "CLIENTADDR SERVERADDR B=.." where
# B is the client's backup flag as the server knows it
sview()
{
	local ps stok

	ps=" $(ports "$1" | tr '\n' ' ')"
	ss_sf "$SRV_NS" "( sport = :$(cl_port "$1") )" >"$T/sview"
	stok=$(awk -v ps="$ps" '{ n = split($3, a, ":")
		if (index(ps, " " a[n] " ")) { print $1; exit } }' "$T/sview")
	[ -n "$stok" ] || return 0
	sel "$stok" <"$T/sview" | awk '{ print $2, $1, $4 }' | sort
}

# expect_view TEST NAME EXPECTED [SECS] [VIEWFN]: wait (default 5 s) for
# the view to become EXPECTED; then compare
expect_view()
{
	local fn=${5:-view}

	poll "${4:-5}" eval "[ \"\$($fn $2)\" = \"$3\" ]"
	same "$1" "$3" "$($fn "$2")"
}

# stays TEST NAME EXPECTED SECS: the view is EXPECTED now and SECS later.
# A negative check's quiet period, on purpose a span of time: what it
# looks for would come late (a retry at the end of its back-off, a sweep
# over the connections, a policy reloaded), which pm_barrier (lib.sh), a
# proof of the first round of actions only, would not wait for.
stays()
{
	local a b

	a=$(view "$2")
	sleep "$4"
	b=$(view "$2")
	if [ "$a" = "$3" ] && [ "$b" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# wanted: $3" | sed '2,$s/^/# /'
		echo "# at first: $a" | sed '2,$s/^/# /'
		echo "# ${4}s later: $b" | sed '2,$s/^/# /'
	fi
}


# -------------------------------------------------------------- witnesses

# mon_start NAME NSPATH: ip mptcp monitor there, once it has subscribed
mon_start()
{
	start_ipmon "$2" "$T/$1.mon"
	BG_PIDS+=("$IPMON_PID")
	MON_PID=$IPMON_PID
}

# mon_has NAME PATTERN: monitor NAME printed a line matching PATTERN
# (waiting up to 5 s); if not, show what it printed
mon_has()
{
	poll 5 grep -q -- "$2" "$T/$1.mon" && return 0
	sed "s/^/# $1: /" "$T/$1.mon"
	return 1
}

