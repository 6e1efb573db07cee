#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the namespace tests: TAP output, the test network, and the
# normalisers that turn libmpsock's claims and ss -tiM's view of the same
# subflows into comparable lines.
#
# Exit statuses: 0 pass, 1 fail, 77 skip (not root, no MPTCP); with
# MPSOCK_TEST_STRICT=1 a skip is a failure.

set -u

NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$NETNS_DIR/../lib/testnet.sh"

: "${MPSOCK_PROBE:=$_TESTNET_ROOT/build/tests/tools/mpsock-probe}"
: "${MPSOCK_CTL:=$_TESTNET_ROOT/build/tests/tools/mpsock-ctl}"
: "${MPSOCKD:=$_TESTNET_ROOT/build/daemon/mpsockd}"
: "${MPSOCK_CLI:=$_TESTNET_ROOT/build/cli/mpsock}"

_tap_n=0
_tap_failed=0

skip_all()
{
	echo "1..0 # SKIP $*"
	if [ "${MPSOCK_TEST_STRICT:-0}" = 1 ]; then
		echo "# MPSOCK_TEST_STRICT=1: a skip is a failure" >&2
		exit 1
	fi
	exit 77
}

ok()
{
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

not_ok()
{
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

# check NAME CMD...: one TAP line from CMD's status
check()
{
	local name=$1

	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name"
	fi
}

finish()
{
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# Bring the network up and remove it on any exit.
netns_setup()
{
	local rc=0

	[ "$(id -u)" = 0 ] || skip_all "needs root"
	trap testnet_down EXIT
	trap 'exit 130' INT TERM
	testnet_up >/dev/null || rc=$?
	[ "$rc" = 77 ] && skip_all "kernel without MPTCP"
	[ "$rc" = 0 ] || { echo "Bail out! test network: $rc"; exit 1; }
	return 0
}

# A copy of the probe any user can run (the build tree may be private).
probe_for_anyone()
{
	local d="$TESTNET_TMP/pub"

	mkdir -p "$d"
	chmod 755 "$TESTNET_TMP" "$d"
	cp "$MPSOCK_PROBE" "$d/mpsock-probe"
	chmod 755 "$d/mpsock-probe"
	echo "$d/mpsock-probe"
}

# unpriv_prefix: the words that run a command in the client namespace as
# uid 65534 without capabilities (every step execs: $! is the command)
unpriv_prefix()
{
	echo "nsenter --net=/run/netns/$TESTNET_CLI_NS -- setpriv --reuid=65534" \
		"--regid=65534 --clear-groups --inh-caps=-all" \
		"--bounding-set=-all --"
}

# set_endpoints SPEC...: client in-kernel PM endpoints, e.g. "10.0.2.2 subflow
# backup"; replaces any earlier ones
set_endpoints()
{
	local e

	nsenter --net="/run/netns/$TESTNET_CLI_NS" ip mptcp endpoint flush
	for e in "$@"; do
		# shellcheck disable=SC2086
		nsenter --net="/run/netns/$TESTNET_CLI_NS" ip mptcp endpoint add $e || return 1
	done
}

# run_held OUT CMD...: start CMD (a probe with -H) in the background, wait
# for its READY line; sets HELD_PID.  Output goes to OUT.
run_held()
{
	local out=$1 i

	shift
	"$@" >"$out" 2>&1 &
	HELD_PID=$!
	for i in $(seq 100); do
		grep -q '^READY' "$out" && return 0
		kill -0 "$HELD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# probe did not become ready:" >&2
	sed 's/^/# /' "$out" >&2
	return 1
}

stop_held()
{
	[ -n "${HELD_PID:-}" ] || return 0
	kill "$HELD_PID" 2>/dev/null
	wait "$HELD_PID" 2>/dev/null
	HELD_PID=
}

# ss_subflows PORT: the client's subflows to PORT as ss -tinM sees them:
#   "LOCAL REMOTE b=LOCALBACKUP B=REMOTEBACKUP e=FULLYEST j=JOINED
#    lid=LOCID rid=REMID", sorted
ss_subflows()
{
	nsenter --net="/run/netns/$TESTNET_CLI_NS" -- ss -tinMH state established \
		"( dport = :$1 )" | awk '
	# a device-bound socket shows as ADDR%DEV:PORT
	/^[^ \t]/ { local_ = $(NF-1); remote = $NF
		gsub(/%[^:\]]*/, "", local_); next }
	/tcp-ulp-mptcp/ {
		fl = ""; lid = ""; rid = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^flags:/) fl = substr($i, 7)
			if ($i ~ /^token:/) {
				# token:REM(id:R)/LOC(id:L)
				t = $i
				gsub(/[()]/, " ", t); gsub(/\//, " ", t)
				n = split(t, p, " ")
				rid = p[2]; lid = p[4]
				sub(/id:/, "", rid); sub(/id:/, "", lid)
			}
		}
		printf "%s %s b=%d B=%d e=%d j=%d lid=%s rid=%s\n", local_,
			remote, (index(fl, "b") > 0), (index(fl, "B") > 0),
			(index(fl, "e") > 0),
			((index(fl, "J") + index(fl, "j")) > 0), lid, rid
	}' | sort
}

# probe_native FILE: the probe's native lines in ss_subflows' format
probe_native()
{
	awk '/^native id=/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %s b=%d B=%d e=%d j=%d lid=%s rid=%s\n", v["local"],
			v["remote"], v["backup_local"], v["backup_remote"],
			v["fully_established"], v["joined"], v["loc_id"],
			v["rem_id"]
	}' "$1" | sort
}

