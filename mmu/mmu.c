// SPDX-License-Identifier: MIT
/* MMU lifetime, statistics and the lock-token functions. */
#include "mmu/mmu_internal.h"

struct mmu *mmu_create(const struct spte_format *fmt)
{
	struct mmu *mmu;

	if (!fmt)
		return NULL;
	mmu = env_zalloc(sizeof(*mmu));
	if (!mmu)
		return NULL;
	mmu->fmt = fmt;
	mmu->max_level = 3;
	mmu_rwlock_init(&mmu->lock, "mmu_lock", LOCK_ORDER_MMU);
	mmu_spin_init(&mmu->roots_lock, "roots_lock", LOCK_ORDER_ROOTS);
	mmu_spin_init(&mmu->reclaim_lock, "reclaim_lock", LOCK_ORDER_RECLAIM);
	mmu_spin_init(&mmu->slots_lock, "slots_lock", LOCK_ORDER_SLOTS);
	srcu_init(&mmu->slots_srcu);
	mmu->slots = env_zalloc(sizeof(*mmu->slots));
	if (!mmu->slots) {
		env_free(mmu);
		return NULL;
	}
	return mmu;
}

/* Every vCPU must have been destroyed and no other call may be running. */
void mmu_destroy(struct mmu *mmu)
{
	struct mmu_excl x;

	if (!mmu)
		return;
	MMU_ASSERT(!mmu->vcpus);
	x = mmu_lock_excl(mmu);
	mmu_zap_all_fast(&x);
	mmu_unlock_excl(&x);
	MMU_ASSERT(!mmu->roots);
	reclaim_free_all(mmu);
	MMU_ASSERT(atomic_read(&mmu->c.tables_in_use) == 0);
	memslots_free_all(mmu);
	env_free(mmu);
}

int mmu_set_max_page_level(struct mmu *mmu, int level)
{
	struct mmu_excl x;

	if (level < 1 || level > 3 || !spte_level_can_leaf(mmu->fmt, level))
		return -EINVAL;
	x = mmu_lock_excl(mmu);
	if (mmu->max_level != level) {
		atomic_set(&mmu->max_level, level); /* faults read it unlocked */
		mmu_zap_all_fast(&x); /* existing larger leaves must go */
	}
	mmu_unlock_excl(&x);
	return 0;
}

void mmu_get_stats(struct mmu *mmu, struct mmu_stats *out)
{
	const struct mmu_counters *c = &mmu->c;

	*out = (struct mmu_stats){
		.faults_fixed = atomic_read(&c->faults_fixed),
		.faults_spurious = atomic_read(&c->faults_spurious),
		.retries_race = atomic_read(&c->retries_race),
		.retries_obsolete = atomic_read(&c->retries_obsolete),
		.retries_slot = atomic_read(&c->retries_slot),
		.no_slot = atomic_read(&c->no_slot),
		.splits = atomic_read(&c->splits),
		.zaps = atomic_read(&c->zaps),
		.tables_in_use = atomic_read(&c->tables_in_use),
		.maps_4k = atomic_read(&c->maps[0]),
		.maps_2m = atomic_read(&c->maps[1]),
		.maps_1g = atomic_read(&c->maps[2]),
		.root_invalidations = atomic_read(&c->root_invalidations),
		.tlb_flush_requests = atomic_read(&c->tlb_flush_requests),
		.evictions = atomic_read(&c->evictions),
		.yields = atomic_read(&c->yields),
	};
}

/* ---- lock tokens ---- */

struct mmu_excl mmu_lock_excl(struct mmu *mmu)
{
	mmu_rwlock_write_lock(&mmu->lock);
	mmu->excl_since_ns = env_now_ns();
	mmu_count(&mmu->c.excl_acquisitions);
	return (struct mmu_excl){ mmu };
}

static void excl_account_hold(struct mmu *mmu)
{
	u64 held = env_now_ns() - mmu->excl_since_ns;

	atomic_add(&mmu->c.excl_total_ns, held);
	if (held > atomic_read(&mmu->c.excl_max_ns))
		atomic_set(&mmu->c.excl_max_ns, held);
}

/* Unlocking is also the moment tables past their grace period are freed. */
void mmu_unlock_excl(struct mmu_excl *x)
{
	mmu_assert_excl(x);
	reclaim_run(x);
	excl_account_hold(x->mmu);
	mmu_rwlock_write_unlock(&x->mmu->lock);
}

struct mmu_shared mmu_lock_shared(struct mmu *mmu)
{
	mmu_rwlock_read_lock(&mmu->lock);
	return (struct mmu_shared){ mmu };
}

void mmu_unlock_shared(struct mmu_shared *s)
{
	mmu_assert_shared(s);
	mmu_rwlock_read_unlock(&s->mmu->lock);
}

/*
 * A waiter only counts once the lock has been held for a little while:
 * yielding after every unit of a long walk would spend the walk on lock
 * handovers. The environment's policy still has the last word (tests force
 * "always yield now").
 */
#define MMU_EXCL_MIN_HOLD_NS 50000ull

bool mmu_excl_need_resched(const struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;
	bool contended = mmu_rwlock_contended(&mmu->lock) &&
			 env_now_ns() - mmu->excl_since_ns >= MMU_EXCL_MIN_HOLD_NS;

	return env_need_resched(contended);
}

void mmu_excl_yield(struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;

	mmu_unlock_excl(x);
	mmu_count(&mmu->c.yields);
	env_hook(HOOK_EXCL_YIELD, mmu);
	/* Give the waiters a chance to get in before we ask again (bounded:
	 * a waiter that is not running must not stall the walk). */
	env_yield();
	for (int i = 0; i < 2 && mmu_rwlock_contended(&mmu->lock); i++)
		env_yield();
	*x = mmu_lock_excl(mmu);
}
