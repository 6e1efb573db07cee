// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The wire's event message as the library's event stream and mpsock
 * monitor read it (mps_event_decode), and its encoder's round trip: what
 * decodes encodes back to the same event.
 */
#include <string.h>
#include <sys/socket.h>

#include "broker/broker.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_event_msg m, again;
	struct mps_event ev, ev2;
	__u32 lost, lost2;

	/* the decoder takes the message as received: aligned, any length */
	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size < sizeof(m) ? size : sizeof(m));
	if (mps_event_decode(&m, size, &ev, &lost))
		return 0;
	FUZZ_ASSERT(size == sizeof(m));
	FUZZ_ASSERT(ev.local.ss_family == 0 || ev.local.ss_family == AF_INET ||
		    ev.local.ss_family == AF_INET6);
	FUZZ_ASSERT(ev.remote.ss_family == 0 ||
		    ev.remote.ss_family == AF_INET ||
		    ev.remote.ss_family == AF_INET6);
	mps_event_encode(&again, &ev, lost);
	FUZZ_ASSERT(mps_event_decode(&again, sizeof(again), &ev2, &lost2) == 0);
	FUZZ_ASSERT(lost2 == lost && memcmp(&ev, &ev2, sizeof(ev)) == 0);
	return 0;
}
