// SPDX-License-Identifier: MIT
/*
 * Page-table pages and the one function through which every live SPTE
 * changes (tdp_set_spte, plus tdp_unfreeze to finish a multi-step change).
 * Its bookkeeping (account_gain/account_loss) keeps the counters, requests
 * TLB flushes, tears down tables that were unlinked and checks the
 * invariants; nothing else writes a live entry.
 */
#include "mmu/mmu_internal.h"
#include "mmu/tdp_iter.h"

void mmu_counter_sub(u64 *counter, u64 n)
{
	u64 old = __atomic_fetch_sub(counter, n, __ATOMIC_SEQ_CST);

	MMU_ASSERT(old >= n); /* a counter never underflows (seed 002) */
}

struct tdp_page *tdp_page_alloc(struct mmu *mmu, u64 base_gfn, int level)
{
	struct tdp_page *pg = env_pages_alloc(TDP_PAGE_NPAGES);

	if (!pg)
		return NULL;
	pg->meta.base_gfn = base_gfn;
	pg->meta.level = level;
	mmu_count(&mmu->c.tables_in_use);
	return pg;
}

/* For a table nobody else can see: never linked, or past its grace period. */
void tdp_page_free_unlinked(struct mmu *mmu, struct tdp_page *pg)
{
	env_pages_free(pg, TDP_PAGE_NPAGES);
	mmu_counter_sub(&mmu->c.tables_in_use, 1);
}

void mmu_request_tlb_flush(struct mmu *mmu)
{
	atomic_add(&mmu->flush_gen, 1);
	mmu_count(&mmu->c.tlb_flush_requests);
}

static struct tdp_page *table_of(const struct mmu *mmu, spte_t s)
{
	return env_hpa_to_virt(spte_table_hpa(mmu->fmt, s));
}

static void present_inc(struct tdp_page *pg)
{
	atomic_add(&pg->meta.present, 1);
}

static void present_dec(struct mmu *mmu, struct tdp_page *pg)
{
	u32 old = __atomic_fetch_sub(&pg->meta.present, 1, __ATOMIC_SEQ_CST);

	/* A count never underflows (seed 002): zap trusts it to decide that a
	 * table is empty and may be freed. */
	MMU_BUG_ON(mmu, old == 0);
}

/* Does this change remove or reduce a translation a TLB may hold? */
static bool change_needs_flush(const struct mmu *mmu, spte_t old, spte_t new, int level)
{
	const struct spte_format *f = mmu->fmt;
	u32 before, after;

	if (!spte_present(f, old))
		return false;
	if (!spte_present(f, new))
		return true;
	if (spte_is_table(f, old, level))
		return !spte_is_table(f, new, level) ||
		       spte_table_hpa(f, old).v != spte_table_hpa(f, new).v;
	before = spte_perms(f, old);
	/* A leaf split into a table: what the new children grant. */
	after = spte_is_table(f, new, level) ? spte_perms(f, table_of(mmu, new)->spt[0])
					     : spte_perms(f, new);
	return (before & ~after) != 0;
}

/*
 * The counters (a table's present entries, the leaf gauges) follow one rule
 * that keeps them from ever going below the truth, even while shared-mode
 * threads race: a gain is counted BEFORE the entry carrying it becomes
 * visible (and uncounted if the cmpxchg then fails), a loss AFTER the entry
 * is gone. Whoever removes an entry therefore always finds its gain already
 * counted. Counts may run high for a moment, never low; at rest (e.g. under
 * the exclusive lock, where mmu_verify looks) they are exact.
 */
static void account_gain(struct mmu *mmu, struct tdp_page *pg, int level, spte_t old,
			 spte_t new, int sign)
{
	const struct spte_format *f = mmu->fmt;

	if (!spte_present(f, old) && spte_present(f, new))
		sign > 0 ? present_inc(pg) : present_dec(mmu, pg);
	if (spte_is_leaf(f, new, level) && !spte_is_leaf(f, old, level)) {
		if (sign > 0)
			mmu_count(&mmu->c.maps[level - 1]);
		else
			mmu_counter_sub(&mmu->c.maps[level - 1], 1);
	}
}

static void handle_removed_table(const struct mmu_held *h, struct tdp_page *pg);

/* Everything that follows an entry change: losses, flush, teardown. */
static void account_loss(const struct mmu_held *h, struct tdp_page *pg, int level,
			 spte_t old, spte_t new, bool parent_removed)
{
	struct mmu *mmu = h->mmu;
	const struct spte_format *f = mmu->fmt;
	bool was_table = spte_is_table(f, old, level);
	bool same_table = was_table && spte_is_table(f, new, level) &&
			  spte_table_hpa(f, old).v == spte_table_hpa(f, new).v;

	/* A present leaf never silently changes its frame: zap (and flush) first. */
	MMU_BUG_ON(mmu, spte_is_leaf(f, old, level) && spte_is_leaf(f, new, level) &&
			spte_leaf_hfn(f, old, level).v != spte_leaf_hfn(f, new, level).v);
	if (spte_present(f, old) && !spte_present(f, new))
		present_dec(mmu, pg);
	if (spte_is_leaf(f, old, level) && !spte_is_leaf(f, new, level)) {
		mmu_counter_sub(&mmu->c.maps[level - 1], 1);
		mmu_count(spte_present(f, new) ? &mmu->c.splits : &mmu->c.zaps);
	}
	if (!parent_removed && change_needs_flush(mmu, old, new, level))
		mmu_request_tlb_flush(mmu);
	if (was_table && !same_table)
		handle_removed_table(h, table_of(mmu, old));
}

