// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Maps the kernel's 32-bit subflow ids (never reused, start at 1) onto the
 * draft's 8-bit ids without keeping any state.
 *
 * A subflow's draft id depends on its kernel id alone: ((k - 1) % 255) + 1,
 * so it equals the kernel id for the first 255 subflows of a connection and
 * never changes while the subflow lives.  Past 255, two live subflows can
 * land on one draft id; the one with the lower kernel id keeps it and the
 * other is not reported by the draft layer until the first one closes (the
 * native layer reports both).  A draft id therefore never names two live
 * subflows at once.
 */
#include "op/op.h"

__u8 mps_draft_id(__u32 kernel_id)
{
	if (!kernel_id)
		return 0; /* the kernel's id of a reset initial subflow */
	return (__u8)((kernel_id - 1) % 255 + 1);
}

/* True if entry @idx is hidden behind an older live subflow's draft id. */
bool mps_draft_id_shadowed(const struct mps_snapshot *snap, unsigned int idx)
{
	__u32 k = snap->info[idx].id;
	__u8 d = mps_draft_id(k);
	unsigned int i;

	if (!d)
		return true;
	for (i = 0; i < snap->count; i++) {
		if (i == idx || !mps_snapshot_live(snap, i))
			continue;
		if (mps_draft_id(snap->info[i].id) == d && snap->info[i].id < k)
			return true;
	}
	return false;
}

/* Index of the live subflow reported under @draft_id, or -ESRCH. */
int mps_draft_find(const struct mps_snapshot *snap, __u8 draft_id)
{
	unsigned int i;

	if (!draft_id)
		return -ESRCH;
	for (i = 0; i < snap->count; i++) {
		if (!mps_snapshot_live(snap, i) ||
		    mps_draft_id(snap->info[i].id) != draft_id)
			continue;
		if (!mps_draft_id_shadowed(snap, i))
			return i;
	}
	return -ESRCH;
}
