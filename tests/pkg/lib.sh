#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the system tests: a Debian 12 image with systemd, built once
# with debootstrap and cached; a throw-away copy of it for each run (an
# overlay); mpsock installed into that copy from the .debs in
# $MPSOCK_DEBS (tools/build-deb.sh), or, without, from the build tree
# (meson install); and the TAP helpers of the namespace tests.
#
# A test calls sys_reexec "$@" first: the test then runs in a mount
# namespace of its own, so that every mount it makes (the overlay, the
# binds into the copy) disappears with it, and its per-run directory is
# removed afterwards from outside, where nothing is mounted in it.
#
# Environment:
#   MPSOCK_DEBS          directory with the .debs (else: the build tree)
#   MPSOCK_BUILD_ROOT    the meson build directory (set by meson)
#   MPSOCK_SYSTEM_IMAGE  the cached image (default
#                        /var/tmp/mpsock-system-bookworm-1); built when
#                        missing, under a lock, never removed by a test

PKG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$PKG_DIR/../netns/lib.sh"

SYS_IMAGE=${MPSOCK_SYSTEM_IMAGE:-/var/tmp/mpsock-system-bookworm-2}
# what the image holds: systemd, what mpsock's packages depend on, and
# what the namespace tests use
SYS_PACKAGES=systemd,systemd-sysv,dbus,iproute2,procps,util-linux,libmnl0,libbpf1,libelf1,zlib1g,libsystemd0,tcpdump,jq,python3
SRC_ROOT=$(cd "$PKG_DIR/../.." && pwd)
BUILD_ROOT=${MPSOCK_BUILD_ROOT:-$SRC_ROOT/build}

# sys_reexec ARGS...: run this script again in a private mount namespace,
# with a per-run directory $SYS_T that is removed when it ends
sys_reexec()
{
	local rc=0

	local prop=private

	[ "$(id -u)" = 0 ] || skip_all "needs root"
	if [ -n "${_SYS_INNER:-}" ]; then
		# no private root: make the run's directory a private mount
		# of its own, so that what is mounted below it stays here
		if [ "${_SYS_PROP:-}" = unchanged ]; then
			mount --bind "$SYS_T" "$SYS_T" &&
				mount --make-rprivate "$SYS_T" ||
				skip_all "cannot make $SYS_T a private mount"
		fi
		return 0
	fi
	command -v unshare >/dev/null || skip_all "no unshare(1)"
	SYS_T=$(mktemp -d /var/tmp/mpsock-sys.XXXXXX)
	chmod 755 "$SYS_T"
	# in a chroot whose / is no mount point, making / private fails
	# (EINVAL): then only the run's directory is made private
	unshare --mount --propagation private true 2>/dev/null ||
		prop=unchanged
	_SYS_INNER=1 _SYS_PROP=$prop SYS_T=$SYS_T \
		unshare --mount --propagation "$prop" -- \
		bash "$0" "$@" || rc=$?
	# the namespace is gone, and its mounts with it: only files remain
	rm -rf --one-file-system "$SYS_T"
	exit "$rc"
}

