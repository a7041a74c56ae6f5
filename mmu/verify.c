// SPDX-License-Identifier: MIT
/* mmu_verify() and the other introspection helpers (mmu_debug.h). */
#include <stdarg.h>
#include <keel/string.h>
#include "mmu/mmu_internal.h"
#include "mmu/mmu_debug.h"
#include "mmu/tdp_iter.h"

struct verify {
	struct mmu *mmu;
	const struct memslots *slots;
	struct verify_report rep;
	u64 tables;
	u64 leaves[TDP_ROOT_LEVEL];
	unsigned valid_roots;
};

void verify_report_init(struct verify_report *r, char *why, size_t len)
{
	*r = (struct verify_report){ .why = why, .len = len };
	if (why && len)
		why[0] = 0;
}

void verify_report_fail(struct verify_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return;
	r->err = -EINVAL;
	if (!r->why || !r->len)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, r->len, fmt, ap);
	va_end(ap);
}

#define verify_fail(v, ...) verify_report_fail(&(v)->rep, __VA_ARGS__)

/* KVM_BUG_ON for the MMU: see MMU_BUG_ON in mmu_internal.h. */
void mmu_bug(struct mmu *mmu, const char *expr, const char *file, int line)
{
	bool fatal = MMU_DEBUG;

	atomic_set(&mmu->dead, true);
	env_log("mmu: BUG: %s (%s:%d): the MMU is dead, the VM stops", expr, file, line);
	env_hook(HOOK_MMU_BUG, &fatal);
	if (fatal)
		env_assert_failed(expr, file, line);
}

static void verify_leaf(struct verify *v, const struct tdp_iter *it)
{
	const struct spte_format *f = v->mmu->fmt;
	u64 pages = tdp_level_pages(it->level);
	const struct memslot *slot = slots_find_gfn(v->slots, it->gfn);
	u32 perms = spte_perms(f, it->old);
	unsigned long long gfn = it->gfn;

	if (!slot || slot->invalid)
		return verify_fail(v, "gfn 0x%llx: leaf outside every live slot", gfn);
	if (it->gfn + pages > slot->d.base_gfn.v + slot->d.npages)
		return verify_fail(v, "gfn 0x%llx: level-%d leaf overruns slot %u", gfn, it->level,
				   slot->d.id);
	if (spte_leaf_hfn(f, it->old, it->level).v != slot_gfn_to_hfn(slot, it->gfn).v)
		return verify_fail(v, "gfn 0x%llx: maps the wrong host frame", gfn);
	if ((perms & MMU_ACC_WRITE) && (slot->d.flags & MEMSLOT_READONLY))
		return verify_fail(v, "gfn 0x%llx: writable in read-only slot %u", gfn, slot->d.id);
	if ((perms & MMU_ACC_WRITE) && (slot->d.flags & MEMSLOT_DIRTY_LOG) &&
	    (it->level > 1 || !slot_dirty_test(slot, it->gfn)))
		return verify_fail(v, "gfn 0x%llx: writable but not marked dirty in slot %u", gfn,
				   slot->d.id);
}

static void verify_root(struct verify *v, struct mmu_root *root)
{
	const struct spte_format *f = v->mmu->fmt;
	bool valid = root_is_valid(v->mmu, root);
	struct tdp_iter it;

	v->valid_roots += valid;
	v->tables++; /* the root table */
	for_each_tdp_pte(&it, f, root->pt->spt, GFN(0), GFN(TDP_MAX_GFN), 1) {
		if (spte_frozen(f, it.old))
			verify_fail(v, "gfn 0x%llx: FROZEN entry left behind",
				    (unsigned long long)it.gfn);
		else if (spte_is_table(f, it.old, it.level))
			v->tables++;
		else if (spte_is_leaf(f, it.old, it.level)) {
			v->leaves[it.level - 1]++;
			if (valid)
				verify_leaf(v, &it);
		}
	}
}

static void verify_counts(struct verify *v, const struct mmu_excl *x)
{
	struct mmu *mmu = v->mmu;
	u64 pending = reclaim_pending(x), in_use = MMU_GAUGE(mmu, tables_in_use);

	if (v->valid_roots > 1)
		verify_fail(v, "%u valid roots", v->valid_roots);
	if (v->tables + pending != in_use)
		verify_fail(v, "tables: %llu reachable + %llu awaiting free != %llu in use",
			    (unsigned long long)v->tables, (unsigned long long)pending,
			    (unsigned long long)in_use);
	for (int l = 0; l < 3; l++)
		if (v->leaves[l] != MMU_GAUGE(mmu, maps[l]))
			verify_fail(v, "level-%d leaves: %llu found, gauge says %llu", l + 1,
				    (unsigned long long)v->leaves[l],
				    (unsigned long long)MMU_GAUGE(mmu, maps[l]));
	/* Every table holds its deferred-free slot (no memory cache is alive:
	 * the split's lives under slots_lock, which verify holds). */
	mmu_spin_lock(&mmu->reclaim_lock);
	if (mmu->reclaim.reserved != in_use || mmu->reclaim.n != pending ||
	    mmu->reclaim.reserved > mmu->reclaim.cap)
		verify_fail(v, "reclaim: %llu slots reserved of %llu for %llu tables",
			    (unsigned long long)mmu->reclaim.reserved,
			    (unsigned long long)mmu->reclaim.cap, (unsigned long long)in_use);
	mmu_spin_unlock(&mmu->reclaim_lock);
}

