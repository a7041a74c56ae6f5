// SPDX-License-Identifier: MIT
/* nmmu_verify() and the leaf iterator, for tests (nested_internal.h). */
#include <keel/string.h>
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

struct nverify {
	struct nmmu *n;
	const struct memslots *slots;
	struct verify_report rep;
	u64 tables;
	u64 leaves[TDP_ROOT_LEVEL];
};

#define nverify_fail(v, ...) verify_report_fail(&(v)->rep, __VA_ARGS__)

static const struct memslot *slot_of_hfn(const struct memslots *s, u64 hfn)
{
	for (unsigned i = 0; i < MMU_MAX_SLOTS; i++) {
		const struct memslot *slot = s->by_id[i];

		if (slot && hfn >= slot->d.backing.v && hfn - slot->d.backing.v < slot->d.npages)
			return slot;
	}
	return NULL;
}

/* Every shadow leaf lies in one live L1 slot, with no more than the slot
 * allows; under dirty logging writable leaves are 4 KiB and marked dirty. */
static void nverify_leaf(struct nverify *v, const struct tdp_iter *it)
{
	const struct spte_format *f = v->n->sm->fmt;
	u64 hfn = spte_leaf_hfn(f, it->old, it->level).v, pages = tdp_level_pages(it->level);
	const struct memslot *slot = slot_of_hfn(v->slots, hfn);
	u32 perms = spte_perms(f, it->old);
	unsigned long long l2 = it->gfn;

	if (!slot || slot->invalid)
		return nverify_fail(v, "l2 gfn 0x%llx: shadow leaf outside every live L1 slot", l2);
	if (hfn + pages > slot->d.backing.v + slot->d.npages)
		return nverify_fail(v, "l2 gfn 0x%llx: level-%d shadow leaf overruns slot %u", l2,
				    it->level, slot->d.id);
	if (it->level > slot_max_level(v->n->l1, slot,
				       slot->d.base_gfn.v + (hfn - slot->d.backing.v)))
		return nverify_fail(v, "l2 gfn 0x%llx: level-%d leaf larger than the TDP MMU's", l2,
				    it->level);
	if ((perms & MMU_ACC_WRITE) && (slot->d.flags & MEMSLOT_READONLY))
		return nverify_fail(v, "l2 gfn 0x%llx: writable in read-only slot %u", l2,
				    slot->d.id);
	if ((perms & MMU_ACC_WRITE) && (slot->d.flags & MEMSLOT_DIRTY_LOG) &&
	    (it->level > 1 ||
	     !slot_dirty_test(slot, slot->d.base_gfn.v + (hfn - slot->d.backing.v))))
		return nverify_fail(v, "l2 gfn 0x%llx: writable but not marked dirty in slot %u",
				    l2, slot->d.id);
}

/* A table has no metadata to check (one page: its level and first gfn are
 * where the walk found it); it is counted against tables_in_use. */
static void nverify_table(struct nverify *v, const struct tdp_page *pg, int level, u64 base)
{
	v->tables++;
}

static void nverify_root(struct nverify *v, const struct nmmu_root *r, bool check)
{
	const struct spte_format *f = v->n->sm->fmt;
	struct tdp_iter it;

	nverify_table(v, r->base.pt, TDP_ROOT_LEVEL, 0);
	if (check && !r->used && !tdp_table_empty(f, r->base.pt))
		nverify_fail(v, "an unused shadow root maps something");
	for_each_tdp_pte(&it, f, r->base.pt->spt, GFN(0), GFN(TDP_MAX_GFN), 1) {
		if (spte_frozen(f, it.old))
			nverify_fail(v, "l2 gfn 0x%llx: FROZEN shadow entry",
				     (unsigned long long)it.gfn);
		else if (spte_is_table(f, it.old, it.level))
			nverify_table(v, env_hpa_to_virt(spte_table_hpa(f, it.old)), it.level - 1,
				      it.gfn);
		else if (spte_is_leaf(f, it.old, it.level)) {
			v->leaves[it.level - 1]++;
			if (check)
				nverify_leaf(v, &it);
		}
	}
}

