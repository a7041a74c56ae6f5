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
#include "mmu/mmu_internal.h"

void reclaim_retire(struct mmu *mmu, struct tdp_page *pg)
{
	assert_lock_held(&mmu->lock);
	mmu_spin_lock(&mmu->reclaim_lock);
	pg->meta.retire_stamp = atomic_read(&mmu->flush_gen);
	pg->meta.retire_next = mmu->reclaim_list;
	env_hook(HOOK_RECLAIM_RETIRE, pg); /* tests: another retire must wait here */
	mmu->reclaim_list = pg;
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

void reclaim_run(const struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;
	struct tdp_page *list, *keep = NULL, *next;
	u64 safe;

	mmu_assert_excl(x);
	remote_flush_sync(x); /* vCPUs in the guest flush first (remote_flush.c) */
	mmu_spin_lock(&mmu->reclaim_lock);
	list = mmu->reclaim_list;
	mmu->reclaim_list = NULL;
	mmu_spin_unlock(&mmu->reclaim_lock);
	safe = oldest_vcpu_flush_gen(x);
	for (struct tdp_page *pg = list; pg; pg = next) {
		next = pg->meta.retire_next;
		if (pg->meta.retire_stamp <= safe) {
			tdp_page_free_unlinked(mmu, pg);
		} else {
			pg->meta.retire_next = keep;
			keep = pg;
		}
	}
	if (!keep)
		return;
	mmu_spin_lock(&mmu->reclaim_lock);
	for (struct tdp_page *pg = keep; pg; pg = next) {
		next = pg->meta.retire_next;
		pg->meta.retire_next = mmu->reclaim_list;
		mmu->reclaim_list = pg;
	}
	mmu_spin_unlock(&mmu->reclaim_lock);
}

u64 reclaim_pending(const struct mmu_excl *x)
{
	u64 n = 0;

	mmu_assert_excl(x);
	mmu_spin_lock(&x->mmu->reclaim_lock);
	for (struct tdp_page *pg = x->mmu->reclaim_list; pg; pg = pg->meta.retire_next)
		n++;
	mmu_spin_unlock(&x->mmu->reclaim_lock);
	return n;
}

/* Teardown: no vCPU and no other thread is left. */
void reclaim_free_all(struct mmu *mmu)
{
	struct tdp_page *next;

	for (struct tdp_page *pg = mmu->reclaim_list; pg; pg = next) {
		next = pg->meta.retire_next;
		tdp_page_free_unlinked(mmu, pg);
	}
	mmu->reclaim_list = NULL;
}
