// SPDX-License-Identifier: MIT
/*
 * Why one phase flip is enough (all operations are sequentially consistent):
 * a reader increments readers[p], then re-reads phase. If the writer's wait
 * did not see that increment, the increment comes after the writer's flip in
 * the total order, so the reader sees the new phase, backs out, and re-enters
 * on the other counter; its later load of the snapshot pointer then sees the
 * snapshot the writer published before flipping. If the re-read still shows
 * p, the increment preceded the flip and the writer waits for it.
 *
 * The counters are per CPU (each slot on its own cache line), so readers on
 * different CPUs never write the same line; a reader leaves on the slot it
 * entered on (the token carries it). The writer, after its flip, sums the
 * old phase over every slot until the sum is zero: a slot it read as zero
 * can only gain readers that entered after the flip, and those back out.
 */
#include "mmu/srcu.h"
#include "mmu/atomic.h"
#include "mmu/lock.h"

void srcu_init(struct slots_srcu *s)
{
	*s = (struct slots_srcu){ 0 };
}

int srcu_read_lock(struct slots_srcu *s)
{
	unsigned cpu = env_cpu_slot();
	u64 *readers = s->slot[cpu].readers;

	lock_track_acquire(s, LOCK_SHARED, LOCK_ORDER_SLOTS_READ);
	for (;;) {
		u32 p = atomic_read_sc(&s->phase) & 1;

		atomic_add(&readers[p], 1);
		if ((atomic_read_sc(&s->phase) & 1) == p)
			return (int)(cpu << 1 | p);
		atomic_sub(&readers[p], 1);
	}
}

void srcu_read_unlock(struct slots_srcu *s, int token)
{
	u64 *readers = s->slot[(unsigned)token >> 1].readers;
	u64 left = __atomic_sub_fetch(&readers[token & 1], 1, __ATOMIC_RELEASE);

	MMU_ASSERT((unsigned)token >> 1 < ENV_CPU_SLOTS);
	MMU_ASSERT(left != ~0ull);
	lock_track_release(s);
}

static u64 srcu_readers(struct slots_srcu *s, u32 phase)
{
	u64 n = 0;

	for (unsigned i = 0; i < ENV_CPU_SLOTS; i++)
		n += atomic_read_sc(&s->slot[i].readers[phase]);
	return n;
}

void srcu_synchronize(struct slots_srcu *s)
{
	u32 old;

	assert_lock_not_held(s);
	old = atomic_read_sc(&s->phase) & 1;
	atomic_set_sc(&s->phase, old ^ 1);
	while (srcu_readers(s, old))
		env_yield();
}

bool srcu_read_held(const struct slots_srcu *s)
{
	return lock_held_mode(s) == LOCK_SHARED;
}
