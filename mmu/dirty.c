// SPDX-License-Identifier: MIT
/*
 * Dirty logging by write protection, at 4 KiB granularity.
 *
 * Invariant (checked by mmu_verify): in a dirty-logged slot, a writable leaf
 * maps only a page whose bit is set in the slot's bitmap. The fault path
 * sets the bit before it makes an entry writable; harvesting clears bits and
 * write-protects the same pages in one unit under the exclusive lock.
 *
 * Enabling write-protects the slot and eagerly splits its huge leaves under
 * the SHARED lock, as KVM's TDP MMU does: faults keep running meanwhile.
 * Every change is a cmpxchg through tdp_set_spte (a fault that changed the
 * entry first makes the split re-decide on the fresh value); each split
 * builds a complete child table, from pages of the splitter's own memory
 * cache, before linking it with one cmpxchg. The cache is topped up only
 * while the lock is not held. Nothing here waits for a fault: the slot was
 * published with the flag before the walk (and the slot writer waited for
 * faults that saw the old flags), so no fault installs a writable or huge
 * leaf behind the walk without marking the page dirty.
 *
 * The walk gives the lock up when a writer waits (or to refill its cache),
 * but only once its cursor moved since the last time, and resumes from the
 * cursor: it finishes in a bounded number of lock drops even when the
 * resched policy always says "yield now" (seed 000). With no page at hand
 * (allocation failure) a unit only write-protects the huge leaf (faults
 * then split on demand); it never makes the walk start over.
 *
 * Disabling recovers huge mappings in place, under the exclusive lock: a
 * table whose present entries are all leaves, where the slot now allows a
 * leaf of the table's size, is replaced by that leaf with one change (the
 * table is retired; no zap, no refault).
 */
#include "mmu/mmu_internal.h"
#include "mmu/tdp_iter.h"

struct split_walk {
	struct mmu_shared *s;
	struct mmu_page_cache *cache;
	u64 start, end;
};

/* Drop the shared lock for a moment: a writer gets in, the cache refills. */
static void split_drop_lock(struct split_walk *w, struct tdp_iter *it)
{
	struct mmu *mmu = w->s->mmu;

	mmu_unlock_shared(w->s);
	mmu_count(&mmu->c.yields);
	env_hook(HOOK_EXCL_YIELD, mmu);
	if (w->cache->n < MMU_PAGE_CACHE_MAX / 2)
		mmu_page_cache_topup(mmu, w->cache, MMU_PAGE_CACHE_MAX);
	*w->s = mmu_lock_shared(mmu);
	it->yielded = true;
}

/* Seed 000: never two drops without a finished unit in between. */
static bool split_cond_resched(struct split_walk *w, struct tdp_iter *it)
{
	bool writer = mmu_rwlock_writers_waiting(&w->s->mmu->lock) != 0;

	if (it->next_gfn == it->yield_gfn)
		return false;
	if (!env_need_resched(writer) && w->cache->n)
		return false;
	split_drop_lock(w, it);
	return true;
}

static int split_unit(struct split_walk *w, struct tdp_iter *it)
{
	struct mmu *mmu = w->s->mmu;
	struct mmu_held h = shared_held(w->s);
	struct tdp_page *pg = mmu_page_cache_take(mmu, w->cache);
	int r;

	if (!pg)
		return tdp_set_spte(&h, it, spte_wrprot(mmu->fmt, it->old));
	r = tdp_split_huge(&h, it, MMU_ACC_ALL & ~MMU_ACC_WRITE, pg);
	/* 4 KiB children are born read-only: nothing left to do below. */
	if (!r)
		it->skip_children = it->level == 2;
	return r;
}

static void dirty_log_start_root(struct mmu_shared *s, struct mmu_root *root, void *ctx)
{
	struct split_walk *w = ctx;
	const struct spte_format *f = s->mmu->fmt;
	struct mmu_held h = shared_held(s);
	struct tdp_iter it;

	mmu_assert_shared(s);
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(w->start), GFN(w->end), 1) {
retry:
		if (split_cond_resched(w, &it)) {
			if (!root_is_valid(s->mmu, root))
				return; /* zapped meanwhile: nothing left to split */
			continue;
		}
		/* FROZEN: inside a table another thread is tearing down. */
		if (spte_frozen(f, it.old) || !spte_is_leaf(f, it.old, it.level))
			continue;
		if (it.level > 1) {
			if (split_unit(w, &it))
				goto retry;
			env_hook(HOOK_SPLIT_AFTER_UNIT, &it);
		} else if (spte_writable(f, it.old)) {
			if (tdp_set_spte(&h, &it, spte_wrprot(f, it.old)))
				goto retry;
		}
	}
}

