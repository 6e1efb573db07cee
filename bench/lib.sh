#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the benchmark scripts share: checks, the test network (client on the
# userspace path manager), mpsockd in the client namespace, cleanup of
# exactly what they started.  Source it after setting NAME (for messages),
# ROOT, and PIN_CMD (an array, possibly empty).

# stop_pid PID: SIGTERM (SIGKILL after 5 s) one child of ours, and reap it.
# shellcheck disable=SC2317 # reached from the EXIT trap
stop_pid()
{
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

MPSOCKD_PID=
EXTRA_PIDS=()

# shellcheck disable=SC2317 # the EXIT trap
bench_cleanup()
{
	local pid

	stop_pid "$MPSOCKD_PID"
	MPSOCKD_PID=
	for pid in "${EXTRA_PIDS[@]}"; do
		stop_pid "$pid"
	done
	EXTRA_PIDS=()
	testnet_down
}

# bench_prepare BIN...: as root, with these binaries, bring the network up
bench_prepare()
{
	local bin

	if [[ $(id -u) != 0 ]]; then
		echo "$NAME: must run as root (builds network namespaces)" >&2
		exit 1
	fi
	for bin in "$@"; do
		if [[ ! -x $bin ]]; then
			echo "$NAME: '$bin' not found: run 'ninja -C build'" >&2
			exit 1
		fi
	done
	export TESTNET_CLIENT_PM=userspace
	# shellcheck source=tests/lib/testnet.sh
	. "$ROOT/tests/lib/testnet.sh"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	testnet_up || exit $?
}

# bench_start_mpsockd: mpsockd in the client namespace (pinned by PIN_CMD),
# up and serving; sets MPSOCKD_PID and LOG
bench_start_mpsockd()
{
	local i

	LOG=$TESTNET_TMP/mpsockd.log
	# these benchmarks steer subflows themselves: no policy (or MPSOCKD_CONF)
	printf '%s\n' "${MPSOCKD_CONF:-policy single}" >"$TESTNET_TMP/mpsockd.conf"
	# nsenter (and taskset) exec mpsockd: $! is its pid; nsenter --net
	# only, so /sys/fs/cgroup stays visible for its BPF program
	nsenter --net="/run/netns/$TESTNET_CLI_NS" -- "${PIN_CMD[@]}" \
		"$MPSOCKD" -f "$TESTNET_TMP/mpsockd.conf" \
		--state "$TESTNET_TMP/mpsockd.state" </dev/null >"$LOG" 2>&1 &
	MPSOCKD_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "serving" "$LOG" 2>/dev/null && return 0
		if ! kill -0 "$MPSOCKD_PID" 2>/dev/null; then
			wait "$MPSOCKD_PID"
			echo "$NAME: mpsockd exited (status $?): $(cat "$LOG")" >&2
			MPSOCKD_PID=
			exit 1
		fi
		sleep 0.05
	done
	echo "$NAME: mpsockd did not start within 5 s: $(cat "$LOG")" >&2
	exit 1
}

# bench_finish RC: what mpsockd said (its log, less "serving" and the
# benchmark's expected null requests), whether it survived, and the exit
# status: 0 when the run completed, whether or not targets were met.
bench_finish()
{
	local rc=$1 other

	if ! kill -0 "$MPSOCKD_PID" 2>/dev/null; then
		echo "$NAME: mpsockd died during the run: $(cat "$LOG")" >&2
		rc=1
	fi
	other=$(grep -v -e "serving" -e "unknown request type" \
		-e "path manager: policy" "$LOG")
	if [[ -n $other ]]; then
		echo "$NAME: mpsockd reported:" >&2
		echo "$other" | head -20 >&2
	fi
	if ((rc != 0)); then
		echo "$NAME: the benchmark failed (status $rc)" >&2
		exit 1
	fi
	exit 0
}
