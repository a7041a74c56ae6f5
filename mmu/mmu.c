// SPDX-License-Identifier: MIT
/* MMU lifetime, statistics and the lock-token functions. */
#include "mmu/mmu_internal.h"

struct mmu *mmu_create(const struct spte_format *fmt)
{
	struct mmu *mmu;

	if (!fmt)
		return NULL;
	mmu = mmu_zalloc_aligned(sizeof(*mmu)); /* per-CPU slots inside */
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
		mmu_free_aligned(mmu);
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
	MMU_ASSERT(MMU_GAUGE(mmu, tables_in_use) == 0);
	memslots_free_all(mmu);
	mmu_free_aligned(mmu);
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

u64 mmu_shard_sum(const struct mmu *mmu, size_t offset)
{
	u64 sum = 0;

	for (unsigned i = 0; i < ENV_CPU_SLOTS; i++)
		sum += atomic_read((const u64 *)((const char *)&mmu->shard[i] + offset));
	return sum;
}

/* The underflow check of a sharded gauge (seed 002): only the total means
 * anything, and it never goes below zero. */
u64 mmu_gauge_read(const struct mmu *mmu, size_t offset)
{
	s64 sum = (s64)mmu_shard_sum(mmu, offset);

	MMU_ASSERT(sum >= 0);
	return sum < 0 ? 0 : (u64)sum;
}

static void stats_add(struct mmu_vcpu_stats *to, const struct mmu_vcpu_stats *v)
{
	to->faults_fixed += atomic_read(&v->faults_fixed);
	to->faults_spurious += atomic_read(&v->faults_spurious);
	to->retries_slot += atomic_read(&v->retries_slot);
	to->no_slot += atomic_read(&v->no_slot);
}

/* A vCPU going away leaves its counts behind (called by mmu_vcpu_destroy). */
void mmu_vcpu_stats_fold(const struct mmu_excl *x, struct mmu_vcpu *mv)
{
	struct mmu_vcpu_stats sum = { 0 };

	mmu_assert_excl(x);
	stats_add(&sum, &x->mmu->c.gone);
	stats_add(&sum, &mv->stats);
	atomic_set(&x->mmu->c.gone.faults_fixed, sum.faults_fixed);
	atomic_set(&x->mmu->c.gone.faults_spurious, sum.faults_spurious);
	atomic_set(&x->mmu->c.gone.retries_slot, sum.retries_slot);
	atomic_set(&x->mmu->c.gone.no_slot, sum.no_slot);
}

/* The vCPU list changes only under the exclusive lock: read it shared. */
static struct mmu_vcpu_stats vcpu_stats_sum(struct mmu *mmu)
{
	struct mmu_shared s = mmu_lock_shared(mmu);
	struct mmu_vcpu_stats sum = { 0 };

	stats_add(&sum, &mmu->c.gone);
	for (struct mmu_vcpu *v = mmu->vcpus; v; v = v->next)
		stats_add(&sum, &v->stats);
	mmu_unlock_shared(&s);
	return sum;
}

void mmu_get_stats(struct mmu *mmu, struct mmu_stats *out)
{
	const struct mmu_counters *c = &mmu->c;
	struct mmu_vcpu_stats v = vcpu_stats_sum(mmu);

	*out = (struct mmu_stats){
		.faults_fixed = v.faults_fixed,
		.faults_spurious = v.faults_spurious,
		.retries_race = MMU_SHARD_SUM(mmu, retries_race),
		.retries_obsolete = MMU_SHARD_SUM(mmu, retries_obsolete),
		.retries_slot = v.retries_slot,
		.no_slot = v.no_slot,
		.splits = MMU_SHARD_SUM(mmu, splits),
		.zaps = MMU_SHARD_SUM(mmu, zaps),
		.tables_in_use = MMU_GAUGE(mmu, tables_in_use),
		.maps_4k = MMU_GAUGE(mmu, maps[0]),
		.maps_2m = MMU_GAUGE(mmu, maps[1]),
		.maps_1g = MMU_GAUGE(mmu, maps[2]),
		.root_invalidations = atomic_read(&c->root_invalidations),
		.tlb_flush_requests = MMU_SHARD_SUM(mmu, tlb_flush_requests),
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