int mmu_verify(struct mmu *mmu, char *why, size_t len)
{
	struct verify v = { .mmu = mmu };
	struct mmu_excl x;

	verify_report_init(&v.rep, why, len);
	if (mmu_is_dead(mmu))
		verify_fail(&v, "the MMU is dead (an MMU_BUG_ON fired; see the log)");
	mmu_spin_lock(&mmu->slots_lock);
	v.slots = slots_deref(mmu);
	x = mmu_lock_excl(mmu);
	for (struct mmu_root *root = mmu->roots; root; root = root->next)
		verify_root(&v, root);
	verify_counts(&v, &x);
	mmu_unlock_excl(&x);
	mmu_spin_unlock(&mmu->slots_lock);
	return v.rep.err;
}

void mmu_for_each_leaf(struct mmu *mmu, mmu_leaf_cb cb, void *ctx)
{
	const struct spte_format *f = mmu->fmt;
	struct mmu_excl x = mmu_lock_excl(mmu);
	struct tdp_iter it;

	for (struct mmu_root *root = mmu->roots; root; root = root->next) {
		if (!root_is_valid(mmu, root))
			continue;
		for_each_tdp_pte(&it, f, root->pt->spt, GFN(0), GFN(TDP_MAX_GFN), 1)
			if (spte_is_leaf(f, it.old, it.level))
				cb(ctx, GFN(it.gfn), spte_leaf_hfn(f, it.old, it.level), it.level,
				   spte_perms(f, it.old));
	}
	mmu_unlock_excl(&x);
}

static bool lookup_in_root(const struct mmu *mmu, struct mmu_root *root, gfn_t gfn, hfn_t *hfn,
			   int *level, u32 *perms)
{
	const struct spte_format *f = mmu->fmt;
	struct tdp_iter it;

	for_each_tdp_pte(&it, f, root->pt->spt, gfn, GFN(gfn.v + 1), 1) {
		if (!spte_is_leaf(f, it.old, it.level))
			continue;
		*hfn = HFN(spte_leaf_hfn(f, it.old, it.level).v + (gfn.v - it.gfn));
		*level = it.level;
		*perms = spte_perms(f, it.old);
		return true;
	}
	return false;
}

bool mmu_debug_lookup(struct mmu *mmu, gfn_t gfn, hfn_t *hfn, int *level, u32 *perms)
{
	struct mmu_shared s = mmu_lock_shared(mmu);
	struct mmu_root *root;
	bool found = false;

	/* Shared mode: other vCPUs may add or drop roots, so hold roots_lock
	 * while looking at the list (and during this short walk). */
	mmu_spin_lock(&mmu->roots_lock);
	for (root = mmu->roots; root && !root_is_valid(mmu, root); root = root->next)
		;
	if (root)
		found = lookup_in_root(mmu, root, gfn, hfn, level, perms);
	mmu_spin_unlock(&mmu->roots_lock);
	mmu_unlock_shared(&s);
	return found;
}

void mmu_debug_lock_stats(struct mmu *mmu, struct mmu_lock_stats *out, bool reset)
{
	out->excl_acquisitions = atomic_read(&mmu->c.excl_acquisitions);
	out->excl_total_ns = atomic_read(&mmu->c.excl_total_ns);
	out->excl_max_ns = atomic_read(&mmu->c.excl_max_ns);
	out->yields = atomic_read(&mmu->c.yields);
	if (reset) {
		struct mmu_excl x = mmu_lock_excl(mmu);

		atomic_set(&mmu->c.excl_acquisitions, 0);
		atomic_set(&mmu->c.excl_total_ns, 0);
		atomic_set(&mmu->c.excl_max_ns, 0);
		atomic_set(&mmu->c.yields, 0);
		mmu_unlock_excl(&x);
	}
}

u64 mmu_debug_flush_gen(struct mmu *mmu)
{
	return atomic_read(&mmu->flush_gen);
}

unsigned mmu_debug_root_count(struct mmu *mmu, unsigned *valid)
{
	struct mmu_excl x = mmu_lock_excl(mmu);
	unsigned n = 0, v = 0;

	for (struct mmu_root *root = mmu->roots; root; root = root->next) {
		n++;
		v += root_is_valid(mmu, root);
	}
	mmu_unlock_excl(&x);
	if (valid)
		*valid = v;
	return n;
}

u64 mmu_debug_tables_pending_free(struct mmu *mmu)
{
	struct mmu_excl x = mmu_lock_excl(mmu);
	u64 n;

	reclaim_run(&x); /* what is past its grace period goes first */
	n = reclaim_pending(&x);

	mmu_unlock_excl(&x);
	return n;
}

size_t mmu_debug_bytes_per_table(void)
{
	return TDP_PAGE_NPAGES * PAGE_SIZE + sizeof(struct reclaim_slot);
}
