#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sockets that are not MPTCP: an MPTCP socket whose peer speaks plain TCP
# (fallback, checked with ss -tiM) and a plain TCP socket both get
# EOPNOTSUPP from every draft read option, as the draft's section 3 says.

. "$(dirname "$0")/lib.sh"

netns_setup
OUT=$TESTNET_TMP/probe.out
CLI="nsenter --net=/run/netns/$TESTNET_CLI_NS --"

# fallback: MPTCP client, plain TCP server
if run_held "$OUT" $CLI "$MPSOCK_PROBE" -e -H "$TESTNET_SRV_WIFI4" \
	"$TESTNET_TCP_PORT"; then
	check "fallback: GET_SUB_IDS fails with EOPNOTSUPP" \
		grep -qx "draft get_sub_ids EOPNOTSUPP" "$OUT"
	# the subflow asked for MP_CAPABLE (m) and the peer never agreed (M)
	check "fallback: ss -tiM shows MP_CAPABLE refused" \
		bash -c "nsenter --net=/run/netns/$TESTNET_CLI_NS -- ss -tinMH | grep -q 'tcp-ulp-mptcp flags:m[^M ]* '"
	check "fallback: ss -M shows the MPTCP socket fell back" \
		bash -c "nsenter --net=/run/netns/$TESTNET_CLI_NS -- ss -MniH | grep -q fallback"
else
	not_ok "fallback: probe ready"
fi
stop_held

# a plain TCP socket to the MPTCP server
if run_held "$OUT" $CLI "$MPSOCK_PROBE" -P -e -H "$TESTNET_SRV_WIFI4" \
	"$TESTNET_MPTCP_PORT"; then
	check "plain TCP socket: GET_SUB_IDS fails with EOPNOTSUPP" \
		grep -qx "draft get_sub_ids EOPNOTSUPP" "$OUT"
	check "plain TCP socket: ss -tiM shows no MPTCP subflow" \
		test -z "$(ss_subflows "$TESTNET_MPTCP_PORT")"
else
	not_ok "plain TCP: probe ready"
fi
stop_held

finish
