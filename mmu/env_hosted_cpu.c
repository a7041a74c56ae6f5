// SPDX-License-Identifier: MIT
/*
 * Hosted per-CPU slots (env.h env_cpu_slot): each thread takes the next
 * index on first use, so the threads of a benchmark or test land on
 * separate slots (and separate cache lines) until there are more threads
 * than ENV_CPU_SLOTS.
 */
#include "mmu/env_hosted.h"
#include "mmu/atomic.h"

static u32 next_slot, all_share;

/* Tests: every thread on slot 0, as threads beyond ENV_CPU_SLOTS would
 * share slots (so per-CPU data must still be updated atomically). Only to
 * be switched while no thread holds an MMU lock. */
void env_hosted_share_cpu_slot(bool on)
{
	atomic_set(&all_share, on);
}

unsigned env_cpu_slot(void)
{
	static _Thread_local unsigned slot_plus_one;

	if (unlikely(atomic_read(&all_share)))
		return 0;
	if (unlikely(!slot_plus_one))
		slot_plus_one = atomic_add(&next_slot, 1) % ENV_CPU_SLOTS + 1;
	return slot_plus_one - 1;
}
