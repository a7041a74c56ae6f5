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

/* A table page is only its 4 KiB of hardware entries: what the MMU needs to
 * know about a table (level, first gfn) the walker knows, and its place on
 * the deferred-free list is reserved when it is allocated (reclaim.c). */
struct tdp_page *tdp_page_alloc(struct mmu *mmu)
{
	struct tdp_page *pg;

	if (reclaim_reserve(mmu, 1))
		return NULL;
	pg = env_pages_alloc(TDP_PAGE_NPAGES);
	if (!pg) {
		reclaim_unreserve(mmu, 1);
		return NULL;
	}
	mmu_gauge_add(mmu, tables_in_use, 1);
	return pg;
}

/* For a table nobody else can see: never linked, or past its grace period. */
void tdp_page_free_unlinked(struct mmu *mmu, struct tdp_page *pg)
{
	env_pages_free(pg, TDP_PAGE_NPAGES);
	mmu_gauge_sub(mmu, tables_in_use, 1);
	reclaim_unreserve(mmu, 1);
}

void mmu_request_tlb_flush(struct mmu *mmu)
{
	atomic_add(&mmu->flush_gen, 1);
	mmu_shard_count(mmu, tlb_flush_requests);
}

bool tdp_table_empty(const struct spte_format *f, const struct tdp_page *pg)
{
	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++)
		if (spte_present(f, spte_read(&pg->spt[i])))
			return false;
	return true;
}

static struct tdp_page *table_of(const struct mmu *mmu, spte_t s)
{
	return env_hpa_to_virt(spte_table_hpa(mmu->fmt, s));
}

/*
 * Does this change remove or reduce a translation a TLB may hold? For a leaf
 * split into a table, 'granted' is what the new children grant: the
 * permission mask the split applied, known to the splitter (never read back
 * from the child table, which other threads may already be changing).
 */
static bool change_needs_flush(const struct mmu *mmu, spte_t old, spte_t new, int level,
			       u32 granted)
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
	after = spte_is_table(f, new, level) ? granted : spte_perms(f, new);
	return (before & ~after) != 0;
}

/*
 * The leaf gauges follow one rule that keeps them from ever going below the
 * truth, even while shared-mode threads race: a gain is counted BEFORE the
 * entry carrying it becomes visible (and uncounted if the cmpxchg then
 * fails), a loss AFTER the entry is gone. Whoever removes an entry therefore
 * always finds its gain already counted. Counts may run high for a moment,
 * never low; at rest (e.g. under the exclusive lock, where mmu_verify looks)
 * they are exact.
 */
static void account_gain(struct mmu *mmu, int level, spte_t old, spte_t new, int sign)
{
	const struct spte_format *f = mmu->fmt;

	if (spte_is_leaf(f, new, level) && !spte_is_leaf(f, old, level))
		mmu_gauge_add(mmu, maps[level - 1], sign);
}

static void handle_removed_table(const struct mmu_held *h, struct tdp_page *pg, int level);

/* Everything that follows an entry change: losses, flush, teardown. */
static void account_loss(const struct mmu_held *h, int level, spte_t old, spte_t new,
			 u32 granted, bool parent_removed)
{
	struct mmu *mmu = h->mmu;
	const struct spte_format *f = mmu->fmt;
	bool was_table = spte_is_table(f, old, level);
	bool same_table = was_table && spte_is_table(f, new, level) &&
			  spte_table_hpa(f, old).v == spte_table_hpa(f, new).v;

	/* A present leaf never silently changes its frame: zap (and flush) first. */
	MMU_BUG_ON(mmu, spte_is_leaf(f, old, level) && spte_is_leaf(f, new, level) &&
			spte_leaf_hfn(f, old, level).v != spte_leaf_hfn(f, new, level).v);
	if (spte_is_leaf(f, old, level) && !spte_is_leaf(f, new, level)) {
		mmu_gauge_sub(mmu, maps[level - 1], 1);
		if (spte_present(f, new))
			mmu_shard_count(mmu, splits);
		else
			mmu_shard_count(mmu, zaps);
	}
	if (!parent_removed && change_needs_flush(mmu, old, new, level, granted))
		mmu_request_tlb_flush(mmu);
	if (was_table && !same_table)
		handle_removed_table(h, table_of(mmu, old), level - 1);
}

/*
 * A table was unlinked: account for everything it mapped and retire it.
 * In shared mode other walkers may still be inside, so each entry is frozen
 * (they will see FROZEN and retry, and cannot install into it); an entry
 * already frozen belongs to a thread finishing its own change, which ends
 * with a plain store, so wait for that. In exclusive mode nobody else walks
 * and nobody can reach the table any more, so its entries are only read: a
 * hardware walker may use them until the flush the unlinking requested, as
 * it may use its TLB, and the page is freed after the grace period
 * (reclaim.c).
 */
static void removed_table_excl(const struct mmu_held *h, struct tdp_page *pg, int level)
{
	const struct spte_format *f = h->mmu->fmt;
	u32 leaves = 0;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) {
		spte_t old = spte_read(&pg->spt[i]);

		MMU_BUG_ON(h->mmu, spte_frozen(f, old)); /* nobody else changes it */
		if (spte_is_leaf(f, old, level))
			leaves++;
		else if (spte_is_table(f, old, level))
			handle_removed_table(h, table_of(h->mmu, old), level - 1);
	}
	if (leaves) {
		mmu_gauge_sub(h->mmu, maps[level - 1], leaves);
		atomic_add(&mmu_shard_self(h->mmu)->zaps, leaves);
	}
}

