// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * bench-events' clock on the kernel side: the instant the kernel wakes a
 * task that sleeps on the MPTCP events group (the netlink broadcast
 * queues the event on the listener's socket and wakes its poll()).  User
 * space names up to EV_TARGETS task ids (the readers' threads, mpsockd),
 * arms, triggers one event, and reads back when each target was first
 * woken while armed: the earliest is the event's first delivery.
 *
 * A raw tracepoint on sched_waking: one load of `armed` for every other
 * wake-up on the machine, a few compares while armed.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EV_TARGETS 4

__u32 armed;
__u32 targets[EV_TARGETS]; /* task ids (thread ids); 0: unused */
__u64 woke[EV_TARGETS]; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC); 0: not */

SEC("raw_tp/sched_waking")
int BPF_PROG(event_wake, struct task_struct *p)
{
	__u32 pid, i;

	if (!armed)
		return 0;
	pid = BPF_CORE_READ(p, pid);
	for (i = 0; i < EV_TARGETS; i++) {
		if (targets[i] && targets[i] == pid && !woke[i])
			woke[i] = bpf_ktime_get_ns();
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
