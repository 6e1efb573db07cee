#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds mpsock's Debian packages (source and binary, unsigned) from this
# tree, in a copy of its files (tracked ones, and new ones git does not
# ignore) under OUTDIR, and checks them with lintian: the .debs, the .dsc
# and lintian's report land in OUTDIR.  Needs the Build-Depends of
# debian/control, dpkg-dev and lintian (tools/run.sh installs them).
#
# Usage: tools/build-deb.sh [--strict] [OUTDIR]      (default: build-deb)
# Exit status: 0 built, 1 not; with --strict (CI) also 1 when lintian
# reports an error or a warning (overrides aside).
set -eu
strict=0
if [ "${1:-}" = --strict ]; then
	strict=1
	shift
fi
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$src/build-deb}")
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree=$out/mpsock-$version

mkdir -p "$out"
# a fresh copy each time: nothing of an earlier build leaks in
rm -rf "$tree"
rm -f "$out"/mpsock_* "$out"/libmpsock0_* "$out"/libmpsock0-dbgsym_* \
	"$out"/libmpsock-dev_* "$out"/mpsockd_* "$out"/mpsockd-dbgsym_* \
	"$out"/mpsock-tools_* "$out"/mpsock-tools-dbgsym_* \
	"$out"/python3-mpsock_*
mkdir "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z -co --exclude-standard |
		(cd "$src" && xargs -0 tar -cf - --no-recursion) |
		tar -xf - -C "$tree"
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . |
		tar -xf - -C "$tree"
fi

echo "== dpkg-buildpackage (mpsock $version)"
(cd "$tree" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log"
	echo "build-deb: dpkg-buildpackage failed; whole log: $out/build.log" >&2
	exit 1
}
rm -rf "$tree"
ls -l "$out"/*_"$version"_*.deb | awk '{ printf "%8d  %s\n", $5, $NF }'

echo "== lintian"
if ! command -v lintian >/dev/null; then
	echo "lintian is not installed: the packages are not checked"
	exit "$strict"
fi
changes=$(ls "$out"/mpsock_"${version}"_*.changes)
lintian --info --display-info --pedantic --fail-on error,warning \
	"$changes" >"$out/lintian.log" 2>&1 && rc=0 || rc=$?
cat "$out/lintian.log"
echo "lintian: $(grep -c '^[EW]:' "$out/lintian.log") errors and warnings," \
	"$(grep -c '^[IP]:' "$out/lintian.log") info and pedantic tags" \
	"(exit $rc)"
[ "$strict" = 0 ] || exit "$rc"
