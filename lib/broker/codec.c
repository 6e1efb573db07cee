// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The wire's event message (struct mps_event_msg) and the parsed kernel
 * event (struct mps_event), both ways, in one place: mpsockd encodes, the
 * library's event stream and mpsock monitor decode.
 */
#include <string.h>

#include "broker/broker.h"

void mps_event_encode(struct mps_event_msg *m, const struct mps_event *ev,
		      __u32 lost)
{
	memset(m, 0, sizeof(*m));
	m->version = MPS_PROTO_VERSION;
	m->lost = lost;
	if (!ev)
		return;
	m->type = ev->type;
	m->token = ev->token;
	m->error = ev->error;
	m->has_error = ev->has_error;
	m->backup = ev->backup;
	m->loc_id = ev->loc_id;
	m->rem_id = ev->rem_id;
	m->server_side = ev->server_side;
	m->local = ev->local;
	m->remote = ev->remote;
}

int mps_event_decode(const struct mps_event_msg *m, size_t len,
		     struct mps_event *ev, __u32 *lost)
{
	if (len != sizeof(*m) || m->version != MPS_PROTO_VERSION)
		return -EPROTO;
	memset(ev, 0, sizeof(*ev));
	*lost = m->lost;
	ev->type = m->type;
	ev->token = m->token;
	ev->error = m->error;
	ev->has_error = m->has_error;
	ev->backup = m->backup;
	ev->loc_id = m->loc_id;
	ev->rem_id = m->rem_id;
	ev->server_side = m->server_side;
	ev->local = m->local;
	ev->remote = m->remote;
	/* the wire's addresses are whatever a peer sent: make them sane */
	if (ev->local.ss_family != AF_INET && ev->local.ss_family != AF_INET6)
		memset(&ev->local, 0, sizeof(ev->local));
	if (ev->remote.ss_family != AF_INET && ev->remote.ss_family != AF_INET6)
		memset(&ev->remote, 0, sizeof(ev->remote));
	return 0;
}
