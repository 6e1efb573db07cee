#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Renders each man page given as an argument with man(1) and fails if
# rendering prints anything on standard error (troff warnings, errors).
# Exits 77 (skip) when man(1) is not installed.

if ! command -v man >/dev/null 2>&1; then
	echo "check-man: man(1) not found, skipping" >&2
	exit 77
fi
if [ $# -eq 0 ]; then
	echo "usage: check-man.sh PAGE..." >&2
	exit 2
fi

# a locale that always exists, so that man has nothing to complain about
if locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; then
	LC_ALL=C.UTF-8
else
	LC_ALL=C
fi
export LC_ALL
MANWIDTH=80
export MANWIDTH

status=0
for page in "$@"; do
	if ! warnings=$(man --warnings -l -E UTF-8 "$page" 2>&1 >/dev/null); then
		echo "$page: man failed" >&2
		status=1
	fi
	if [ -n "$warnings" ]; then
		printf '%s:\n%s\n' "$page" "$warnings" >&2
		status=1
	fi
done
exit $status