# probe_draft FILE: the probe's draft lines as "LOCAL REMOTE b= e= j="
probe_draft()
{
	awk '/^draft id=/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %s b=%d e=%d j=%d\n", v["local"], v["remote"],
			v["low_prio"], v["fully_established"], v["slave_sk"]
	}' "$1" | sort
}

# ss_draft PORT: ss_subflows reduced to what the draft layer reports
ss_draft()
{
	ss_subflows "$1" | awk '{ print $1, $2, $3, $5, $6 }'
}

# same NAME EXPECTED ACTUAL: compare two texts, show a diff on mismatch
same()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diff <(echo "$2") <(echo "$3") | sed 's/^/# /'
	fi
}

# The command-driven client (tests/tools/mpsock-ctl) as a coprocess.
# ctl_start RUNNER...: start it through RUNNER (nsenter, setpriv...) against
# ${CTL_HOST:-$S4}:$PORT, running $MPSOCK_CTL_BIN
ctl_start()
{
	coproc CTL { "$@" "$MPSOCK_CTL_BIN" "${CTL_HOST:-$S4}" "$PORT" 2>&1; }
	read -r -t 5 line <&"${CTL[0]}"
	[ "$line" = connected ]
}

# ctl CMD: one command, its answer in $REPLY_LINE (list: all its lines)
ctl()
{
	echo "$1" >&"${CTL[1]}"
	REPLY_LINE=
	while read -r -t 20 line <&"${CTL[0]}"; do
		REPLY_LINE="$REPLY_LINE$line"$'\n'
		case $line in ok* | err*) break ;; esac
	done
	REPLY_LINE=${REPLY_LINE%$'\n'}
}

ctl_stop()
{
	echo quit >&"${CTL[1]}"
	wait "$CTL_PID" 2>/dev/null
}

# expect NAME CMD PATTERN: the answer's last line matches PATTERN
expect()
{
	ctl "$2"
	local last=${REPLY_LINE##*$'\n'}

	# shellcheck disable=SC2053
	if [[ $last == $3 ]]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# $2 -> $REPLY_LINE (wanted $3)"
	fi
}

# sf_local ID: the local address:port of subflow ID as the API lists it
sf_local()
{
	ctl list
	echo "$REPLY_LINE" | awk -v id="id=$1" '$2 == id {
		sub(/local=/, "", $4); print $4 }'
}

