// SPDX-License-Identifier: MIT
/*
 * Deferred freeing of page-table pages.
 *
 * An unlinked table may still be in use by two kinds of walkers:
 *  - software walkers: threads holding the MMU lock in shared mode when it
 *    was unlinked (a fault part-way down that subtree);
 *  - hardware walkers: vCPUs whose TLB/paging-structure caches may still
 *    hold it, until they flush.
 * The grace period ends when both are done: reclaim_run() runs only with
 * the MMU lock held exclusively (so every shared holder from before has
 * left), first has every vCPU in the guest flush (remote_flush_sync), and
 * frees a page only once every vCPU that can see the tables (entering or in
 * the guest) has reached a flush generation at least the page's retire stamp
 * (the generation current after the flush request its unlinking made). A
 * vCPU reaches a new generation in mmu_vcpu_load_root(), which then tells
 * the caller to flush before entering the guest; a vCPU outside the guest
 * does that before it can see the tables again.
 *
 * Hosted builds really free the page, so AddressSanitizer reports any
 * access after the grace period.
 */
#include <keel/string.h>
#include "mmu/mmu_internal.h"

/*
 * The retired tables wait in an array under reclaim_lock. Every table page
 * reserves its slot when it is allocated (reclaim_reserve), so retiring -
 * which may happen deep inside a shared-mode fault or a teardown of many
 * tables at once - never allocates and never fails: n <= reserved <= cap.
 * The array grows outside the spinlock and is swapped in under it.
 */
static bool reserve_fits(struct mmu_reclaim *r, u64 n)
{
	if (r->reserved + n > r->cap)
		return false;
	r->reserved += n;
	return true;
}

int reclaim_reserve(struct mmu *mmu, u64 n)
{
	struct mmu_reclaim *r = &mmu->reclaim;

	for (;;) {
		struct reclaim_slot *bigger, *old;
		u64 cap;
		bool done;

		mmu_spin_lock(&mmu->reclaim_lock);
		done = reserve_fits(r, n);
		cap = MAX(MAX(r->cap * 2, r->reserved + n), 64ull);
		mmu_spin_unlock(&mmu->reclaim_lock);
		if (done)
			return 0;
		bigger = env_zalloc(cap * sizeof(*bigger));
		if (!bigger)
			return -ENOMEM;
		mmu_spin_lock(&mmu->reclaim_lock);
		old = bigger;
		if (cap > r->cap) {
			if (r->n)
				memcpy(bigger, r->retired, r->n * sizeof(*bigger));
			old = r->retired;
			r->retired = bigger;
			r->cap = cap;
		}
		done = reserve_fits(r, n);
		mmu_spin_unlock(&mmu->reclaim_lock);
		env_free(old);
		if (done)
			return 0;
	}
}

void reclaim_unreserve(struct mmu *mmu, u64 n)
{
	mmu_spin_lock(&mmu->reclaim_lock);
	MMU_ASSERT(mmu->reclaim.reserved >= n + mmu->reclaim.n);
	mmu->reclaim.reserved -= n;
	mmu_spin_unlock(&mmu->reclaim_lock);
}

void reclaim_retire(struct mmu *mmu, struct tdp_page *pg)
{
	struct mmu_reclaim *r = &mmu->reclaim;
	u64 n;

	assert_lock_held(&mmu->lock);
	mmu_spin_lock(&mmu->reclaim_lock);
	n = r->n;
	MMU_ASSERT(n < r->reserved && r->reserved <= r->cap);
	r->retired[n] = (struct reclaim_slot){ pg, atomic_read(&mmu->flush_gen) };
	env_hook(HOOK_RECLAIM_RETIRE, pg); /* tests: another retire must wait here */
	r->n = n + 1;
	mmu_spin_unlock(&mmu->reclaim_lock);
}

/* The oldest flush generation a vCPU that can see the tables (entering or in
 * the guest) may be using. A vCPU outside the guest flushes before it next
 * enters (it reads flush_gen after announcing ENTERING, vcpu_mode.c), so it
 * holds up nothing: a parked vCPU never blocks freeing. */
static u64 oldest_vcpu_flush_gen(const struct mmu_excl *x)
{
	u64 oldest = ~0ull;

	for (struct mmu_vcpu *v = x->mmu->vcpus; v; v = v->next)
		if (vcpu_sees_tables(v))
			oldest = MIN(oldest, atomic_read(&v->flush_seen));
	return oldest;
}

/*
 * Past their grace period: the slots [keep, n). They are taken off the array
 * a batch at a time under reclaim_lock and freed outside it (freeing
 * unreserves, which takes the lock; and a concurrent reclaim_reserve may
 * swap the array, copying only the slots in use). The exclusive lock keeps
 * retirers out meanwhile.
 */
static void free_past_grace(struct mmu *mmu, u64 keep)
{
	struct mmu_reclaim *r = &mmu->reclaim;

	for (;;) {
		struct tdp_page *batch[32];
		unsigned k = 0;

		mmu_spin_lock(&mmu->reclaim_lock);
		while (k < ARRAY_SIZE(batch) && r->n > keep)
			batch[k++] = r->retired[--r->n].pg;
		mmu_spin_unlock(&mmu->reclaim_lock);
		if (!k)
			return;
		for (unsigned i = 0; i < k; i++)
			tdp_page_free_unlinked(mmu, batch[i]);
	}
}

void reclaim_run(const struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;
	struct mmu_reclaim *r = &mmu->reclaim;
	u64 safe = oldest_vcpu_flush_gen(x), keep = 0;

	mmu_assert_excl(x);
	remote_flush_sync(x); /* vCPUs in the guest flush first (remote_flush.c) */
	mmu_spin_lock(&mmu->reclaim_lock);
	/* Partition: still waiting first, past the grace period after. */
	for (u64 i = 0; i < r->n; i++) {
		if (r->retired[i].stamp > safe) {
			struct reclaim_slot t = r->retired[keep];

			r->retired[keep++] = r->retired[i];
			r->retired[i] = t;
		}
	}
	mmu_spin_unlock(&mmu->reclaim_lock);
	free_past_grace(mmu, keep);
}

u64 reclaim_pending(const struct mmu_excl *x)
{
	u64 n;

	mmu_assert_excl(x);
	mmu_spin_lock(&x->mmu->reclaim_lock);
	n = x->mmu->reclaim.n;
	mmu_spin_unlock(&x->mmu->reclaim_lock);
	return n;
}

/* Teardown: no vCPU and no other thread is left. */
void reclaim_free_all(struct mmu *mmu)
{
	free_past_grace(mmu, 0);
	MMU_ASSERT(mmu->reclaim.reserved == 0);
	env_free(mmu->reclaim.retired);
	mmu->reclaim.retired = NULL;
	mmu->reclaim.cap = 0;
}
