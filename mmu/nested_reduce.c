// SPDX-License-Identifier: MIT
/*
 * Reductions of Keel's mapping of L1 memory reach the shadow tables before
 * the reducing operation returns. The TDP MMU calls these with its lock held
 * exclusively, so no L2 fault is between composing and installing (the fault
 * path composes and installs under L1's lock held shared); the nested lock is
 * taken inside it.
 *
 *  - nmmu_l1_zap (zap range, eviction, slot delete/move, max level, dirty-log
 *    stop): every shadow root whose footprint (1 GiB regions of L1 memory it
 *    has mapped) meets the range is emptied whole. Cost: those roots refault.
 *  - nmmu_l1_dirty_log_start / nmmu_l1_harvested: shadow leaves whose host
 *    frames lie in the slot's backing are split (huge) and write-protected
 *    (4 KiB), in bounded units, yielding only after progress (seed 000).
 *    Cost: one walk of each root that maps the slot, per call.
 *
 * A shadow leaf maps host frames of the slot it was composed from, so
 * matching host frames finds every leaf built on the slot (and, if two slots
 * shared backing, a few more, which is harmless).
 */
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

static struct nmmu *nested_of(struct mmu_excl *x)
{
	mmu_assert_excl(x);
	return x->mmu->nested;
}

/* The next used shadow root from *i on whose footprint meets 'mask': a
 * reduction of L1's mapping there reaches it (counted). NULL after the last. */
static struct nmmu_root *next_reached_root(struct nmmu_excl *nx, unsigned *i, u64 mask)
{
	struct nmmu *n = nx->n;

	while (*i < n->nroots) {
		struct nmmu_root *r = &n->roots[(*i)++];

		if (r->used && (r->footprint & mask)) {
			nmmu_count(&n->c.l1_reductions);
			return r;
		}
	}
	return NULL;
}

void nmmu_l1_zap(struct mmu_excl *x, u64 start, u64 end)
{
	struct nmmu *n = nested_of(x);
	struct nmmu_excl nx;
	struct nmmu_root *r;
	u64 mask = nmmu_region_mask(start, end);

	if (!n)
		return;
	nx = nmmu_lock(n);
	for (unsigned i = 0; (r = next_reached_root(&nx, &i, mask));)
		nmmu_root_drop(&nx, x, r);
	nmmu_unlock(&nx);
}

/* A huge leaf becomes a complete table of read-only leaves (one cmpxchg);
 * without memory it is zapped instead and faults map it again. The page is
 * allocated here, under the locks: tdp_page_alloc reserves its deferred-free
 * slot, so retiring it later never allocates (reclaim.c). */
static int split_or_zap(struct nmmu_excl *nx, struct mmu_held *h, struct tdp_iter *it)
{
	int r = tdp_split_huge(h, it, MMU_ACC_ALL & ~MMU_ACC_WRITE, NULL);

	if (r == -ENOMEM)
		return tdp_set_spte(h, it, 0);
	if (!r) {
		nmmu_count(&nx->n->c.splits);
		it->skip_children = it->level == 2; /* 4 KiB children: born read-only */
	}
	return r;
}

static void wrprot_root(struct nmmu_excl *nx, struct mmu_excl *l1x, struct nmmu_root *root,
			u64 lo, u64 hi)
{
	const struct spte_format *f = nx->n->sm->fmt;
	struct mmu_held h = excl_held(&nx->x);
	struct tdp_iter it;

	for_each_tdp_pte(&it, f, root->base.pt->spt, GFN(0), GFN(TDP_MAX_GFN), 1) {
		u64 hfn;

retry:
		if (nmmu_cond_resched(nx, l1x, &it))
			continue;
		if (!spte_is_leaf(f, it.old, it.level))
			continue;
		hfn = spte_leaf_hfn(f, it.old, it.level).v;
		if (hfn + tdp_level_pages(it.level) <= lo || hfn >= hi)
			continue;
		if (it.level > 1) {
			if (split_or_zap(nx, &h, &it))
				goto retry;
			nmmu_hook(nx->n, NMMU_HOOK_SPLIT_UNIT, &it);
		} else if (spte_writable(f, it.old)) {
			if (tdp_set_spte(&h, &it, spte_wrprot(f, it.old)))
				goto retry;
			nmmu_count(&nx->n->c.wrprot_leaves);
		}
	}
}

static void wrprot_slot(struct mmu_excl *x, const struct memslot *slot)
{
	struct nmmu *n = nested_of(x);
	u64 base = slot->d.base_gfn.v, lo = slot->d.backing.v;
	u64 mask = nmmu_region_mask(base, base + slot->d.npages);
	struct nmmu_excl nx;
	struct nmmu_root *r;

	if (!n)
		return;
	nx = nmmu_lock(n);
	for (unsigned i = 0; (r = next_reached_root(&nx, &i, mask));)
		wrprot_root(&nx, x, r, lo, lo + slot->d.npages);
	nmmu_unlock(&nx);
}

void nmmu_l1_dirty_log_start(struct mmu_excl *x, const struct memslot *slot)
{
	wrprot_slot(x, slot);
}

void nmmu_l1_harvested(struct mmu_excl *x, const struct memslot *slot)
{
	wrprot_slot(x, slot);
}
