#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Two-namespace MPTCP test network (client "wifi" + "cell" <-> server), usable
# as a sourced bash library or as a command.
#
#   client netns ${P}-cli                         server netns ${P}-srv
#     wifi 10.0.1.2/24 fd00:1::2/64  <-- veth -->  s1 10.0.1.1/24 fd00:1::1/64
#     cell 10.0.2.2/24 fd00:2::2/64  <-- veth -->  s2 10.0.2.1/24 fd00:2::1/64
#
# Client: default route via wifi. TESTNET_ROUTING chooses the client's shape:
#   policy (default)  source-based policy routing (table 101 for wifi sources,
#                     102 for cell sources), as a carefully configured host
#   plain             no rule and no table: each link has only its connected
#                     route, as a laptop or phone has by default; the server
#                     then announces its cell-side addresses (in-kernel PM
#                     signal endpoints), the only peer addresses the cell
#                     link reaches
# Server: MPTCP echo server on TESTNET_MPTCP_PORT (5201) and plain-TCP echo
# server on TESTNET_TCP_PORT (5202).
#
# Command use (as root):
#   testnet.sh run CMD [ARGS...]  up, run CMD in the host netns with the
#                                 TESTNET_* variables exported, down; exits
#                                 with CMD's status. cli_exec and srv_exec are
#                                 exported to bash children (export -f); a
#                                 script can also source "$TESTNET_LIB".
#   testnet.sh up                 up, print "export VAR=..." lines, stay up
#   testnet.sh down [PREFIX]      tear down (PREFIX defaults to $TESTNET_PREFIX)
# Exit status 77 (skip) when the kernel has no MPTCP, 1 on setup errors.
#
# Library use:
#   . tests/lib/testnet.sh
#   trap testnet_down EXIT        # the library installs no traps itself
#   testnet_up || exit $?         # returns 77 when the kernel has no MPTCP
#   cli_exec CMD...               # run CMD in the client netns
#   srv_exec CMD...               # run CMD in the server netns
#     (they are shell functions: "srv_exec CMD &" gives $! = a subshell, not
#     CMD; for a pid you can kill, use: nsenter --net="/run/netns/$TESTNET_SRV_NS" -- CMD &)
#   testnet_add_client_addr wifi 10.0.1.3/24
#   testnet_down                  # idempotent
#
# Environment read by testnet_up:
#   MPSOCK_TESTSRV       server binary (default: build/tests/tools/mpsock-testsrv
#                        under the repository root)
#   TESTNET_CLIENT_PM    kernel (default) or userspace: client path manager
#   TESTNET_ROUTING      policy (default) or plain: see above
#   TESTNET_MPTCP_PORT   default 5201
#   TESTNET_TCP_PORT     default 5202
#
# Variables exported by testnet_up: TESTNET_PREFIX TESTNET_CLI_NS TESTNET_SRV_NS
# TESTNET_SRV_WIFI4 TESTNET_SRV_CELL4 TESTNET_SRV_WIFI6 TESTNET_SRV_CELL6
# TESTNET_CLI_WIFI4 TESTNET_CLI_CELL4 TESTNET_CLI_WIFI6 TESTNET_CLI_CELL6
# TESTNET_MPTCP_PORT TESTNET_TCP_PORT TESTNET_TMP TESTNET_LIB TESTNET_ROUTING
#
# TESTNET_TMP is a per-run directory (removed by testnet_down) that also holds
# the server pid files and logs (mptcp-srv.log, tcp-srv.log).

# Commands enter a namespace with nsenter --net, never "ip netns exec" or
# "ip -n": those also unshare the mount namespace and remount / and /sys,
# which fails where / is not a mount point (a chroot) and hides
# /sys/fs/cgroup.

_TESTNET_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
_TESTNET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_testnet_err()
{
	echo "testnet: $*" >&2
}

# _testnet_ip NS ARGS...: ip ARGS inside NS, reporting the command on failure.
_testnet_ip()
{
	local ns=$1 out
	shift
	if ! out=$(nsenter --net="/run/netns/$ns" ip "$@" 2>&1); then
		_testnet_err "nsenter --net=/run/netns/$ns ip $* failed: $out"
		return 1
	fi
}

