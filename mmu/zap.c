// SPDX-License-Identifier: MIT
/*
 * Zapping: removing mappings under the exclusive lock, in bounded units of
 * work between lock drops. Two kinds, as in KVM's TDP MMU:
 *
 *  - in a VALID root only leaves are removed, one per unit (a huge leaf
 *    overlapping the range goes whole); the tables stay linked and empty,
 *    for faults to refill without allocating. Tearing tables down in a
 *    valid root could not be bounded: while the walk yields, faults refill
 *    the subtree below, and removing its top would then free a populated
 *    subtree (up to 512 tables) in one unit.
 *  - an INVALID (obsolete) root is torn down completely. Nothing can refill
 *    it (faults re-check validity under the lock before every install and
 *    link), so it is zapped in passes of increasing level, 4 KiB leaves
 *    first, then the now-empty tables above them, as KVM's
 *    tdp_mmu_zap_root() does: each unit removes one leaf or one empty table.
 *
 * Page-table memory of valid roots is given back by invalidating them
 * (mmu_zap_all_fast(), used by eviction and slot deletion).
 */
#include "mmu/mmu_internal.h"
#include "mmu/tdp_iter.h"

/*
 * Give the exclusive lock up if someone needs it, but only if the walk's
 * cursor moved since the last time it did: two lock drops always have a
 * finished unit of work between them (seed 000).
 */
bool mmu_excl_cond_resched(struct mmu_excl *x, struct tdp_iter *it)
{
	mmu_assert_excl(x);
	if (it->next_gfn == it->yield_gfn)
		return false;
	if (!mmu_excl_need_resched(x))
		return false;
	mmu_excl_yield(x);
	it->yielded = true;
	return true;
}

/* A table whose entries the earlier passes emptied (exact: we hold the
 * lock exclusively). */
static bool table_empty(const struct spte_format *f, spte_t s)
{
	return tdp_table_empty(f, env_hpa_to_virt(spte_table_hpa(f, s)));
}

static bool zap_wanted(const struct spte_format *f, const struct tdp_iter *it, u64 start,
		       u64 end, int pass_level)
{
	if (!spte_present(f, it->old))
		return false;
	if (spte_is_leaf(f, it->old, it->level))
		return true; /* a huge leaf overlapping the range goes whole */
	/* A table goes when the range covers it, or when it is left empty
	 * (partly covered: its last entries were just zapped). */
	return it->level == pass_level &&
	       (tdp_iter_covered(it, start, end) || table_empty(f, it->old));
}

static void zap_root_pass(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end,
			  int pass_level)
{
	const struct spte_format *f = x->mmu->fmt;
	struct mmu_held h = excl_held(x);
	struct tdp_iter it;

	mmu_assert_excl(x);
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(start), GFN(end), pass_level) {
retry:
		if (mmu_excl_cond_resched(x, &it))
			continue;
		if (!zap_wanted(f, &it, start, end, pass_level))
			continue;
		/* Only an empty table is ever removed here: nothing refills an
		 * invalid root, and the passes below emptied it. */
		MMU_BUG_ON(x->mmu, spte_is_table(f, it.old, it.level) && !table_empty(f, it.old));
		if (tdp_set_spte(&h, &it, 0))
			goto retry;
	}
}

/* Tear down [start, end) of an obsolete root, tables included. */
void zap_root_range(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end)
{
	mmu_assert_excl(x);
	MMU_ASSERT(!root_is_valid(x->mmu, root));
	for (int level = 1; level <= TDP_ROOT_LEVEL; level++)
		zap_root_pass(x, root, start, end, level);
}

/* Remove the leaves of [start, end) in a valid root; tables stay. */
static void zap_leaves_root(struct mmu_excl *x, struct mmu_root *root, u64 start, u64 end)
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
		if (tdp_set_spte(&h, &it, 0))
			goto retry;
	}
}

/* Zap the leaves of [start, end) in every valid root. */
void zap_valid_roots_range(struct mmu_excl *x, u64 start, u64 end)
{
	roots_for_each_valid(x, zap_leaves_root, start, end);
	nmmu_l1_zap(x, start, end); /* and every shadow table built on them */
}

void mmu_zap_gfn_range(struct mmu *mmu, gfn_t start, gfn_t end)
{
	struct mmu_excl x;

	if (start.v >= end.v || start.v >= TDP_MAX_GFN)
		return;
	x = mmu_lock_excl(mmu);
	zap_valid_roots_range(&x, start.v, MIN(end.v, TDP_MAX_GFN));
	mmu_unlock_excl(&x);
}

/*
 * Eviction runs only here, under the exclusive lock: it unlinks and frees
 * tables and walks the roots list. KVM's CVE-2022-45869 (seed 001) was its
 * page quota reclaim running inside a shared-mode fault; Keel's fault path
 * returns MMU_FAULT_NOMEM and holds nothing when it does. Zapping a valid
 * root keeps its tables, so eviction obsoletes every root and tears them
 * down (the fast zap); vCPUs load a fresh root at their next entry.
 */
u64 mmu_evict(struct mmu *mmu)
{
	struct mmu_excl x = mmu_lock_excl(mmu);
	u64 before = MMU_GAUGE(mmu, tables_in_use), after;

	mmu_zap_all_fast(&x);
	reclaim_run(&x);
	after = MMU_GAUGE(mmu, tables_in_use);
	mmu_count(&mmu->c.evictions);
	mmu_unlock_excl(&x);
	return before > after ? before - after : 0;
}