/* The slot's new snapshot (flag on) is published; no MMU lock held. */
void dirty_log_start(struct mmu *mmu, const struct memslot *slot)
{
	struct mmu_page_cache cache = { 0 };
	struct mmu_shared s;
	struct mmu_excl x;
	struct split_walk w = {
		.s = &s, .cache = &cache,
		.start = slot->d.base_gfn.v, .end = slot->d.base_gfn.v + slot->d.npages,
	};

	mmu_page_cache_topup(mmu, &cache, MMU_PAGE_CACHE_MAX);
	s = mmu_lock_shared(mmu);
	roots_for_each_valid_shared(&s, dirty_log_start_root, &w);
	mmu_unlock_shared(&s);
	mmu_page_cache_release(mmu, &cache);
	/*
	 * A short exclusive section to finish: the nested MMU splits and
	 * write-protects the shadow leaves built on this slot, and the unlock
	 * (reclaim_run -> remote_flush_sync) has every vCPU in the guest drop
	 * the writable translations the walk removed, before enabling returns.
	 */
	x = mmu_lock_excl(mmu);
	nmmu_l1_dirty_log_start(&x, slot);
	mmu_unlock_excl(&x);
}

/* Every present entry of the table (entries of 'level') is a leaf. */
static bool table_collapsible(const struct spte_format *f, spte_t table, int level)
{
	const struct tdp_page *pg = env_hpa_to_virt(spte_table_hpa(f, table));
	bool any = false;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) {
		spte_t s = spte_read(&pg->spt[i]);

		if (!spte_present(f, s))
			continue;
		if (!spte_is_leaf(f, s, level))
			return false;
		any = true;
	}
	return any;
}

static void recover_root_pass(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end,
			      const struct memslot *slot, int level)
{
	struct mmu *mmu = x->mmu;
	const struct spte_format *f = mmu->fmt;
	struct mmu_held h = excl_held(x);
	struct tdp_iter it;

	mmu_assert_excl(x);
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(start), GFN(end), level) {
retry:
		if (mmu_excl_cond_resched(x, &it))
			continue;
		if (it.level != level || !spte_is_table(f, it.old, it.level) ||
		    !tdp_iter_covered(&it, start, end) ||
		    slot_max_level(mmu, slot, it.gfn) < it.level ||
		    !table_collapsible(f, it.old, it.level - 1))
			continue;
		if (tdp_set_spte(&h, &it, spte_make_leaf(f, slot_gfn_to_hfn(slot, it.gfn),
							 it.level, slot_perms(slot))))
			goto retry;
	}
}

/* 2 MiB leaves first, then 1 GiB ones from the 2 MiB leaves (one table a
 * unit). The slot writer holds slots_lock: the snapshot is the new one. */
static void recover_root(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end)
{
	const struct memslot *slot = slots_find_gfn(slots_deref(x->mmu), start);

	MMU_ASSERT(slot && slot->d.base_gfn.v == start);
	for (int level = 2; level <= x->mmu->max_level; level++)
		recover_root_pass(x, root, start, end, slot, level);
}

void dirty_log_stop(struct mmu_excl *x, const struct memslot *slot)
{
	mmu_assert_excl(x);
	roots_for_each_valid(x, recover_root, slot->d.base_gfn.v,
			     slot->d.base_gfn.v + slot->d.npages);
	/* Shadow roots built on the slot are dropped, so L2 faults compose
	 * huge shadow leaves again (docs/nested-mmu.md). */
	nmmu_l1_zap(x, slot->d.base_gfn.v, slot->d.base_gfn.v + slot->d.npages);
}

static void wrprot_range(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end)
{
	const struct spte_format *f = x->mmu->fmt;
	struct mmu_held h = excl_held(x);
	struct tdp_iter it;

	mmu_assert_excl(x);
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(start), GFN(end), 1) {
		while (spte_is_leaf(f, it.old, it.level) && spte_writable(f, it.old) &&
		       tdp_set_spte(&h, &it, spte_wrprot(f, it.old)))
			;
	}
}

/*
 * Copy and clear the bitmap, 64 pages (one word) per unit: the word is
 * cleared and its pages write-protected without dropping the lock, so a
 * write after the unit faults and marks the page for the next harvest.
 */
int dirty_log_harvest(struct mmu_excl *x, const struct memslot *slot, u64 *out)
{
	u64 base = slot->d.base_gfn.v, end = base + slot->d.npages;
	u64 words = (slot->d.npages + 63) / 64;

	mmu_assert_excl(x);
	for (u64 w = 0; w < words; w++) {
		u64 bits = atomic_xchg(&slot->dirty_bitmap[w], 0);

		out[w] = bits;
		if (bits)
			roots_for_each_valid(x, wrprot_range, base + w * 64,
					     MIN(base + w * 64 + 64, end));
		if (w + 1 < words && mmu_excl_need_resched(x))
			mmu_excl_yield(x);
	}
	nmmu_l1_harvested(x, slot); /* write-protect shadow leaves too */
	return 0;
}