int nmmu_verify(struct nmmu *n, char *why, size_t len)
{
	struct nverify v = { .n = n };
	struct mmu_excl x;
	struct nmmu_excl nx;
	u64 pending, in_use;

	verify_report_init(&v.rep, why, len);
	mmu_spin_lock(&n->l1->slots_lock);
	v.slots = slots_deref(n->l1);
	x = mmu_lock_excl(n->l1);
	nx = nmmu_lock(n);
	for (unsigned i = 0; i < n->nroots; i++) {
		const struct nmmu_root *r = &n->roots[i];

		if (!r->base.pt)
			continue;
		/* A root being recycled (its claim yielded while emptying it) is
		 * used by no vCPU: only its tables and leaves are counted. */
		nverify_root(&v, r, r->used || !r->users);
	}
	pending = reclaim_pending(&nx.x);
	in_use = MMU_GAUGE(n->sm, tables_in_use);
	if (v.tables + pending != in_use)
		nverify_fail(&v, "shadow tables: %llu reachable + %llu awaiting free != %llu",
			     (unsigned long long)v.tables, (unsigned long long)pending,
			     (unsigned long long)in_use);
	for (int l = 0; l < 3; l++)
		if (v.leaves[l] != MMU_GAUGE(n->sm, maps[l]))
			nverify_fail(&v, "level-%d shadow leaves: %llu found, gauge %llu", l + 1,
				     (unsigned long long)v.leaves[l],
				     (unsigned long long)MMU_GAUGE(n->sm, maps[l]));
	nmmu_unlock(&nx);
	mmu_unlock_excl(&x);
	mmu_spin_unlock(&n->l1->slots_lock);
	return v.rep.err;
}

void nmmu_for_each_leaf(struct nmmu *n, nmmu_leaf_cb cb, void *ctx)
{
	const struct spte_format *f = n->sm->fmt;
	struct mmu_excl x;
	struct nmmu_excl nx;
	struct tdp_iter it;

	mmu_spin_lock(&n->l1->slots_lock);
	x = mmu_lock_excl(n->l1);
	nx = nmmu_lock(n);
	for (unsigned i = 0; i < n->nroots; i++) {
		const struct nmmu_root *r = &n->roots[i];

		if (!r->used || !r->base.pt)
			continue;
		for_each_tdp_pte(&it, f, r->base.pt->spt, GFN(0), GFN(TDP_MAX_GFN), 1)
			if (spte_is_leaf(f, it.old, it.level))
				cb(ctx, &r->key, it.gfn, spte_leaf_hfn(f, it.old, it.level),
				   it.level, spte_perms(f, it.old));
	}
	nmmu_unlock(&nx);
	mmu_unlock_excl(&x);
	mmu_spin_unlock(&n->l1->slots_lock);
}

bool nmmu_debug_lookup(struct nmmu_vcpu *nv, ngfn_t l2gfn, struct nmmu_lookup *out)
{
	struct nmmu *n = nv->n;
	const struct spte_format *f = n->sm->fmt;
	int idx = srcu_read_lock(&n->l1->slots_srcu);
	struct mmu_shared s = mmu_lock_shared(n->l1);
	struct nmmu_excl nx = nmmu_lock(n);
	struct tdp_iter it;
	bool found = false;

	if (!nv->root || !nv->root->base.pt)
		goto out;
	for_each_tdp_pte(&it, f, nv->root->base.pt->spt, GFN(l2gfn.v), GFN(l2gfn.v + 1), 1) {
		const struct memslot *slot;
		u64 hfn;

		if (!spte_is_leaf(f, it.old, it.level))
			continue;
		hfn = spte_leaf_hfn(f, it.old, it.level).v + (l2gfn.v - it.gfn);
		*out = (struct nmmu_lookup){ HFN(hfn), it.level, spte_perms(f, it.old), true };
		slot = slot_of_hfn(slots_deref(n->l1), hfn);
		if (slot && (out->perms & MMU_ACC_WRITE) && (slot->d.flags & MEMSLOT_DIRTY_LOG))
			out->dirty_ok = slot_dirty_test(slot, slot->d.base_gfn.v +
							      (hfn - slot->d.backing.v));
		found = true;
		break;
	}
out:
	nmmu_unlock(&nx);
	mmu_unlock_shared(&s);
	srcu_read_unlock(&n->l1->slots_srcu, idx);
	return found;
}