/*
 * A table was unlinked: take every entry out of it and account for what it
 * mapped. In shared mode other walkers may still be inside, so each entry is
 * frozen (they will see FROZEN and retry, and cannot install into it); an
 * entry already frozen belongs to a thread finishing its own change, which
 * ends with a plain store, so wait for that. In exclusive mode nobody else
 * walks. The page is freed after the grace period (reclaim.c).
 */
static void handle_removed_table(const struct mmu_held *h, struct tdp_page *pg)
{
	const struct spte_format *f = h->mmu->fmt;
	spte_t gone = h->excl ? 0 : f->frozen;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) {
		spte_t old;

		for (;;) {
			old = atomic_xchg(&pg->spt[i], gone);
			if (!spte_frozen(f, old) || h->excl)
				break;
			env_cpu_relax();
		}
		account_loss(h, pg, pg->meta.level, old, 0, true);
	}
	/* Shared mode: a racer whose cmpxchg into this table failed may not
	 * have uncounted its optimistic gain yet. */
	MMU_BUG_ON(h->mmu, h->excl && atomic_read(&pg->meta.present) != 0);
	reclaim_retire(h->mmu, pg);
}

/*
 * THE way to change a live entry: compare-exchange from the value the walker
 * last saw, with the bookkeeping around it. Returns 0, or -EBUSY when the
 * entry changed under us (it->old then holds the fresh value and the caller
 * decides again). Runs in either lock mode; only the walker's owner may call
 * it, never on an iterator that yielded and has not been re-walked, and never
 * on a FROZEN entry (only its freezer touches it, via tdp_unfreeze()).
 */
int tdp_set_spte(const struct mmu_held *h, struct tdp_iter *it, spte_t new)
{
	struct tdp_page *pg = tdp_page_of_spt(it->path[it->level]);
	spte_t old = it->old;

	mmu_assert_held(h);
	MMU_ASSERT(!it->yielded);
	MMU_ASSERT(!spte_frozen(h->mmu->fmt, old));
	account_gain(h->mmu, pg, it->level, old, new, +1);
	if (!atomic_cmpxchg(it->sptep, &it->old, new)) {
		account_gain(h->mmu, pg, it->level, old, new, -1);
		return -EBUSY;
	}
	if (!h->excl)
		env_hook(HOOK_FAULT_AFTER_INSTALL, it);
	account_loss(h, pg, it->level, old, new, false);
	it->old = new;
	return 0;
}

/*
 * Second half of a multi-step change: the entry was frozen by this thread
 * (tdp_set_spte(h, it, fmt->frozen), which accounted for what it held), and
 * nobody else acts on a frozen entry, so a plain store ends the change.
 */
void tdp_unfreeze(const struct mmu_held *h, struct tdp_iter *it, spte_t new)
{
	struct tdp_page *pg = tdp_page_of_spt(it->path[it->level]);

	mmu_assert_held(h);
	MMU_ASSERT(spte_frozen(h->mmu->fmt, it->old));
	MMU_ASSERT(!spte_frozen(h->mmu->fmt, new));
	account_gain(h->mmu, pg, it->level, it->old, new, +1);
	atomic_set(it->sptep, new);
	it->old = new;
}

/* Link a fully built, still private table at the walker's entry. */
/* Free a private table that lost its race to be linked. */
static void tdp_discard_private(struct mmu *mmu, struct tdp_page *pg)
{
	u32 leaves = 0;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++)
		leaves += spte_is_leaf(mmu->fmt, pg->spt[i], pg->meta.level);
	if (leaves)
		mmu_counter_sub(&mmu->c.maps[pg->meta.level - 1], leaves);
	tdp_page_free_unlinked(mmu, pg);
}

/*
 * Link a private table (empty, or a complete split table) with one cmpxchg.
 * The table belongs to this call: when another thread changed the entry
 * first, it is discarded here and the caller re-decides on it->old.
 */
int tdp_link_table(const struct mmu_held *h, struct tdp_iter *it, struct tdp_page *child)
{
	int r = tdp_set_spte(h, it, spte_make_table(h->mmu->fmt, env_virt_to_hpa(child)));

	if (r)
		tdp_discard_private(h->mmu, child);
	else
		env_hook(HOOK_TABLE_LINKED, child);
	return r;
}

/*
 * A private table of 512 leaves that translate exactly what the huge leaf
 * 'huge' (at 'level', first gfn 'gfn') translated, with permissions reduced
 * by 'perm_mask'. It is complete before anyone can see it.
 */
struct tdp_page *tdp_make_split_table(struct mmu *mmu, spte_t huge, u64 gfn, int level,
				      u32 perm_mask)
{
	const struct spte_format *f = mmu->fmt;
	u64 step = tdp_level_pages(level - 1);
	hfn_t hfn = spte_leaf_hfn(f, huge, level);
	u32 perms = spte_perms(f, huge) & perm_mask;
	struct tdp_page *child = tdp_page_alloc(mmu, gfn, level - 1);

	if (!child)
		return NULL;
	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++)
		child->spt[i] = spte_make_leaf(f, HFN(hfn.v + i * step), level - 1, perms);
	child->meta.present = TDP_PTES_PER_TABLE;
	/* Counted now, while private: once linked, other faults may already
	 * change (and account) its entries. A lost link undoes it (tdp_link_table). */
	atomic_add(&mmu->c.maps[level - 2], TDP_PTES_PER_TABLE);
	return child;
}