# start_mpsockd [CONFIG]: the broker in the client namespace; sets D_PID.
# Its configuration and state live in this run's directory (never the
# host's /etc or /run); $MPSOCKD_ARGS (e.g. -v) are added to its command
# line.  Returns 1 when it does not say "serving" within 10 s.
start_mpsockd()
{
	# the path manager's policy: none unless a test asks (CONFIG text; an
	# empty one is the built-in defaults)
	printf '%s\n' "${1-policy single}" >"$TESTNET_TMP/mpsockd.conf"
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$TESTNET_CLI_NS" "$MPSOCKD" ${MPSOCKD_ARGS:-} \
		-f "$TESTNET_TMP/mpsockd.conf" \
		--state "$TESTNET_TMP/mpsockd.state" >/dev/null \
		2>>"$TESTNET_TMP/mpsockd.log" &
	D_PID=$!
	poll 10 grep -q serving "$TESTNET_TMP/mpsockd.log" 2>/dev/null && return 0
	echo "# mpsockd did not start serving:" >&2
	sed 's/^/# /' "$TESTNET_TMP/mpsockd.log" >&2
	return 1
}

# poll SECS CMD...: run CMD every 0.1 s until it succeeds (at most SECS s)
poll()
{
	local i n=$(($1 * 10))

	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# pm_barrier HOST: mpsockd has acted on every kernel event sent before
# the call: each event's first round of actions (act_phase.c: a
# connection's opens, and the kinds before them, unless it goes back) is
# carried out and its outcomes applied and logged.  mpsockd reads its one
# event socket in order and decides each event as it reads it; its queue
# runs in that order, a slice at a time, each kind's requests of a slice
# in netlink batches whose acks it reads before anything else; it serves
# clients between slices (and between events, sweeps: daemon/yield.h),
# never inside a slice.  So a fresh connection to HOST, whose events come
# after the others, gets a subflow from mpsockd (the policy must give it
# one), and a status request through mpsockd (mpsock check mpsockd) sent
# once the subflow shows is answered only after that slice ended.  The connection is
# closed after.  Sets PM_BARRIER_TOK (its token); returns 1, saying why,
# when it gets no subflow within 10 s.  Uses the test's cl_start, view,
# cl_stop, cli, CL_TOK and CK (pmclient.sh's, or its own alike).
PM_BARRIERS=0 PM_BARRIER_TOK=
pm_barrier()
{
	local b=BARRIER$((++PM_BARRIERS)) rc=0

	cl_start "$b" "$1" "$CK" || return 1
	# shellcheck disable=SC2034 # for the caller
	PM_BARRIER_TOK=${CL_TOK[$b]}
	if poll 10 eval "[ \$(view $b | wc -l) -ge 2 ]"; then
		cli "$MPSOCK_CLI" check mpsockd >/dev/null || rc=1
		[ "$rc" = 0 ] || echo "# barrier: mpsock check mpsockd failed" >&2
	else
		echo "# barrier: mpsockd opened no subflow for a fresh connection in 10 s" >&2
		rc=1
	fi
	cl_stop "$b" >/dev/null
	return "$rc"
}

# flat CMD...: CMD's output on one line (for test names)
flat() { "$@" | tr '\n' ' '; }
# lines WORDS...: one per line, sorted (an expected view)
lines() { printf '%s\n' "$@" | sort; }

# genl_listening NSPATH PID: PID holds a generic netlink socket in NSPATH
# that has joined a multicast group (ip mptcp monitor and mpsock monitor
# are subscribed to the kernel's MPTCP events: what they print from now
# on is complete).  /proc/net/netlink shows the first 32 groups; the
# MPTCP events group is one of them unless a kernel registers a great
# many generic netlink families before MPTCP.
genl_listening()
{
	local inodes

	inodes=$(find "/proc/$2/fd" -lname 'socket:*' -printf '%l\n' \
		2>/dev/null | tr -dc '0-9\n')
	[ -n "$inodes" ] || return 1
	nsenter --net="$1" cat /proc/net/netlink | awk -v inos="$inodes" '
	BEGIN { n = split(inos, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	# sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	$2 == 16 && $4 !~ /^0+$/ && ($10 in want) { found = 1 }
	END { exit !found }'
}

# start_ipmon NSPATH FILE [IP-OPTIONS...]: ip mptcp monitor in NSPATH,
# printing to FILE (errors to FILE.err); returns once it is subscribed
# (1 if it is not within 10 s).  Sets IPMON_PID.
start_ipmon()
{
	local ns=$1 out=$2

	shift 2
	nsenter --net="$ns" ip "$@" mptcp monitor >"$out" 2>"$out.err" &
	IPMON_PID=$!
	poll 10 genl_listening "$ns" "$IPMON_PID" && return 0
	echo "# ip mptcp monitor in $ns did not subscribe:" >&2
	sed 's/^/# /' "$out.err" >&2
	return 1
}

# start_capture NSPATH FILE FILTER: tcpdump on every interface of NSPATH
# into FILE; returns once the capture is open (tcpdump writes the file
# header after attaching its filter, -U flushes it at once), 1 if not
# within 10 s.  Sets DUMP_PID.
start_capture()
{
	nsenter --net="$1" tcpdump -i any -nn -U --immediate-mode -w "$2" \
		"$3" 2>"$2.err" &
	# shellcheck disable=SC2034 # for the caller
	DUMP_PID=$!
	# a pcap file header is 24 bytes
	poll 10 eval "[ \"\$(stat -c %s '$2' 2>/dev/null || echo 0)\" -ge 24 ]" &&
		return 0
	echo "# tcpdump did not start:" >&2
	sed 's/^/# /' "$2.err" >&2
	return 1
}

# stop_capture NSPATH FILE PORT: stop start_capture's tcpdump (DUMP_PID)
# once FILE holds every packet NSPATH sent before the call.  A marker goes
# last: a connection attempt from NSPATH to 127.0.0.1:PORT (the capture's
# filter must take it; the test has nothing listening there).  A sent
# packet reaches the capture's socket as it leaves its interface, in the
# order sent, and tcpdump -U writes each as it reads it: once the marker
# is in FILE, so is what went before.  Returns 1, saying so, when the
# marker is not there within 20 s.
stop_capture()
{
	local rc=0

	nsenter --net="$1" timeout 5 bash -c \
		"exec 3<>/dev/tcp/127.0.0.1/$3" 2>/dev/null
	if ! poll 20 eval "tcpdump -nn -r '$2' 'src host 127.0.0.1 and dst port $3' 2>/dev/null | grep -q ."; then
		echo "# the capture $2 did not get its end marker in 20 s" >&2
		rc=1
	fi
	kill "$DUMP_PID" 2>/dev/null
	wait "$DUMP_PID" 2>/dev/null
	DUMP_PID=
	return "$rc"
}

# pcap_text FILE: the capture as tcpdump -nn prints it (it may still grow)
pcap_text()
{
	tcpdump -nn -r "$1" 2>/dev/null
}

# mptcp_idle: the client namespace holds no MPTCP connection (no MPTCP
# socket at all: it has no listener); the closes of earlier steps are
# over, their subflows gone and their events sent
mptcp_idle()
{
	[ -z "$(nsenter --net="/run/netns/$TESTNET_CLI_NS" ss -MHan)" ]
}

# wait_mptcp_idle: mptcp_idle within 10 s; what is left on stderr if not
wait_mptcp_idle()
{
	poll 10 mptcp_idle && return 0
	echo "# MPTCP connections left in the client namespace:" >&2
	nsenter --net="/run/netns/$TESTNET_CLI_NS" ss -MHan | sed 's/^/# /' >&2
	return 1
}
