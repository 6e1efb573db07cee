// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The endpoint table and limits of the namespace, read with the path
 * manager's GET_ADDR (no token) and GET_LIMITS.  The kernel sends no event
 * when they change: the policy reads them again on a timer and on every
 * address or link change, when NetworkManager adds or removes endpoints.
 */
#include <errno.h>
#include <string.h>

#include "endpoints.h"

static struct ep_table cur;

const struct ep_table *endpoints(void)
{
	return &cur;
}

const struct mps_local_id *endpoint_of(const struct sockaddr_storage *addr)
{
	unsigned int i;

	for (i = 0; i < cur.n; i++)
		if (mps_addr_equal(&cur.ep[i].addr, addr, false))
			return &cur.ep[i];
	return NULL;
}

static bool same(const struct ep_table *a, const struct ep_table *b)
{
	unsigned int i;

	if (a->n != b->n || a->subflows_max != b->subflows_max ||
	    a->add_addr_accepted_max != b->add_addr_accepted_max)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->ep[i].id != b->ep[i].id ||
		    a->ep[i].flags != b->ep[i].flags ||
		    a->ep[i].ifindex != b->ep[i].ifindex ||
		    !mps_addr_equal(&a->ep[i].addr, &b->ep[i].addr, true))
			return false;
	return true;
}

int endpoints_refresh(void)
{
	char msg[MPS_MSG_LEN];
	struct ep_table t;
	struct mps_genl *g;
	int n, err;

	memset(&t, 0, sizeof(t));
	err = mps_genl_cached(&g);
	if (err)
		return err;
	n = mps_pm_local_ids(g, 0, t.ep, EP_MAX, msg, sizeof(msg));
	if (n < 0)
		return n;
	t.n = n;
	err = mps_pm_limits(g, &t.subflows_max, &t.add_addr_accepted_max, msg,
			    sizeof(msg));
	if (err)
		return err;
	if (same(&t, &cur))
		return 0;
	cur = t;
	return 1;
}
