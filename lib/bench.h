/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one internal header bench/ includes.  The benchmarks time the
 * library phase by phase (MPTCP_INFO, FULL_INFO, sock_diag, a generic
 * netlink round trip, the broker's exchange), so they need the layers'
 * own interfaces; they use nothing else of the library's internals, and
 * a change here is a change to bench/ too.
 */
#ifndef MPSOCK_BENCH_H
#define MPSOCK_BENCH_H

#include "op/op.h"

#endif