# _testnet_sysctl NS KEY=VALUE...
_testnet_sysctl()
{
	local ns=$1 out
	shift
	if ! out=$(nsenter --net="/run/netns/$ns" -- sysctl -q -w "$@" 2>&1); then
		_testnet_err "sysctl in $ns ($*) failed: $out"
		return 1
	fi
}

cli_exec()
{
	if [[ -z ${TESTNET_CLI_NS:-} ]]; then
		_testnet_err "cli_exec: test network is not up"
		return 1
	fi
	nsenter --net="/run/netns/$TESTNET_CLI_NS" -- "$@"
}

srv_exec()
{
	if [[ -z ${TESTNET_SRV_NS:-} ]]; then
		_testnet_err "srv_exec: test network is not up"
		return 1
	fi
	nsenter --net="/run/netns/$TESTNET_SRV_NS" -- "$@"
}

# _testnet_check: 0 ok, 1 not usable, 77 no MPTCP in this kernel.
_testnet_check()
{
	local tool
	if ((EUID != 0)); then
		_testnet_err "must run as root (needs to create network namespaces)"
		return 1
	fi
	if [[ ! -e /proc/sys/net/mptcp/enabled ]]; then
		_testnet_err "kernel has no MPTCP (/proc/sys/net/mptcp/enabled missing): skipping"
		return 77
	fi
	for tool in ip sysctl; do
		if ! command -v "$tool" >/dev/null; then
			_testnet_err "'$tool' not found (install iproute2 / procps)"
			return 1
		fi
	done
}

# _testnet_start_server NAME ARGS...: start mpsock-testsrv in the server
# netns, wait (5 s max) for its pid file, record its pid.
_testnet_start_server()
{
	local name=$1 pidfile pid i
	shift
	pidfile=$TESTNET_TMP/$name.pid
	nsenter --net="/run/netns/$TESTNET_SRV_NS" -- "$_TESTNET_SRVBIN" --pidfile "$pidfile" "$@" \
		</dev/null >"$TESTNET_TMP/$name.log" 2>&1 &
	pid=$!	# nsenter execs the command: this is the server's pid
	echo "$pid" >>"$TESTNET_TMP/pids"
	for ((i = 0; i < 100; i++)); do
		[[ -s $pidfile ]] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			_testnet_err "$name server exited during startup: $(cat "$TESTNET_TMP/$name.log")"
			return 1
		fi
		sleep 0.05
	done
	_testnet_err "$name server ($_TESTNET_SRVBIN $*) did not write $pidfile within 5 s: $(cat "$TESTNET_TMP/$name.log")"
	return 1
}

