/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which interface a subflow's packets leave through, asked of the kernel's
 * routing (rules and tables included), with the answers kept until the
 * routing changes.
 */
#ifndef MPSOCKD_ROUTE_H
#define MPSOCKD_ROUTE_H

#include <sys/socket.h>

/*
 * The interface a socket from @local to @remote sends through: bound to
 * @ifindex, that interface if a route through it reaches @remote and 0 if
 * none does (the kernel would then send on the link blindly); unbound
 * (@ifindex 0), the one routing picks, or 0 if nothing reaches @remote.
 * -errno when the kernel could not be asked.
 */
int route_egress(const struct sockaddr_storage *local,
		 const struct sockaddr_storage *remote, int ifindex);
/*
 * The source address routing picks towards @remote for a socket bound to
 * no address (RTA_PREFSRC): 0, or -errno (-EADDRNOTAVAIL: no preferred
 * source; -ENETUNREACH: no route).
 */
int route_source(const struct sockaddr_storage *remote,
		 struct sockaddr_storage *src);
/* Routes, rules, links or addresses changed: forget every answer. */
void route_invalidate(void);
void route_close(void);

#endif
