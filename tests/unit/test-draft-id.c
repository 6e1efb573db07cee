// SPDX-License-Identifier: LGPL-2.1-or-later
/* The stateless kernel-id to draft-id mapping and its shadowing rule. */
#include <string.h>

#include "op/op.h"
#include "test.h"

static void snap_init(struct mps_snapshot *s, const __u32 *ids,
		      const __u8 *states, unsigned int n)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->info = s->inline_info;
	s->state = s->inline_state;
	s->count = n;
	for (i = 0; i < n; i++) {
		s->info[i].id = ids[i];
		s->state[i] = states[i];
	}
}

int main(void)
{
	struct mps_snapshot s;
	__u32 k;
	bool ident = true;

	for (k = 1; k <= 255; k++)
		ident &= mps_draft_id(k) == k;
	CHECK("kernel ids 1..255 keep their value", ident);
	CHECK("kernel id 256 wraps to draft id 1", mps_draft_id(256) == 1);
	CHECK("kernel id 510 maps to 255", mps_draft_id(510) == 255);
	CHECK("kernel id 511 maps to 1", mps_draft_id(511) == 1);
	CHECK("kernel id 0 has no draft id", mps_draft_id(0) == 0);
	CHECK("largest kernel id maps into 1..255",
	      mps_draft_id(0xffffffffu) >= 1 &&
		      mps_draft_id(0xffffffffu) <= 255);

	{
		const __u32 ids[] = {1, 2, 256};
		const __u8 st[] = {TCP_ESTABLISHED, TCP_ESTABLISHED,
				   TCP_ESTABLISHED};

		snap_init(&s, ids, st, 3);
		CHECK("older subflow keeps a shared draft id",
		      !mps_draft_id_shadowed(&s, 0));
		CHECK("newer subflow on the same draft id is hidden",
		      mps_draft_id_shadowed(&s, 2));
		CHECK("draft id 1 names kernel id 1",
		      mps_draft_find(&s, 1) == 0);
		CHECK("draft id 2 names kernel id 2",
		      mps_draft_find(&s, 2) == 1);
		CHECK("unused draft id is not found",
		      mps_draft_find(&s, 3) == -ESRCH);
		CHECK("draft id 0 is never found",
		      mps_draft_find(&s, 0) == -ESRCH);
	}
	{
		const __u32 ids[] = {1, 256};
		const __u8 st[] = {TCP_CLOSE, TCP_ESTABLISHED};

		snap_init(&s, ids, st, 2);
		CHECK("a closed subflow shadows nobody",
		      !mps_draft_id_shadowed(&s, 1));
		CHECK("draft id 1 then names kernel id 256",
		      mps_draft_find(&s, 1) == 1);
	}
	{
		const __u32 ids[] = {0, 2};
		const __u8 st[] = {TCP_CLOSE, TCP_SYN_SENT};

		snap_init(&s, ids, st, 2);
		CHECK("reset initial subflow (id 0, CLOSE) is not found",
		      mps_draft_find(&s, 1) == -ESRCH);
		CHECK("a connecting subflow is found",
		      mps_draft_find(&s, 2) == 1);
	}
	return test_done();
}
