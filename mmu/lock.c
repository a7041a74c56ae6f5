// SPDX-License-Identifier: MIT
/*
 * The MMU's locks, built from atomics only so that keel.efi and the hosted
 * tests run the very same code (ThreadSanitizer follows the acquire/release
 * pairs). See lock.h for the contract.
 */
#include "mmu/lock.h"
#include "mmu/atomic.h"

#define RW_WRITER BIT(31)

void mmu_rwlock_init(struct mmu_rwlock *l, const char *name, u8 order)
{
	*l = (struct mmu_rwlock){ .name = name, .order = order };
}

static bool rw_try_read(struct mmu_rwlock *l)
{
	u32 s = atomic_read(&l->state);

	if (atomic_read(&l->writers_waiting) || (s & RW_WRITER))
		return false;
	return atomic_cmpxchg(&l->state, &s, s + 1);
}

void mmu_rwlock_read_lock(struct mmu_rwlock *l)
{
	lock_track_acquire(l, LOCK_SHARED, l->order);
	if (rw_try_read(l))
		return;
	atomic_add(&l->readers_waiting, 1);
	while (!rw_try_read(l))
		env_yield();
	atomic_sub(&l->readers_waiting, 1);
}

void mmu_rwlock_read_unlock(struct mmu_rwlock *l)
{
	u32 old = __atomic_fetch_sub(&l->state, 1, __ATOMIC_RELEASE);

	MMU_ASSERT((old & ~RW_WRITER) != 0 && !(old & RW_WRITER));
	lock_track_release(l);
}

static bool rw_try_write(struct mmu_rwlock *l)
{
	u32 s = 0;

	return atomic_cmpxchg(&l->state, &s, RW_WRITER);
}

void mmu_rwlock_write_lock(struct mmu_rwlock *l)
{
	lock_track_acquire(l, LOCK_EXCL, l->order);
	if (rw_try_write(l))
		return;
	atomic_add(&l->writers_waiting, 1);
	while (!rw_try_write(l))
		env_yield();
	atomic_sub(&l->writers_waiting, 1);
}

void mmu_rwlock_write_unlock(struct mmu_rwlock *l)
{
	MMU_ASSERT(atomic_read(&l->state) == RW_WRITER);
	atomic_set(&l->state, 0);
	lock_track_release(l);
}

bool mmu_rwlock_contended(const struct mmu_rwlock *l)
{
	return atomic_read(&l->writers_waiting) || atomic_read(&l->readers_waiting);
}

u32 mmu_rwlock_writers_waiting(const struct mmu_rwlock *l)
{
	return atomic_read(&l->writers_waiting);
}

void mmu_spin_init(struct mmu_spinlock *l, const char *name, u8 order)
{
	*l = (struct mmu_spinlock){ .name = name, .order = order };
}

static bool spin_try(struct mmu_spinlock *l)
{
	u32 z = 0;

	return !atomic_read(&l->locked) && atomic_cmpxchg(&l->locked, &z, 1);
}

void mmu_spin_lock(struct mmu_spinlock *l)
{
	unsigned spins = 0;

	lock_track_acquire(l, LOCK_EXCL, l->order);
	if (spin_try(l))
		return;
	atomic_add(&l->waiting, 1);
	while (!spin_try(l)) {
		/* Hosted threads may share one core: do not burn it. */
		if (++spins % 64 == 0)
			env_yield();
		else
			env_cpu_relax();
	}
	atomic_sub(&l->waiting, 1);
}

void mmu_spin_unlock(struct mmu_spinlock *l)
{
	MMU_ASSERT(atomic_read(&l->locked) == 1);
	atomic_set(&l->locked, 0);
	lock_track_release(l);
}

u32 mmu_spin_waiting(const struct mmu_spinlock *l)
{
	return atomic_read(&l->waiting);
}

/* ---- holder tracking ---- */

void lock_track_acquire(const void *lock, u8 mode, u8 order)
{
	struct env_thread *t;

	if (!MMU_DEBUG)
		return;
	t = env_thread_self();
	MMU_ASSERT(t->nheld < ENV_MAX_HELD_LOCKS);
	/* No recursion, and strictly increasing order levels. */
	MMU_ASSERT(lock_held_mode(lock) == 0);
	MMU_ASSERT(t->nheld == 0 || t->held[t->nheld - 1].order < order);
	t->held[t->nheld++] = (struct env_held_lock){ lock, mode, order };
}

void lock_track_release(const void *lock)
{
	struct env_thread *t;
	unsigned i;

	if (!MMU_DEBUG)
		return;
	t = env_thread_self();
	for (i = 0; i < t->nheld && t->held[i].lock != lock; i++)
		;
	MMU_ASSERT(i < t->nheld);
	for (; i + 1 < t->nheld; i++)
		t->held[i] = t->held[i + 1];
	t->nheld--;
}

int lock_held_mode(const void *lock)
{
	struct env_thread *t;

	if (!MMU_DEBUG)
		return LOCK_EXCL; /* rel builds: assertions are compiled out anyway */
	t = env_thread_self();
	for (unsigned i = 0; i < t->nheld; i++)
		if (t->held[i].lock == lock)
			return t->held[i].mode;
	return 0;
}
