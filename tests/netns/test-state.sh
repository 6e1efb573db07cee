#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mpsockd's state file belongs to the network namespace that wrote it: a
# namespace that gets the inode number of a deleted one (the kernel reuses
# them) must not inherit the dead one's claims.  A claim is written in one
# namespace; that namespace is deleted; in a new namespace with the same
# inode number, mpsockd given the same file ignores it and the next save
# holds nothing of it.  The default file is named after the namespace
# cookie: two namespaces with the same inode number get different names.
# The file is written with mode 0600.

. "$(dirname "$0")/lib.sh"

: "${MPSOCK_PMCLIENT:=$_TESTNET_ROOT/build/tests/tools/mpsock-pmclient}"
: "${MPSOCK_TESTSRV:=$_TESTNET_ROOT/build/tests/tools/mpsock-testsrv}"

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -e /proc/sys/net/mptcp/enabled ] || skip_all "kernel without MPTCP"

T=$(mktemp -d "${TMPDIR:-/tmp}/mps-state.XXXXXX") || exit 1
PREFIX=mps-state-$$-$RANDOM
CK=5203      # the checksum server
REFUSED=5299 # nobody listens there
NS_MINE=()    # every namespace this run created and has not deleted
MINE_FILES=() # default state files our own mpsockd instances named
NSN=0
D_PID='' K_PID='' K_FD='' SRV_PID=''

