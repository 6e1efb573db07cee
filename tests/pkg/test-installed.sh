#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The namespace suites against the installed files: mpsock installed into
# a copy of the Debian 12 image (lib.sh), and each test named on the
# command line run in a chroot of it, with mpsockd, mpsock, the preload
# shim and libmpsock.so taken from where the installation put them, and
# the test tools from the build tree (bound at the same path).  Before
# that: the files are where the packages say, the configuration is a
# conffile and parses to the built-in defaults.  One TAP line per test,
# with its failing lines as comments.
#
# Usage: test-installed.sh SUITE/TEST[:plain]...
#   e.g. netns/test-broker netns/test-policy:plain cli/test-cli
#   (":plain": with TESTNET_ROUTING=plain, as meson's *-plain tests)
# Environment: that of the netns suite (paths of the test tools), and
# MPSOCK_DEBS, MPSOCK_BUILD_ROOT (lib.sh); MPSOCK_INSTALLED_JOBS tests at
# once (default 2).

. "$(dirname "$0")/lib.sh"
sys_reexec "$@"
[ $# -gt 0 ] || { echo "usage: $0 SUITE/TEST[:plain]..." >&2; exit 64; }

sys_root
sys_install || {
	sed 's/^/# /' "$SYS_T/install.log"
	echo "Bail out! installing mpsock into the image failed"
	exit 1
}
echo "# mpsock from $SYS_HOW: $SYS_MPSOCKD, $SYS_MPSOCK, $SYS_LIBDIR, $SYS_CONF"

# what a chroot needs; /run of its own (the tests' namespaces are named
# there); the sources and the build tree where the test tools expect them
mount -t proc proc "$SYS_ROOT/proc"
mount --rbind /sys "$SYS_ROOT/sys"
mount --rbind /dev "$SYS_ROOT/dev"
mount -t tmpfs tmpfs "$SYS_ROOT/run"
sys_bind "$SRC_ROOT"
case $BUILD_ROOT/ in
"$SRC_ROOT"/*) ;;
*) sys_bind "$BUILD_ROOT" ;;
esac

# in_root CMD...: CMD in the chroot, with the installed files in the
# tests' variables
in_root()
{
	chroot "$SYS_ROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TMPDIR=/tmp LANG=C.UTF-8 \
		MPSOCK_TEST_STRICT="${MPSOCK_TEST_STRICT:-0}" \
		MPSOCK_VERSION="${MPSOCK_VERSION:-}" \
		MPSOCK_PROBE="$MPSOCK_PROBE" MPSOCK_TESTSRV="$MPSOCK_TESTSRV" \
		MPSOCK_EXAMPLES="$MPSOCK_EXAMPLES" MPSOCK_CTL="$MPSOCK_CTL" \
		MPSOCK_RAWREQ="$MPSOCK_RAWREQ" MPSOCK_EVLOAD="$MPSOCK_EVLOAD" \
		MPSOCK_PMCLIENT="$MPSOCK_PMCLIENT" \
		MPSOCK_FIGURES="$MPSOCK_FIGURES" \
		MPSOCKD="$SYS_MPSOCKD" MPSOCK_CLI="$SYS_MPSOCK" \
		MPSOCK_PRELOAD="$SYS_LIBDIR/libmpsock-preload.so" \
		LD_LIBRARY_PATH="$SYS_LIBDIR" "$@"
}

# ------------------------------------------------------ the installed files

if [ -n "${MPSOCK_DEBS:-}" ]; then
	check "the packages are installed" \
		eval 'in_root dpkg-query -W libmpsock0 mpsockd mpsock-tools python3-mpsock >/dev/null'
	check "at their Debian paths" eval '[ "$SYS_MPSOCKD" = /usr/sbin/mpsockd ] &&
		[ "$SYS_MPSOCK" = /usr/bin/mpsock ] &&
		[ "$SYS_CONF" = /etc/mpsock/mpsockd.conf ] &&
		[[ $SYS_LIBDIR == /usr/lib/*-linux-gnu ]]'
	check "/etc/mpsock/mpsockd.conf is a conffile of mpsockd" \
		eval 'in_root dpkg-query -W -f="\${Conffiles}" mpsockd |
		grep -q "^ /etc/mpsock/mpsockd.conf "'
	check "the units are installed and mpsockd.service enabled" \
		eval 'in_root test -f /lib/systemd/system/mpsockd@.service &&
		in_root test -L /etc/systemd/system/multi-user.target.wants/mpsockd.service'
	# the system's python3, no PYTHONPATH: the module from dist-packages,
	# the library found by its soname
	check "python3-mpsock: import mpsock and help(mpsock) with the installed libmpsock" \
		eval 'in_root sh -c "python3 -c \"import mpsock, pydoc; print(mpsock.__file__, mpsock.__version__); pydoc.render_doc(mpsock)\"" >"$SYS_T/python.out" &&
		grep -q "^/usr/lib/python3/dist-packages/mpsock/__init__.py [0-9]" "$SYS_T/python.out"'
fi
check "mpsockd's default configuration is the installed file ($SYS_CONF)" \
	eval 'in_root "$SYS_MPSOCKD" --help | grep -qF "$SYS_CONF"'
check "the installed configuration parses to the built-in defaults" \
	eval '"$BUILD_ROOT/tests/unit/test-config" "$SYS_ROOT$SYS_CONF" >"$SYS_T/config.tap"'
grep '^not ok' "$SYS_T/config.tap" | sed 's/^/# /'
LIBMPSOCK=$(in_root ldd "$MPSOCK_EXAMPLES/fig2-sub-ids" |
	awk '$1 == "libmpsock.so.0" { print $3 }')
check "the examples run with the installed libmpsock.so.0 ($LIBMPSOCK)" \
	test "$LIBMPSOCK" = "$SYS_LIBDIR/libmpsock.so.0"

# ------------------------------------------------------ the namespace suites

# run_one ID: the test ID (SUITE/TEST[:plain]) in the chroot; its output
# in $SYS_T/ID.log, its exit status in $SYS_T/ID.rc
run_one()
{
	local id=$1 f=${1//\//_} script routing=policy

	script=$SRC_ROOT/tests/${id%:plain}.sh
	[[ $id == *:plain ]] && routing=plain
	in_root TESTNET_ROUTING=$routing bash "$script" >"$SYS_T/$f.log" 2>&1
	echo $? >"$SYS_T/$f.rc"
}

jobs_max=${MPSOCK_INSTALLED_JOBS:-2}
for id in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	run_one "$id" &
done
wait

for id in "$@"; do
	f=${id//\//_}
	rc=$(cat "$SYS_T/$f.rc" 2>/dev/null || echo 1)
	subtests="$(grep -c '^ok ' "$SYS_T/$f.log") passed"
	subtests="$subtests, $(grep -c '^not ok ' "$SYS_T/$f.log") failed"
	if [ "$rc" = 77 ]; then
		ok "$id # SKIP $(sed -n 's/^1\.\.0 # SKIP //p' "$SYS_T/$f.log")"
	elif [ "$rc" = 0 ]; then
		ok "$id, installed ($subtests)"
	else
		not_ok "$id, installed ($subtests; exit $rc)"
		grep -E '^(not ok|Bail out)|^# ' "$SYS_T/$f.log" | head -n 40 |
			sed 's/^/#   /'
	fi
done

finish
