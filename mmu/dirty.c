// SPDX-License-Identifier: MIT
/*
 * Dirty logging by write protection, at 4 KiB granularity.
 *
 * Invariant (checked by mmu_verify): in a dirty-logged slot, a writable leaf
 * maps only a page whose bit is set in the slot's bitmap. The fault path
 * sets the bit before it makes an entry writable; harvesting clears bits and
 * write-protects the same pages in one unit under the exclusive lock.
 *
 * Enabling write-protects the slot and eagerly splits its huge leaves. Each
 * split builds a complete child table before linking it with one cmpxchg.
 * The walk yields only through mmu_excl_cond_resched(), which requires the
 * cursor to have moved since the last yield, and resumes from the cursor:
 * it finishes in a bounded number of lock drops even when the resched
 * policy always says "yield now" (seed 000). An allocation failure only
 * downgrades the unit to write-protecting the huge leaf (faults then split
 * on demand); it never makes the walk start over.
 */
#include "mmu/mmu_internal.h"
#include "mmu/tdp_iter.h"

static int split_or_wrprot_huge(struct mmu_held *h, struct tdp_iter *it)
{
	struct mmu *mmu = h->mmu;
	struct tdp_page *child;
	int r;

	mmu_assert_held(h);
	child = tdp_make_split_table(mmu, it->old, it->gfn, it->level,
				     MMU_ACC_ALL & ~MMU_ACC_WRITE);
	if (!child)
		return tdp_set_spte(h, it, spte_wrprot(mmu->fmt, it->old));
	r = tdp_link_table(h, it, child);
	if (r)
		return r;
	/* 4 KiB children are born read-only: nothing left to do below. */
	it->skip_children = it->level == 2;
	return 0;
}

static void dirty_log_start_root(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end)
{
	const struct spte_format *f = x->mmu->fmt;
	struct mmu_held h = excl_held(x);
	struct tdp_iter it;

	mmu_assert_excl(x);
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(start), GFN(end), 1) {
retry:
		if (mmu_excl_cond_resched(x, &it))
			continue;
		if (!spte_is_leaf(f, it.old, it.level))
			continue;
		if (it.level > 1) {
			if (split_or_wrprot_huge(&h, &it))
				goto retry;
			env_hook(HOOK_SPLIT_AFTER_UNIT, &it);
		} else if (spte_writable(f, it.old)) {
			if (tdp_set_spte(&h, &it, spte_wrprot(f, it.old)))
				goto retry;
		}
	}
}

void dirty_log_start(struct mmu_excl *x, const struct memslot *slot)
{
	u64 start = slot->d.base_gfn.v;

	roots_for_each_valid(x, dirty_log_start_root, start, start + slot->d.npages);
	nmmu_l1_dirty_log_start(x, slot); /* split and write-protect shadow leaves too */
}

/* Recover huge pages: zap the slot; faults map it again at the largest size. */
void dirty_log_stop(struct mmu_excl *x, const struct memslot *slot)
{
	mmu_assert_excl(x);
	zap_valid_roots_range(x, slot->d.base_gfn.v, slot->d.base_gfn.v + slot->d.npages);
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
