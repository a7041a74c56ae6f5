// SPDX-License-Identifier: MIT
/*
 * The MMU's locks, built from atomics only so that keel.efi and the hosted
 * tests run the very same code (ThreadSanitizer follows the acquire/release
 * pairs). See lock.h for the contract.
 */
#include "mmu/lock.h"
#include "mmu/atomic.h"

/*
 * Why the flag and the slots are enough (both sides sequentially
 * consistent): a reader increments its slot, then reads the flag; a writer
 * sets the flag, then reads every slot. In the total order one of them comes
 * first, so either the reader sees the flag (and backs out) or the writer
 * sees the reader's count (and waits for it to leave).
 */

void mmu_rwlock_init(struct mmu_rwlock *l, const char *name, u8 order)
{
	*l = (struct mmu_rwlock){ .name = name, .order = order };
}

static bool rw_try_read(struct mmu_rwlock *l, struct mmu_rwlock_slot *me)
{
	if (atomic_read(&l->writers_waiting) || atomic_read(&l->writer))
		return false;
	env_hook(HOOK_RWLOCK_READ_CHECKED, l); /* tests: a writer gets in here */
	atomic_add(&me->readers, 1);
	if (!atomic_read_sc(&l->writer))
		return true;
	atomic_sub(&me->readers, 1); /* a writer announced itself first */
	return false;
}

void mmu_rwlock_read_lock(struct mmu_rwlock *l)
{
	struct mmu_rwlock_slot *me = &l->slot[env_cpu_slot()];

	lock_track_acquire(l, LOCK_SHARED, l->order);
	if (rw_try_read(l, me))
		return;
	atomic_add(&l->readers_waiting, 1);
	while (!rw_try_read(l, me))
		env_yield();
	atomic_sub(&l->readers_waiting, 1);
}

/* The same slot as the lock: env_cpu_slot() is stable while a lock is held. */
void mmu_rwlock_read_unlock(struct mmu_rwlock *l)
{
	u32 old = __atomic_fetch_sub(&l->slot[env_cpu_slot()].readers, 1, __ATOMIC_RELEASE);

	MMU_ASSERT(old != 0);
	lock_track_release(l);
}

u32 mmu_rwlock_readers(const struct mmu_rwlock *l)
{
	u32 n = 0;

	for (unsigned i = 0; i < ENV_CPU_SLOTS; i++)
		n += atomic_read_sc(&l->slot[i].readers);
	return n;
}

static bool rw_try_claim(struct mmu_rwlock *l)
{
	u32 z = 0;

	return !atomic_read(&l->writer) && atomic_cmpxchg(&l->writer, &z, 1);
}

/* Announced: no new reader gets in. Wait for those inside to leave. */
static void rw_drain_readers(struct mmu_rwlock *l)
{
	for (unsigned spins = 1; mmu_rwlock_readers(l); spins++) {
		if (spins % 16 == 0)
			env_yield();
		else
			env_cpu_relax();
	}
}

/* A writer counts as waiting (writers_waiting) from its first failed try
 * until it holds the lock, whether it waits for another writer or for the
 * readers to drain. */
void mmu_rwlock_write_lock(struct mmu_rwlock *l)
{
	bool claimed;

	lock_track_acquire(l, LOCK_EXCL, l->order);
	claimed = rw_try_claim(l);
	if (claimed && !mmu_rwlock_readers(l))
		return;
	atomic_add(&l->writers_waiting, 1);
	while (!claimed && !(claimed = rw_try_claim(l)))
		env_yield();
	rw_drain_readers(l);
	atomic_sub(&l->writers_waiting, 1);
}

void mmu_rwlock_write_unlock(struct mmu_rwlock *l)
{
	MMU_ASSERT(atomic_read(&l->writer) == 1);
	atomic_set(&l->writer, 0);
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