static void removed_table_shared(const struct mmu_held *h, struct tdp_page *pg, int level)
{
	const struct spte_format *f = h->mmu->fmt;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++) {
		spte_t old;

		for (;;) {
			old = atomic_xchg(&pg->spt[i], f->frozen);
			if (!spte_frozen(f, old))
				break;
			env_cpu_relax();
		}
		account_loss(h, level, old, 0, 0, true);
	}
}

static void handle_removed_table(const struct mmu_held *h, struct tdp_page *pg, int level)
{
	if (h->excl)
		removed_table_excl(h, pg, level);
	else
		removed_table_shared(h, pg, level);
	reclaim_retire(h->mmu, pg);
}

/*
 * THE way to change a live entry: compare-exchange from the value the walker
 * last saw, with the bookkeeping around it. Returns 0, or -EBUSY when the
 * entry changed under us (it->old then holds the fresh value and the caller
 * decides again). Runs in either lock mode; only the walker's owner may call
 * it, never on an iterator that yielded and has not been re-walked, and never
 * on a FROZEN entry (only its freezer touches it, via tdp_unfreeze()).
 * 'granted': for a leaf replaced by a table, what the table's entries grant
 * (tdp_split_huge); otherwise unused.
 */
static int set_spte(const struct mmu_held *h, struct tdp_iter *it, spte_t new, u32 granted)
{
	spte_t old = it->old;

	mmu_assert_held(h);
	MMU_ASSERT(!it->yielded);
	MMU_ASSERT(!spte_frozen(h->mmu->fmt, old));
	account_gain(h->mmu, it->level, old, new, +1);
	if (!atomic_cmpxchg(it->sptep, &it->old, new)) {
		account_gain(h->mmu, it->level, old, new, -1);
		return -EBUSY;
	}
	if (!h->excl)
		env_hook(HOOK_FAULT_AFTER_INSTALL, it);
	account_loss(h, it->level, old, new, granted, false);
	it->old = new;
	return 0;
}

int tdp_set_spte(const struct mmu_held *h, struct tdp_iter *it, spte_t new)
{
	return set_spte(h, it, new, 0);
}

/*
 * Second half of a multi-step change: the entry was frozen by this thread
 * (tdp_set_spte(h, it, fmt->frozen), which accounted for what it held), and
 * nobody else acts on a frozen entry, so a plain store ends the change.
 */
void tdp_unfreeze(const struct mmu_held *h, struct tdp_iter *it, spte_t new)
{
	mmu_assert_held(h);
	MMU_ASSERT(spte_frozen(h->mmu->fmt, it->old));
	MMU_ASSERT(!spte_frozen(h->mmu->fmt, new));
	account_gain(h->mmu, it->level, it->old, new, +1);
	atomic_set(it->sptep, new);
	it->old = new;
}

/* Free a private table (entries of 'level') that lost its race to be linked. */
static void tdp_discard_private(struct mmu *mmu, struct tdp_page *pg, int level)
{
	u32 leaves = 0;

	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++)
		leaves += spte_is_leaf(mmu->fmt, pg->spt[i], level);
	if (leaves)
		mmu_gauge_sub(mmu, maps[level - 1], leaves);
	tdp_page_free_unlinked(mmu, pg);
}

/*
 * Link a private table (empty, or a complete split table granting
 * 'granted') with one cmpxchg. The table belongs to this call: when another
 * thread changed the entry first, it is discarded here and the caller
 * re-decides on it->old.
 */
static int link_table(const struct mmu_held *h, struct tdp_iter *it, struct tdp_page *child,
		      u32 granted)
{
	spte_t table = spte_make_table(h->mmu->fmt, env_virt_to_hpa(child));
	int r = set_spte(h, it, table, granted);

	if (r)
		tdp_discard_private(h->mmu, child, it->level - 1);
	else
		env_hook(HOOK_TABLE_LINKED, child);
	return r;
}

/* A new, empty table at a non-present entry above the goal. */
int tdp_link_new_table(const struct mmu_held *h, struct tdp_iter *it, struct tdp_page *pg)
{
	if (!pg)
		pg = tdp_page_alloc(h->mmu);
	return pg ? link_table(h, it, pg, 0) : -ENOMEM;
}

/*
 * Replace the huge leaf at the walker by a table of 512 leaves that
 * translate exactly what it translated, with permissions reduced by
 * 'perm_mask'. The table is complete before anyone can see it; its leaves
 * are counted while it is private (once linked, other faults may already
 * change and account them; a lost link undoes it). 'pg': a page from the
 * caller's memory cache, or NULL to allocate one here. 0, -EBUSY or -ENOMEM.
 */
int tdp_split_huge(const struct mmu_held *h, struct tdp_iter *it, u32 perm_mask,
		   struct tdp_page *pg)
{
	struct mmu *mmu = h->mmu;
	const struct spte_format *f = mmu->fmt;
	int level = it->level;
	u64 step = tdp_level_pages(level - 1);
	hfn_t hfn = spte_leaf_hfn(f, it->old, level);
	u32 perms = spte_perms(f, it->old) & perm_mask;

	MMU_ASSERT(level > 1 && spte_is_leaf(f, it->old, level));
	if (!pg)
		pg = tdp_page_alloc(mmu);
	if (!pg)
		return -ENOMEM;
	for (unsigned i = 0; i < TDP_PTES_PER_TABLE; i++)
		pg->spt[i] = spte_make_leaf(f, HFN(hfn.v + i * step), level - 1, perms);
	mmu_gauge_add(mmu, maps[level - 2], TDP_PTES_PER_TABLE);
	return link_table(h, it, pg, perms);
}
