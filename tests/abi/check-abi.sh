#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The exported ABI is exactly the version script, the newest script node is
# the project's version, and every exported function has a declaration in
# mpsock.h, a man page and a test.
#
# Usage: check-abi.sh LIBMPSOCK.so SRCDIR VERSION [PRELOAD.so]
set -u
lib=$1 src=$2 version=$3 preload=${4:-}
map=$src/lib/libmpsock.map
fail=0 n=0

t()
{
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		printf '%s\n' "$2" | sed 's/^/# /'
		fail=1
	fi
}

want_node="MPSOCK_$(echo "$version" | cut -d. -f1-2)"
newest=$(grep -o '^MPSOCK_[0-9.]*' "$map" | tail -n 1)
t "newest map node $newest is $want_node" \
	"$([ "$newest" = "$want_node" ] || echo "map: $newest, project: $version")"

map_syms=$(sed -n 's/^[[:space:]]*\(mpsock_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
t "exported symbols == map" "$(diff <(echo "$map_syms") <(echo "$exported"))"

declared=$(grep -A1 'MPSOCK_API' "$src/include/mpsock.h" |
	grep -o 'mpsock_[a-z0-9_]*(' | tr -d '(' | sort -u)
t "MPSOCK_API declarations == map" "$(diff <(echo "$map_syms") <(echo "$declared"))"

missing_man=
missing_test=
for s in $map_syms; do
	[ -f "$src/man/$s.3.scd" ] || missing_man="$missing_man $s"
	grep -rqw "$s" "$src/tests" --include='*.c' --include='*.sh' ||
		missing_test="$missing_test $s"
done
t "every exported function has a man page" "${missing_man# }"
t "every exported function is tested" "${missing_test# }"

if [ -n "$preload" ]; then
	shim=$(nm -D --defined-only "$preload" | awk '$2 == "T" { print $3 }' | sort)
	t "the preload shim exports only getsockopt, setsockopt, socket" \
		"$(diff <(printf 'getsockopt\nsetsockopt\nsocket\n') <(echo "$shim"))"
fi

echo "1..$n"
exit $fail
