#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Records the running kernel's MPTCP and rtnetlink messages into OUTDIR
# (default tests/data/kernel) for test-parsers and the fuzzers' seeds, in
# two namespaces made here and removed on exit.  Root; needs MPTCP.
#
#   tests/tools/record-kernel-messages.sh [OUTDIR]
#   MPSOCK_RECORD=build/tests/tools/mpsock-record (the default)
#
# What is set up, and what test-parsers.c asserts on:
#   client ns: veth c0 10.0.1.1/24 and 10.0.2.1/24; in-kernel PM, limits
#              subflows 1 add_addr_accepted 1, endpoint 10.0.2.1 id 2
#              subflow backup
#   server ns: veth s0 10.0.1.2/24 and 10.0.2.2/24, MPTCP sink on 5001
#   1. the client connects 10.0.1.1 -> 10.0.1.2:5001: CREATED, ESTABLISHED,
#      SUB_ESTABLISHED (10.0.2.1 id 2 -> 10.0.1.2; its backup attribute is
#      the peer's flag, 0; diag shows ours, BKUP_LOC); two subflows:
#      full_info.bin, diag-msk.bin, diag-subflows.bin
#   2. the server adds endpoint 10.0.2.2 id 5 signal: ANNOUNCED (rem_id 5)
#   3. the server deletes it: REMOVED (rem_id 5)
#   4. the client deletes endpoint id 2: SUB_CLOSED (loc_id 2)
#   5. the client closes: CLOSED
#   6. rtnetlink, client ns: veth d0 (peer d1) added and set up (NEWLINK,
#      up with carrier), 10.0.9.1/24
#      and fd00:9::1/64 nodad added (NEWADDR) and 10.0.9.1 removed
#      (DELADDR), d0 set down (NEWLINK, not up), deleted (DELLINK)
# Commands enter a namespace with nsenter --net (see tests/lib/testnet.sh).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/tests/data/kernel}
REC=${MPSOCK_RECORD:-$ROOT/build/tests/tools/mpsock-record}
P=mpsfz-$$
C=$P-cli
S=$P-srv
TMP=$(mktemp -d)
PIDS=()

cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$C" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# nsenter execs the command: started with &, $! is the command's pid
c() { nsenter --net="/run/netns/$C" "$@"; }
s() { nsenter --net="/run/netns/$S" "$@"; }
cbg() { nsenter --net="/run/netns/$C" "$@" & PIDS+=($!); }
sbg() { nsenter --net="/run/netns/$S" "$@" & PIDS+=($!); }

# wait_for FILE: up to 10 s
wait_for()
{
	local i
	for i in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "record: timed out waiting for $1" >&2
	return 1
}

[ "$(id -u)" = 0 ] || { echo "record: needs root" >&2; exit 77; }
[ -x "$REC" ] || { echo "record: build $REC first" >&2; exit 1; }

ip netns add "$C"
ip netns add "$S"
ip link add c0 netns "$C" type veth peer name s0 netns "$S"
c ip link set lo up
s ip link set lo up
c ip addr add 10.0.1.1/24 dev c0
c ip addr add 10.0.2.1/24 dev c0
s ip addr add 10.0.1.2/24 dev s0
s ip addr add 10.0.2.2/24 dev s0
c ip link set c0 up
s ip link set s0 up
c sysctl -qw net.mptcp.enabled=1
s sysctl -qw net.mptcp.enabled=1
c ip mptcp limits set subflows 1 add_addr_accepted 1
s ip mptcp limits set subflows 2 add_addr_accepted 0
c ip mptcp endpoint add 10.0.2.1 id 2 subflow backup

sbg "$REC" serve 5001
cbg "$REC" events "$TMP" 30
EVPID=$!
wait_for "$TMP/ready-genl"
sleep 0.5 # the sink listens

cbg "$REC" connect 10.0.1.1 10.0.1.2 5001 "$TMP"
CONNPID=$!
wait_for "$TMP/connected"
s ip mptcp endpoint add 10.0.2.2 id 5 signal
sleep 0.5
s ip mptcp endpoint delete id 5
sleep 0.5
c ip mptcp endpoint delete id 2
sleep 0.5
touch "$TMP/release"
wait "$CONNPID"
sleep 0.5
kill "$EVPID"
wait "$EVPID" || true

cbg "$REC" rtnl "$TMP" 30
RTPID=$!
wait_for "$TMP/ready-rtnl"
c ip link add d0 type veth peer name d1
c ip link set d1 up
c ip link set d0 up
c ip addr add 10.0.9.1/24 dev d0
c ip addr add fd00:9::1/64 dev d0 nodad
c ip addr del 10.0.9.1/24 dev d0
c ip link set d0 down
c ip link del d0
sleep 0.5
kill "$RTPID"
wait "$RTPID" || true

mkdir -p "$OUT"
rm -f "$OUT"/genl-*.bin "$OUT"/rtnl-*.bin "$OUT"/full_info.bin \
	"$OUT"/diag-*.bin
cp "$TMP"/*.bin "$OUT"/
uname -r >"$OUT/KERNEL"
ls "$OUT"