# Builds everything; on failure the caller tears down what was created.
_testnet_build()
{
	local cli=$TESTNET_CLI_NS srv=$TESTNET_SRV_NS ns pm out

	for ns in "$cli" "$srv"; do
		if ! out=$(ip netns add "$ns" 2>&1); then
			_testnet_err "ip netns add $ns failed: $out"
			return 1
		fi
		echo "$ns" >>"$TESTNET_TMP/netns"
		# Set before the links exist so they inherit the defaults.
		_testnet_sysctl "$ns" net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 \
			net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.mptcp.enabled=1 || return 1
		_testnet_ip "$ns" link set lo up || return 1
	done

	case ${TESTNET_ROUTING:-policy} in
	policy | plain) ;;
	*)
		_testnet_err "TESTNET_ROUTING must be 'policy' or 'plain', not '$TESTNET_ROUTING'"
		return 1
		;;
	esac
	pm=${TESTNET_CLIENT_PM:-kernel}
	case $pm in
	kernel | userspace) ;;
	*)
		_testnet_err "TESTNET_CLIENT_PM must be 'kernel' or 'userspace', not '$pm'"
		return 1
		;;
	esac
	if nsenter --net="/run/netns/$cli" -- test -e /proc/sys/net/mptcp/path_manager; then
		_testnet_sysctl "$cli" net.mptcp.path_manager="$pm" || return 1
	elif nsenter --net="/run/netns/$cli" -- test -e /proc/sys/net/mptcp/pm_type; then
		if [[ $pm == userspace ]]; then
			_testnet_sysctl "$cli" net.mptcp.pm_type=1 || return 1
		else
			_testnet_sysctl "$cli" net.mptcp.pm_type=0 || return 1
		fi
	elif [[ $pm == userspace ]]; then
		_testnet_err "kernel has no userspace path manager (no net.mptcp.path_manager or pm_type)"
		return 1
	fi

	# Created inside the namespaces: no name can clash with another run.
	_testnet_ip "$cli" link add wifi type veth peer name s1 netns "$srv" || return 1
	_testnet_ip "$cli" link add cell type veth peer name s2 netns "$srv" || return 1

	_testnet_ip "$cli" addr add 10.0.1.2/24 dev wifi || return 1
	_testnet_ip "$cli" addr add fd00:1::2/64 dev wifi nodad || return 1
	_testnet_ip "$cli" addr add 10.0.2.2/24 dev cell || return 1
	_testnet_ip "$cli" addr add fd00:2::2/64 dev cell nodad || return 1
	_testnet_ip "$srv" addr add 10.0.1.1/24 dev s1 || return 1
	_testnet_ip "$srv" addr add fd00:1::1/64 dev s1 nodad || return 1
	_testnet_ip "$srv" addr add 10.0.2.1/24 dev s2 || return 1
	_testnet_ip "$srv" addr add fd00:2::1/64 dev s2 nodad || return 1
	_testnet_ip "$cli" link set wifi up || return 1
	_testnet_ip "$cli" link set cell up || return 1
	_testnet_ip "$srv" link set s1 up || return 1
	_testnet_ip "$srv" link set s2 up || return 1

	# Client routing: default via wifi, source-based tables 101/102.
	_testnet_ip "$cli" route add 0.0.0.0/0 via 10.0.1.1 dev wifi || return 1
	_testnet_ip "$cli" route add ::/0 via fd00:1::1 dev wifi || return 1
	for ns in "$cli" "$srv"; do
		_testnet_ip "$ns" mptcp limits set subflow 8 add_addr_accepted 8 || return 1
	done
	if [[ ${TESTNET_ROUTING:-policy} == plain ]]; then
		_testnet_ip "$srv" mptcp endpoint add 10.0.2.1 dev s2 signal || return 1
		_testnet_ip "$srv" mptcp endpoint add fd00:2::1 dev s2 signal || return 1
		_testnet_start_server mptcp-srv --port "$TESTNET_MPTCP_PORT" --mode echo || return 1
		_testnet_start_server tcp-srv --tcp --port "$TESTNET_TCP_PORT" --mode echo || return 1
		return 0
	fi
	_testnet_ip "$cli" route add 10.0.1.0/24 dev wifi src 10.0.1.2 table 101 || return 1
	_testnet_ip "$cli" route add 0.0.0.0/0 via 10.0.1.1 dev wifi table 101 || return 1
	_testnet_ip "$cli" route add fd00:1::/64 dev wifi table 101 || return 1
	_testnet_ip "$cli" route add ::/0 via fd00:1::1 dev wifi table 101 || return 1
	_testnet_ip "$cli" route add 10.0.2.0/24 dev cell src 10.0.2.2 table 102 || return 1
	_testnet_ip "$cli" route add 0.0.0.0/0 via 10.0.2.1 dev cell table 102 || return 1
	_testnet_ip "$cli" route add fd00:2::/64 dev cell table 102 || return 1
	_testnet_ip "$cli" route add ::/0 via fd00:2::1 dev cell table 102 || return 1
	_testnet_ip "$cli" rule add from 10.0.1.2 table 101 pref 1000 || return 1
	_testnet_ip "$cli" -6 rule add from fd00:1::2 table 101 pref 1000 || return 1
	_testnet_ip "$cli" rule add from 10.0.2.2 table 102 pref 1000 || return 1
	_testnet_ip "$cli" -6 rule add from fd00:2::2 table 102 pref 1000 || return 1

	_testnet_start_server mptcp-srv --port "$TESTNET_MPTCP_PORT" --mode echo || return 1
	_testnet_start_server tcp-srv --tcp --port "$TESTNET_TCP_PORT" --mode echo || return 1
}

