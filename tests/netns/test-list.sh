#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The read side against real connections: GET_SUB_IDS, GET_SUB_TUPLE,
# per-subflow TCP_INFO and the native list, for 1, 2 and 4 subflows, IPv4,
# IPv6 and v4-mapped, as root and as an unprivileged user; every claim is
# compared with ss -tiM in the same namespace.

. "$(dirname "$0")/lib.sh"

netns_setup
PORT=$TESTNET_MPTCP_PORT
OUT=$TESTNET_TMP/probe.out

# list_case NAME RUNNER PROBEARGS HOST N ENDPOINT...
list_case()
{
	local name=$1 runner=$2 pargs=$3 host=$4 n=$5 want

	shift 5
	# ss must show this case's connection alone: the one before has closed
	wait_mptcp_idle
	if ! set_endpoints "$@"; then
		not_ok "$name: endpoints"
		return
	fi
	# shellcheck disable=SC2086
	if ! run_held "$OUT" $runner "$PROBE" $pargs -n "$n" -g -H \
		"$host" "$PORT"; then
		not_ok "$name: probe ready"
		stop_held
		return
	fi
	want=$(ss_subflows "$PORT")
	check "$name: ss sees $n subflows" \
		test "$(echo "$want" | grep -c .)" -eq "$n"
	same "$name: native list == ss -tiM" "$want" "$(probe_native "$OUT")"
	same "$name: GET_SUB_IDS + GET_SUB_TUPLE == ss -tiM" \
		"$(ss_draft "$PORT")" "$(probe_draft "$OUT")"
	check "$name: sub_count $n, optlen 2+2*$n" \
		grep -qx "draft count=$n optlen=$((2 + 2 * n))" "$OUT"
	check "$name: initial subflow is draft id 1" \
		grep -q '^draft id=1 .* slave_sk=0 ' "$OUT"
	check "$name: TCP_INFO for each id via MPTCP_SUB_GETSOCKOPT" \
		test "$(grep -c '^draft sub_tcp_info id=[0-9]* state=1 ' "$OUT")" \
		-eq "$n"
	check "$name: grow-and-retry from every size 0..64" \
		grep -qx "grow ok" "$OUT"
	stop_held
}

PROBE=$MPSOCK_PROBE
CLI="nsenter --net=/run/netns/$TESTNET_CLI_NS --"
testnet_add_client_addr wifi 10.0.1.3/24
testnet_add_client_addr cell 10.0.2.3/24

list_case "v4 1 subflow" "$CLI" -4 "$TESTNET_SRV_WIFI4" 1
list_case "v4 2 subflows" "$CLI" -4 "$TESTNET_SRV_WIFI4" 2 \
	"$TESTNET_CLI_CELL4 subflow"
list_case "v4 4 subflows, one backup" "$CLI" -4 "$TESTNET_SRV_WIFI4" 4 \
	"$TESTNET_CLI_CELL4 subflow" "10.0.1.3 subflow" \
	"10.0.2.3 subflow backup"
# found by sock_diag only with its ifindex: the lookup's slow path
list_case "v4 device-bound backup subflow" "$CLI" -4 "$TESTNET_SRV_WIFI4" 2 \
	"$TESTNET_CLI_CELL4 dev cell subflow backup"
list_case "v6 2 subflows, one backup" "$CLI" -6 "$TESTNET_SRV_WIFI6" 2 \
	"$TESTNET_CLI_CELL6 subflow backup"
list_case "v4-mapped 2 subflows" "$CLI" -m "$TESTNET_SRV_WIFI4" 2 \
	"$TESTNET_CLI_CELL4 subflow"

PROBE=$(probe_for_anyone)
list_case "unprivileged v4 4 subflows" "$(unpriv_prefix)" -4 "$TESTNET_SRV_WIFI4" 4 \
	"$TESTNET_CLI_CELL4 subflow" "10.0.1.3 subflow" \
	"10.0.2.3 subflow backup"
list_case "unprivileged v6 2 subflows" "$(unpriv_prefix)" -6 "$TESTNET_SRV_WIFI6" 2 \
	"$TESTNET_CLI_CELL6 subflow"

finish