cleanup()
{
	local p ns f

	for p in $D_PID $K_PID $SRV_PID; do
		kill "$p" 2>/dev/null
	done
	for p in $D_PID $K_PID $SRV_PID; do
		wait "$p" 2>/dev/null
	done
	for ns in "${NS_MINE[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for f in "${MINE_FILES[@]}"; do
		rm -f -- "$f" "$f.tmp"
	done
	rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ns_new: a namespace of our own, its loopback up; its name in NEW_NS
ns_new()
{
	NEW_NS=$PREFIX-$NSN
	NSN=$((NSN + 1))
	ip netns add "$NEW_NS" || return 1
	NS_MINE+=("$NEW_NS")
	nsenter --net="/run/netns/$NEW_NS" -- ip link set lo up
}

# ns_del NAME: delete one of ours
ns_del()
{
	local i

	for i in "${!NS_MINE[@]}"; do
		[ "${NS_MINE[$i]}" = "$1" ] || continue
		ip netns del "$1"
		unset "NS_MINE[$i]"
		return 0
	done
	echo "# not ours, not deleted: $1" >&2
	return 1
}

ino() { stat -L -c %i "/run/netns/$1"; }

printf 'policy single\n' >"$T/mpsockd.conf"

# d_start NS LOG [--state FILE]: mpsockd in NS, switching its path
# manager, its log in LOG; sets D_PID, and D_FILE and D_COOKIE from the
# line that names the state file
d_start()
{
	local ns=$1 log=$2

	shift 2
	nsenter --net="/run/netns/$ns" -- "$MPSOCKD" -s -f "$T/mpsockd.conf" \
		"$@" >/dev/null 2>"$log" &
	D_PID=$!
	if ! poll 5 grep -q serving "$log"; then
		echo "# mpsockd did not start in $ns:" >&2
		sed 's/^/# /' "$log" >&2
		return 1
	fi
	D_FILE=$(sed -n 's/^mpsockd: state file \(.*\) (network namespace cookie [0-9]*)$/\1/p' "$log")
	D_COOKIE=$(sed -n 's/^mpsockd: state file .* (network namespace cookie \([0-9]*\))$/\1/p' "$log")
}

# d_stop LOG: SIGTERM; a clean exit is a TAP line, since a sanitizer
# build reports into LOG (UBSan, and exits all the same) or exits non-zero
d_stop()
{
	local rc ub

	[ -n "$D_PID" ] || return 0
	kill "$D_PID"
	wait "$D_PID" 2>/dev/null
	rc=$?
	D_PID=
	ub=$(grep -c 'runtime error:' "$1")
	check "mpsockd ($(basename "$1")) exits 0 on SIGTERM ($rc), no runtime error ($ub)" \
		test "$rc" = 0 -a "$ub" = 0
	if [ "$rc" != 0 ] || [ "$ub" != 0 ]; then
		sed 's/^/# /' "$1" >&2
	fi
}

# refused NS NAME: a socket claimed (MANUAL) before a connect that fails:
# mpsockd keeps its cookie, and writes it, for ten minutes
refused()
{
	nsenter --net="/run/netns/$1" -- "$MPSOCK_PMCLIENT" -m manual \
		127.0.0.1 $REFUSED </dev/null >"$T/$2.out" 2>&1
	grep -qx "mode ok" "$T/$2.out"
}

# netns_of FILE: the cookie FILE says wrote it
netns_of() { awk '$1 == "netns" { print $2; exit }' "$1"; }

# ------------------------------------------- the first namespace: a claim
ns_new || { echo "Bail out! ip netns add"; exit 1; }
NS1=$NEW_NS
nsenter --net="/run/netns/$NS1" -- "$MPSOCK_TESTSRV" --port $CK \
	--mode checksum --pidfile "$T/srv.pid" </dev/null >"$T/srv.log" 2>&1 &
SRV_PID=$!
poll 5 test -s "$T/srv.pid" || { echo "Bail out! checksum server"; exit 1; }

X=$T/x.state
d_start "$NS1" "$T/d1.log" --state "$X" || { echo "Bail out! mpsockd"; exit 1; }
C1=$D_COOKIE
check "mpsockd logs the state file it uses ($D_FILE, cookie $C1)" \
	test "$D_FILE" = "$X" -a -n "$C1"

mkfifo "$T/K.in"
nsenter --net="/run/netns/$NS1" -- "$MPSOCK_PMCLIENT" -m manual \
	127.0.0.1 $CK <"$T/K.in" >"$T/K.out" 2>&1 &
K_PID=$!
exec {K_FD}>"$T/K.in"
poll 10 grep -q '^ready' "$T/K.out" || not_ok "client K connected"
check "K: mpsock_set_mode(MANUAL) before connect" grep -qx "mode ok" "$T/K.out"
check "a socket claimed before a connect that fails" refused "$NS1" R1
check "the claim is written: a token line" poll 5 grep -q '^token ' "$X"
check "and the failed socket's cookie line" grep -q '^cookie ' "$X"
check "the file records its namespace ($(netns_of "$X"))" \
	test -n "$C1" -a "$(netns_of "$X")" = "$C1"
check "the file's mode is 0600 ($(stat -c %a "$X"))" \
	test "$(stat -c %a "$X")" = 600
check "no tmp file left" test ! -e "$X.tmp"
d_stop "$T/d1.log"

# our own file is read back: no "ignored" line, the claim stays
d_start "$NS1" "$T/d1b.log" --state "$X" || not_ok "mpsockd restarts"
check "restarted in the same namespace: the file is not ignored" \
	eval "! grep -q ignored '$T/d1b.log'"
check "and K's claim is kept" grep -q '^token ' "$X"
d_stop "$T/d1b.log"
OLD_TOKENS=$(grep '^token ' "$X")
OLD_COOKIES=$(grep '^cookie ' "$X")

# the default name, in this namespace
d_start "$NS1" "$T/d1c.log" || not_ok "mpsockd starts with the default file"
DEF1=$D_FILE
[ "$DEF1" = "/run/mpsock/mpsockd-$C1.state" ] && MINE_FILES+=("$DEF1")
check "default state file named after the cookie ($DEF1)" \
	test "$DEF1" = "/run/mpsock/mpsockd-$C1.state"
d_stop "$T/d1c.log"

# K ends cleanly while no mpsockd runs: the file keeps its claim
echo stop >&"$K_FD"
exec {K_FD}>&-
wait "$K_PID"
K_PID=
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
SRV_PID=
check "the claim outlives mpsockd and its namespace: still in the file" \
	grep -q '^token ' "$X"

# --------------------------------- a new namespace with the same inode
I1=$(ino "$NS1")
ns_del "$NS1"
# The kernel gives a new namespace the lowest free number, once a worker
# has freed it (within some 0.1 s).  hunt INODE: namespaces of ours until
# one gets INODE (NEW_NS, status 0); the misses are kept meanwhile, or the
# next would take the same lower number again.  Another run's namespace
# may take INODE first (namespaces of every kind share the numbers, and
# test runs make many): status 1 after 15 s.
hunt()
{
	local t0=$SECONDS extra=() ns got=1

	while ((SECONDS - t0 < 15)); do
		ns_new || break
		if [ "$(ino "$NEW_NS")" = "$1" ]; then
			got=0
			break
		fi
		extra+=("$NEW_NS")
		SEEN="$SEEN $(ino "$NEW_NS")"
		sleep 0.02
	done
	HUNTED=${#extra[@]}
	for ns in "${extra[@]}"; do
		ns_del "$ns"
	done
	return $got
}
SEEN=
NS2=
if hunt "$I1"; then
	NS2=$NEW_NS
fi
# Taken by another run: the same story with a namespace that lives only
# to die (its default state file named, as NS1's was), a few times.
for ((try = 1; try <= 3 && ${#NS2} == 0; try++)); do
	echo "# inode $I1 went to another run ($HUNTED tried:$SEEN); again with a new one"
	SEEN=
	ns_new || break
	d_start "$NEW_NS" "$T/dv$try.log" || break
	[ -n "$D_FILE" ] && MINE_FILES+=("$D_FILE")
	DEF1=$D_FILE
	d_stop "$T/dv$try.log"
	I1=$(ino "$NEW_NS")
	ns_del "$NEW_NS"
	if hunt "$I1"; then
		NS2=$NEW_NS
	fi
done
if [ -z "$NS2" ]; then
	not_ok "a new namespace reuses inode $I1 ($HUNTED tried)"
	echo "# their inodes:$SEEN" >&2
	finish
	exit 1
fi
ok "a new namespace reuses inode $I1 (after $HUNTED others)"

d_start "$NS2" "$T/d2.log" --state "$X" || not_ok "mpsockd starts in it"
C2=$D_COOKIE
check "its cookie differs ($C1, $C2)" test -n "$C2" -a "$C2" != "$C1"
check "the file is ignored, and logged ($(flat grep ignored "$T/d2.log"))" \
	grep -qx "mpsockd: state $X: written in another network namespace (cookie $C1), ignored" \
	"$T/d2.log"
check "a socket claimed in the new namespace" refused "$NS2" R2
check "the next save holds this namespace" poll 5 \
	eval "[ -n '$C2' ] && [ \"\$(netns_of '$X')\" = '$C2' ]"
check "and not the old claim (no token line)" \
	eval "! grep -q '^token ' '$X'"
check "nor the old socket cookie" \
	eval "! grep -qxF '$OLD_COOKIES' '$X'"
check "only its own socket cookie ($(grep -c '^cookie ' "$X"))" \
	test "$(grep -c '^cookie ' "$X")" = 1
check "still mode 0600 ($(stat -c %a "$X"))" test "$(stat -c %a "$X")" = 600
d_stop "$T/d2.log"
echo "# old claim: $OLD_TOKENS"

# a file from before the cookie (no netns line) is ignored as well
printf '# mpsockd state: claims and modes (MPSOCK_MODE_*)\n%s\n' \
	"$OLD_TOKENS" >"$T/old.state"
d_start "$NS2" "$T/d2b.log" --state "$T/old.state" ||
	not_ok "mpsockd starts with an old file"
check "a file without a netns line is ignored" \
	grep -qx "mpsockd: state $T/old.state: written in another network namespace (cookie unknown), ignored" \
	"$T/d2b.log"
d_stop "$T/d2b.log"

# the default name: another one, for the same inode
d_start "$NS2" "$T/d2c.log" || not_ok "mpsockd starts with the default file"
DEF2=$D_FILE
[ "$DEF2" = "/run/mpsock/mpsockd-$C2.state" ] && MINE_FILES+=("$DEF2")
check "default state file named after the cookie ($DEF2)" \
	test "$DEF2" = "/run/mpsock/mpsockd-$C2.state"
check "same inode ($(ino "$NS2")), another default file ($DEF1, $DEF2)" \
	test "$(ino "$NS2")" = "$I1" -a "$DEF1" != "$DEF2"
check "a claim writes the default file" refused "$NS2" R3
check "it records this namespace" poll 5 \
	eval "[ -n '$C2' ] && [ \"\$(netns_of '$DEF2' 2>/dev/null)\" = '$C2' ]"
check "with mode 0600 ($(stat -c %a "$DEF2" 2>&1))" \
	test "$(stat -c %a "$DEF2" 2>/dev/null)" = 600
d_stop "$T/d2c.log"

finish
