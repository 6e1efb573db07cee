#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the tests' Python interpreter ($MPSOCK_PYTHON, default python3) with
# ARGS.  With MPSOCK_PY_PRELOAD set (an ASan build: the library needs the
# sanitizer's runtime first, which an unsanitized python3 does not load),
# preloads it into python3 alone, with leak detection off there: the
# interpreter leaves its own objects at exit, which would be reported,
# not libmpsock's (the C tests check those).
#
# Usage: run-python.sh ARGS...
py=${MPSOCK_PYTHON:-python3}
if [ -n "${MPSOCK_PY_PRELOAD:-}" ]; then
	exec env LD_PRELOAD="$MPSOCK_PY_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		PYTHONDONTWRITEBYTECODE=1 "$py" "$@"
fi
PYTHONDONTWRITEBYTECODE=1 exec "$py" "$@"
