// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpsock_events_open(3) and its siblings: a pollable stream of one
 * connection's subflow events (op/event_stream.c does the work).
 */
#include "op/op.h"

struct mpsock_events *mpsock_events_open(int fd)
{
	return mps_stream_open(fd);
}

int mpsock_events_fd(const struct mpsock_events *e)
{
	if (!e)
		return mps_fail(-EINVAL);
	return mps_stream_fd(e);
}

int mpsock_events_read(struct mpsock_events *e, struct mpsock_event *out)
{
	int err;

	if (!e || !out)
		return mps_fail(-EFAULT);
	err = mps_stream_read(e, out);
	return err ? mps_fail(err) : 0;
}

void mpsock_events_close(struct mpsock_events *e)
{
	if (e)
		mps_stream_close(e);
}
