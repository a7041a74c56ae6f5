/* SPDX-License-Identifier: MIT */
/*
 * MMU locks, with holder tracking so that every function can assert the lock
 * contract it documents (docs/mmu-locking.md has the table).
 *
 *  - struct mmu_rwlock: the MMU lock. Shared by faults, exclusive for zaps,
 *    invalidation, dirty-log changes. A brlock (percpu-rwsem style): a
 *    reader counts itself in its own CPU's slot (its own cache line) and
 *    checks the writer flag; a writer sets the flag (announce), then waits
 *    for the sum of all slots to drain. Readers never write a shared line,
 *    so faults on different CPUs scale; the writer pays ENV_CPU_SLOTS
 *    cache-line reads per acquisition (docs/mmu-locking.md). Writer-
 *    preferring: once a writer has announced or waits, new readers wait
 *    too, so a stream of faulting vCPUs cannot starve it.
 *  - struct mmu_spinlock: short inner locks (root list, reclaim list) and the
 *    slot writers' lock. Waiters spin politely and yield.
 *
 * Every lock has an order level; a thread must take locks in strictly
 * increasing order (checked in debug builds, like Xen's mm-locks.h). The
 * levels are the LOCK_ORDER_* values below.
 *
 * Exclusive-only code takes a 'struct mmu_excl *' token. The only way to get
 * one is mmu_lock_excl(), so a shared-mode path cannot call it by mistake;
 * the token is also checked at run time (a stale copy used after unlocking
 * trips an assertion).
 */
#pragma once

#include <keel/types.h>
#include "mmu/env.h"

enum { LOCK_SHARED = 1, LOCK_EXCL = 2 };

enum lock_order {
	LOCK_ORDER_SLOTS = 10,     /* mmu->slots_lock: slot writers */
	LOCK_ORDER_SLOTS_READ = 20,/* slot snapshot read side (srcu) */
	LOCK_ORDER_MMU = 30,       /* mmu->lock */
	LOCK_ORDER_ROOTS = 40,     /* mmu->roots_lock */
	LOCK_ORDER_RECLAIM = 50,   /* mmu->reclaim_lock */
};

/* One CPU's reader count, alone on its cache line. */
struct mmu_rwlock_slot {
	u32 readers;
} __aligned(64);

struct mmu_rwlock {
	u32 writer;           /* 1 while a writer holds the lock or drains readers */
	u32 writers_waiting;  /* readers back off while non-zero */
	u32 readers_waiting;  /* for "is anyone waiting" (yield decisions) */
	u8 order;
	const char *name;
	struct mmu_rwlock_slot slot[ENV_CPU_SLOTS];
};

struct mmu_spinlock {
	u32 locked;
	u32 waiting;
	u8 order;
	const char *name;
};

void mmu_rwlock_init(struct mmu_rwlock *l, const char *name, u8 order);
void mmu_rwlock_read_lock(struct mmu_rwlock *l);
void mmu_rwlock_read_unlock(struct mmu_rwlock *l);
void mmu_rwlock_write_lock(struct mmu_rwlock *l);
void mmu_rwlock_write_unlock(struct mmu_rwlock *l);
bool mmu_rwlock_contended(const struct mmu_rwlock *l);
u32 mmu_rwlock_writers_waiting(const struct mmu_rwlock *l);
/* Readers inside now, summed over the slots (a moment's snapshot). */
u32 mmu_rwlock_readers(const struct mmu_rwlock *l);

void mmu_spin_init(struct mmu_spinlock *l, const char *name, u8 order);
void mmu_spin_lock(struct mmu_spinlock *l);
void mmu_spin_unlock(struct mmu_spinlock *l);
u32 mmu_spin_waiting(const struct mmu_spinlock *l);

/* Holder tracking (debug builds; always answers "held" in rel builds). */
void lock_track_acquire(const void *lock, u8 mode, u8 order);
void lock_track_release(const void *lock);
int lock_held_mode(const void *lock);   /* 0, LOCK_SHARED or LOCK_EXCL */

#define assert_lock_held_mode(lock, mode)                                   \
	MMU_ASSERT(lock_held_mode(lock) == (mode))
#define assert_lock_held(lock)   MMU_ASSERT(lock_held_mode(lock) != 0)
#define assert_lock_not_held(lock) MMU_ASSERT(lock_held_mode(lock) == 0)