# testnet_up: build the network and export the TESTNET_* variables.
# Returns 0, 1 (error, everything already torn down) or 77 (no MPTCP).
testnet_up()
{
	local - i base
	set +e	# errors are checked explicitly; "local -" restores the caller's -e

	_testnet_check || return $?

	_TESTNET_SRVBIN=${MPSOCK_TESTSRV:-$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}
	if [[ ! -x $_TESTNET_SRVBIN ]]; then
		_testnet_err "server binary '$_TESTNET_SRVBIN' not found or not executable (build it, or set MPSOCK_TESTSRV)"
		return 1
	fi
	export TESTNET_MPTCP_PORT=${TESTNET_MPTCP_PORT:-5201}
	export TESTNET_TCP_PORT=${TESTNET_TCP_PORT:-5202}

	# Claim a unique prefix: mkdir is atomic, so two runs cannot both win.
	base=${TMPDIR:-/tmp}
	for ((i = 0; ; i++)); do
		TESTNET_PREFIX=mps-$BASHPID-$RANDOM
		if [[ ! -e /run/netns/$TESTNET_PREFIX-cli && ! -e /run/netns/$TESTNET_PREFIX-srv ]] &&
			mkdir -m 0755 "$base/$TESTNET_PREFIX" 2>/dev/null; then
			break
		fi
		if ((i >= 20)); then
			_testnet_err "cannot create a run directory under $base"
			return 1
		fi
	done
	export TESTNET_PREFIX
	export TESTNET_TMP=$base/$TESTNET_PREFIX
	export TESTNET_CLI_NS=$TESTNET_PREFIX-cli
	export TESTNET_SRV_NS=$TESTNET_PREFIX-srv
	export TESTNET_SRV_WIFI4=10.0.1.1 TESTNET_SRV_CELL4=10.0.2.1
	export TESTNET_SRV_WIFI6=fd00:1::1 TESTNET_SRV_CELL6=fd00:2::1
	export TESTNET_CLI_WIFI4=10.0.1.2 TESTNET_CLI_CELL4=10.0.2.2
	export TESTNET_CLI_WIFI6=fd00:1::2 TESTNET_CLI_CELL6=fd00:2::2
	export TESTNET_LIB=$_TESTNET_LIB
	export TESTNET_ROUTING=${TESTNET_ROUTING:-policy}
	: >"$TESTNET_TMP/pids"
	: >"$TESTNET_TMP/netns"

	if ! _testnet_build; then
		testnet_down
		return 1
	fi
}