_sys_mirror()
{
	local m

	m=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources \
		2>/dev/null | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# sys_image: the cached image, built now if it is missing
sys_image()
{
	local lock tmp

	[ -f "$SYS_IMAGE/.mpsock-image" ] && return 0
	command -v debootstrap >/dev/null ||
		skip_all "no debootstrap to build the Debian image $SYS_IMAGE"
	exec {lock}>"$SYS_IMAGE.lock"
	flock "$lock"
	if [ ! -f "$SYS_IMAGE/.mpsock-image" ]; then
		echo "# building the Debian 12 image $SYS_IMAGE (once)" >&2
		tmp=$(mktemp -d "$SYS_IMAGE.new.XXXXXX")
		if ! debootstrap --variant=minbase --include="$SYS_PACKAGES" \
			bookworm "$tmp" "$(_sys_mirror)" >"$tmp.log" 2>&1; then
			tail -n 5 "$tmp.log" | sed 's/^/# /' >&2
			rm -rf --one-file-system "$tmp" "$tmp.log"
			flock -u "$lock"
			skip_all "debootstrap could not build the image (no Debian mirror?)"
		fi
		rm -f "$tmp.log"
		# no login prompts, no network configuration of its own
		rm -f "$tmp/etc/systemd/system/getty.target.wants/"*
		touch "$tmp/.mpsock-image"
		mv "$tmp" "$SYS_IMAGE"
	fi
	flock -u "$lock"
	exec {lock}>&-
}

# sys_root: $SYS_ROOT, a writable copy of the image for this run
sys_root()
{
	sys_image
	SYS_ROOT=$SYS_T/root
	mkdir -p "$SYS_ROOT" "$SYS_T/upper" "$SYS_T/work"
	if ! mount -t overlay overlay -o "lowerdir=$SYS_IMAGE,upperdir=$SYS_T/upper,workdir=$SYS_T/work" \
		"$SYS_ROOT" 2>/dev/null; then
		# no overlayfs: a copy, slower
		cp -a "$SYS_IMAGE/." "$SYS_ROOT/"
	fi
}

# sys_install: mpsock into $SYS_ROOT; sets SYS_HOW, SYS_MPSOCKD,
# SYS_MPSOCK, SYS_LIBDIR, SYS_CONF (paths inside the copy)
# shellcheck disable=SC2034
sys_install()
{
	local d

	if [ -n "${MPSOCK_DEBS:-}" ]; then
		SYS_HOW="the packages of $MPSOCK_DEBS"
		mkdir -p "$SYS_ROOT/tmp/debs"
		for d in libmpsock0 mpsockd mpsock-tools python3-mpsock; do
			cp "$MPSOCK_DEBS/${d}_"*.deb "$SYS_ROOT/tmp/debs/" ||
				return 1
		done
		chroot "$SYS_ROOT" sh -c 'dpkg -i /tmp/debs/*.deb' \
			>"$SYS_T/install.log" 2>&1 || return 1
	else
		SYS_HOW="the build tree $BUILD_ROOT (meson install)"
		meson install -C "$BUILD_ROOT" --no-rebuild --quiet \
			--destdir "$SYS_ROOT" >"$SYS_T/install.log" 2>&1 ||
			return 1
		chroot "$SYS_ROOT" ldconfig
		chroot "$SYS_ROOT" systemctl enable mpsockd.service \
			>>"$SYS_T/install.log" 2>&1 || return 1
	fi
	SYS_MPSOCKD=$(cd "$SYS_ROOT" && ls -d usr/sbin/mpsockd usr/local/sbin/mpsockd 2>/dev/null | head -n 1)
	SYS_MPSOCK=$(cd "$SYS_ROOT" && ls -d usr/bin/mpsock usr/local/bin/mpsock 2>/dev/null | head -n 1)
	SYS_LIBDIR=$(cd "$SYS_ROOT" && find usr -name libmpsock-preload.so -printf '%h\n' | head -n 1)
	SYS_CONF=$(cd "$SYS_ROOT" && ls -d etc/mpsock/mpsockd.conf usr/local/etc/mpsock/mpsockd.conf 2>/dev/null | head -n 1)
	SYS_MPSOCKD=/$SYS_MPSOCKD SYS_MPSOCK=/$SYS_MPSOCK
	SYS_LIBDIR=/$SYS_LIBDIR SYS_CONF=/$SYS_CONF
	[ -x "$SYS_ROOT$SYS_MPSOCKD" ] && [ -x "$SYS_ROOT$SYS_MPSOCK" ] &&
		[ -f "$SYS_ROOT$SYS_LIBDIR/libmpsock-preload.so" ]
}

# sys_bind DIR...: DIR of the host at the same path in the copy
sys_bind()
{
	local d

	for d in "$@"; do
		mkdir -p "$SYS_ROOT$d"
		mount --bind "$d" "$SYS_ROOT$d"
	done
}
