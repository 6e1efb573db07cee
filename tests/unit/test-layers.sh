#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-layers: lib/'s calls only go downward (ARCHITECTURE.md).  Reads the
# symbols each object of the library defines and needs (nm), names each
# object's layer by its directory (util < kernel < broker < op < api), and
# fails for every mps_ or mpsock_ symbol an object needs from a layer
# above its own (within a layer, files call each other: the draft's API is
# built on the native one).  Also: no file outside lib/ includes a layer's private
# header, and nothing includes the removed catch-all header.
#
# usage: test-layers.sh OBJDIR SRCDIR
set -u
objdir=$1
src=$2
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

rank() {
	case $1 in
	util_*) echo 0 ;;
	kernel_*) echo 1 ;;
	broker_*) echo 2 ;;
	op_*) echo 3 ;;
	api_*) echo 4 ;;
	*) echo 9 ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# every defined symbol with the rank of the object that defines it
: >"$tmp/defs"
objs=$(ls "$objdir" | grep '\.c\.o$')
[ -n "$objs" ] || { echo "1..1"; echo "not ok 1 - no objects in $objdir"; exit 1; }
for o in $objs; do
	r=$(rank "$o")
	if [ "$r" = 9 ]; then
		not_ok "$o is in no layer (lib/{util,kernel,broker,op,api}/)"
		continue
	fi
	nm --defined-only "$objdir/$o" | awk -v r="$r" -v o="$o" \
		'$2 ~ /^[TDBR]$/ && $3 ~ /^mps|^mpsock/ { print $3, r, o }' \
		>>"$tmp/defs"
done

for o in $objs; do
	r=$(rank "$o")
	[ "$r" = 9 ] && continue
	bad=$(nm --undefined-only "$objdir/$o" | awk '{ print $2 }' |
		grep -E '^(mps|mpsock)' | while read -r sym; do
			line=$(grep "^$sym " "$tmp/defs" | head -n 1)
			[ -n "$line" ] || { echo "$sym(undefined)"; continue; }
			dr=$(echo "$line" | cut -d' ' -f2)
			if [ "$dr" -gt "$r" ]; then
				echo "$sym($(echo "$line" | cut -d' ' -f3))"
			fi
		done)
	if [ -z "$bad" ]; then
		ok "$o calls only downward"
	else
		not_ok "$o calls upward: $(echo $bad)"
	fi
done

# headers: the layers' own are lib/'s; outside it, what each tool may use
leaked=$(grep -rlE '#include "(internal|broker_proto)\.h"' \
	"$src/lib" "$src/daemon" "$src/cli" "$src/bench" "$src/preload" \
	"$src/tests" 2>/dev/null)
if [ -z "$leaked" ]; then
	ok "no file includes the old catch-all headers"
else
	not_ok "old headers included by: $(echo $leaked)"
fi
bench=$(grep -hE '#include "[a-z]+/[a-z_]+\.h"' "$src"/bench/*.c | sort -u)
if [ -z "$bench" ]; then
	ok "bench/ includes no layer header but lib/bench.h"
else
	not_ok "bench/ includes layer headers: $(echo $bench)"
fi

echo "1..$n"
[ "$failed" = 0 ]