# _testnet_stop_pid PID TMPDIR: SIGTERM (SIGKILL after 5 s) one server, but
# only if it still is our server (its command line names a pid file in
# TMPDIR): pids get reused.
_testnet_stop_pid()
{
	local pid=$1 tmp=$2 i stat cmdline
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || cmdline=
	if [[ $cmdline != *" $tmp/"* ]]; then
		wait "$pid" 2>/dev/null || true # already exited: reap it if ours
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		# Gone, or a zombie waiting for us to reap it.
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || break
		stat=${stat##*) }
		[[ ${stat%% *} == Z ]] && break
		sleep 0.05
	done
	if ((i >= 100)); then
		_testnet_err "server pid $pid ignored SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true # reaps it when it is our child
	return 0
}

# testnet_down [PREFIX]: remove everything testnet_up created. Idempotent.
testnet_down()
{
	local - prefix=${1:-${TESTNET_PREFIX:-}} tmp pid ns left
	set +e	# must get through every step; "local -" restores the caller's -e
	if [[ -z $prefix ]]; then
		return 0
	fi
	if [[ ! $prefix =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]]; then
		_testnet_err "bad prefix '$prefix'"
		return 1
	fi
	if [[ $prefix == "${TESTNET_PREFIX:-}" && -n ${TESTNET_TMP:-} ]]; then
		tmp=$TESTNET_TMP
	else
		tmp=${TMPDIR:-/tmp}/$prefix
	fi

	if [[ -f $tmp/pids ]]; then
		while read -r pid; do
			_testnet_stop_pid "$pid" "$tmp"
		done <"$tmp/pids"
		: >"$tmp/pids"
	fi

	for ns in "$prefix-cli" "$prefix-srv"; do
		[[ -e /run/netns/$ns ]] || continue
		left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ') || left=
		if [[ -n $left ]]; then
			_testnet_err "warning: processes still in netns $ns: $left(not ours, left running)"
		fi
		# Deleting the netns removes the veths (both ends) too.
		ip netns del "$ns" 2>/dev/null ||
			_testnet_err "warning: ip netns del $ns failed"
	done

	# Only a directory testnet_up made (it holds the "netns" list).
	if [[ -d $tmp && -f $tmp/netns ]]; then
		rm -rf -- "$tmp"
	fi
	if [[ $prefix == "${TESTNET_PREFIX:-}" ]]; then
		unset TESTNET_PREFIX TESTNET_CLI_NS TESTNET_SRV_NS TESTNET_TMP
	fi
	return 0
}

# testnet_add_client_addr IFACE ADDR/PLEN: add another client address on wifi
# or cell, with a policy rule so that traffic from it leaves via IFACE (not in
# the plain shape, which has none), and a host route back on the server if
# ADDR is outside the link's subnet.
testnet_add_client_addr()
{
	local - iface=$1 cidr=$2 addr table peer fam=-4 nodad=()
	set +e
	if [[ -z ${TESTNET_CLI_NS:-} ]]; then
		_testnet_err "testnet_add_client_addr: test network is not up"
		return 1
	fi
	case $iface in
	wifi) table=101 peer=s1 ;;
	cell) table=102 peer=s2 ;;
	*)
		_testnet_err "testnet_add_client_addr: interface must be wifi or cell, not '$iface'"
		return 1
		;;
	esac
	if [[ $cidr != */* ]]; then
		_testnet_err "testnet_add_client_addr: '$cidr' is not ADDR/PLEN"
		return 1
	fi
	addr=${cidr%/*}
	if [[ $addr == *:* ]]; then
		fam=-6
		nodad=(nodad)
	fi
	_testnet_ip "$TESTNET_CLI_NS" addr add "$cidr" dev "$iface" "${nodad[@]}" || return 1
	if [[ ${TESTNET_ROUTING:-policy} != plain ]]; then
		_testnet_ip "$TESTNET_CLI_NS" "$fam" rule add from "$addr" table "$table" pref 1000 || return 1
	fi
	if ! nsenter --net="/run/netns/$TESTNET_SRV_NS" ip route get "$addr" 2>/dev/null | grep -q " dev $peer "; then
		_testnet_ip "$TESTNET_SRV_NS" route replace "$addr" dev "$peer" || return 1
	fi
}

_testnet_main()
{
	local cmd=${1:-} rc child var

	case $cmd in
	run)
		shift
		if (($# == 0)); then
			_testnet_err "usage: testnet.sh run CMD [ARGS...]"
			return 1
		fi
		trap 'testnet_down' EXIT
		# CMD runs as a background job so that a TERM/INT reaching
		# this script is handled at once: forward it, then tear down.
		trap '[[ -n ${child:-} ]] && kill -TERM "$child" 2>/dev/null; wait "${child:-}" 2>/dev/null; exit 130' INT
		trap '[[ -n ${child:-} ]] && kill -TERM "$child" 2>/dev/null; wait "${child:-}" 2>/dev/null; exit 143' TERM
		testnet_up || return $?
		export -f cli_exec srv_exec _testnet_err
		"$@" <&0 &
		child=$!
		wait "$child"
		rc=$?
		child=
		return $rc
		;;
	up)
		testnet_up || return $?
		for var in TESTNET_PREFIX TESTNET_CLI_NS TESTNET_SRV_NS \
			TESTNET_SRV_WIFI4 TESTNET_SRV_CELL4 TESTNET_SRV_WIFI6 \
			TESTNET_SRV_CELL6 TESTNET_CLI_WIFI4 TESTNET_CLI_CELL4 \
			TESTNET_CLI_WIFI6 TESTNET_CLI_CELL6 TESTNET_MPTCP_PORT \
			TESTNET_TCP_PORT TESTNET_TMP TESTNET_LIB; do
			printf 'export %s=%q\n' "$var" "${!var}"
		done
		echo "# tear down with: $_TESTNET_LIB down $TESTNET_PREFIX" >&2
		;;
	down)
		testnet_down "${2:-}"
		;;
	*)
		echo "usage: testnet.sh run CMD [ARGS...] | up | down [PREFIX]" >&2
		return 1
		;;
	esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -u
	_testnet_main "$@"
	exit $?
fi
