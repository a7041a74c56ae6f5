// SPDX-License-Identifier: MIT
/*
 * The L2 fault path (an NPF exit while L2 runs on a shadow root):
 *
 *   read the root's generation                    (no lock)
 *   L1 slot read side
 *     walk NPT12 for the L2 gfn (nested_walk.c)   -> REFLECT / RETRY / RETRY_SLOT
 *     L1 mmu_lock shared                          (excludes every TDP reduction)
 *       L1 slot of the L1 gfn: none -> L1_MMIO, in flux -> RETRY_SLOT
 *       compose: level = min(NPT12 leaf, what Keel's TDP MMU would map),
 *                perms = NPT12 ∩ slot, writable under dirty logging only
 *                once the L1 page is marked dirty
 *       nested lock
 *         root generation unchanged?              (else RETRY: L1 flushed, seed 003)
 *         walk the shadow root, link tables, install the leaf (tdp_set_spte)
 *
 * Shadow tables come from a memory cache (mmu_cache.c) filled while only the
 * slot read side is held: the first try runs with an empty cache, and only
 * when it finds a table missing are the locks given up, the cache topped up
 * (one page per level below the root) and the composition redone. Nothing
 * here runs in the TDP MMU's fault path, and nothing here evicts: a failed
 * table allocation returns NOMEM holding nothing (seed 001).
 */
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

struct nfault {
	struct nmmu_root *root;
	u64 gen;
	struct nwalk w;
	const struct memslot *slot;
	int goal;      /* shadow leaf level */
	u32 perms;     /* shadow leaf permissions */
	bool logged;
	struct mmu_page_cache *cache; /* shadow table pages (filled unlocked) */
	bool need_pages; /* out: a table was missing and the cache empty */
	int level;     /* out */
};

static enum nmmu_fault_result shadow_install(struct nmmu_excl *nx, struct mmu_held *h,
					     struct tdp_iter *it, struct nfault *f)
{
	struct nmmu *n = nx->n;
	const struct spte_format *fmt = n->sm->fmt;
	u64 pages = tdp_level_pages(it->level);
	u64 first_l1 = f->w.l1gfn - (f->w.l2gfn - it->gfn);
	hfn_t hfn = slot_gfn_to_hfn(f->slot, first_l1);

	f->level = it->level;
	if (spte_is_leaf(fmt, it->old, it->level)) {
		if (spte_leaf_hfn(fmt, it->old, it->level).v == hfn.v &&
		    !(f->w.access & ~spte_perms(fmt, it->old)))
			return NMMU_FAULT_SPURIOUS;
		/* A stale frame (L1 remapped without a flush yet) or fewer rights:
		 * the new composition replaces it; a frame change is a zap first. */
		if (spte_leaf_hfn(fmt, it->old, it->level).v != hfn.v && tdp_set_spte(h, it, 0))
			return NMMU_FAULT_RETRY;
	}
	if ((f->perms & MMU_ACC_WRITE) && f->logged)
		slot_dirty_mark(f->slot, f->w.l1gfn); /* before the entry becomes writable */
	if (tdp_set_spte(h, it, spte_make_leaf(fmt, hfn, it->level, f->perms)))
		return NMMU_FAULT_RETRY;
	f->root->footprint |= nmmu_region_mask(first_l1, first_l1 + pages);
	return NMMU_FAULT_FIXED;
}

static enum nmmu_fault_result shadow_map(struct nmmu_excl *nx, struct nfault *f)
{
	struct mmu *sm = nx->n->sm;
	const struct spte_format *fmt = sm->fmt;
	struct mmu_held h = excl_held(&nx->x);
	struct tdp_iter it;

	nmmu_assert_locked(nx);
	for_each_tdp_pte(&it, fmt, f->root->base.pt->spt, GFN(f->w.l2gfn), GFN(f->w.l2gfn + 1), 1) {
		struct tdp_page *child;

		if (it.level == f->goal)
			return shadow_install(nx, &h, &it, f);
		if (spte_is_table(fmt, it.old, it.level))
			continue;
		/* A larger leaf from an earlier composition: it goes. */
		if (spte_present(fmt, it.old) && tdp_set_spte(&h, &it, 0))
			return NMMU_FAULT_RETRY;
		child = mmu_page_cache_take(sm, f->cache);
		if (!child) {
			f->need_pages = true;
			return NMMU_FAULT_NOMEM;
		}
		if (tdp_link_new_table(&h, &it, child))
			return NMMU_FAULT_RETRY;
	}
	return NMMU_FAULT_RETRY;
}

/* L1's slot read side held; its mmu_lock shared, then the nested lock. */
static enum nmmu_fault_result compose_and_install(struct nmmu *n, struct nfault *f,
						  struct nmmu_fault_out *out)
{
	struct mmu *l1 = n->l1;
	struct mmu_shared s = mmu_lock_shared(l1);
	enum nmmu_fault_result r = NMMU_FAULT_L1_MMIO;
	struct nmmu_excl nx;

	out->l1_gpa = GPA((f->w.l1gfn << PAGE_SHIFT) | (out->exitinfo2 & (PAGE_SIZE - 1)));
	f->slot = f->w.l1gfn < TDP_MAX_GFN ? slots_find_gfn(slots_deref(l1), f->w.l1gfn) : NULL;
	if (!f->slot)
		goto out;
	r = NMMU_FAULT_RETRY_SLOT;
	if (f->slot->invalid)
		goto out;
	f->perms = f->w.perms & slot_perms(f->slot);
	if (!f->w.dirty)
		f->perms &= ~MMU_ACC_WRITE; /* the first write must set NPT12's D bit */
	r = NMMU_FAULT_L1_PERM;
	if (f->w.access & ~f->perms)
		goto out;
	f->goal = MIN(f->w.level, slot_max_level(l1, f->slot, f->w.l1gfn));
	f->logged = f->slot->d.flags & MEMSLOT_DIRTY_LOG;
	if (f->logged && !(f->w.access & MMU_ACC_WRITE) && !slot_dirty_test(f->slot, f->w.l1gfn))
		f->perms &= ~MMU_ACC_WRITE;
	nx = nmmu_lock(n);
	nmmu_hook(n, NMMU_HOOK_BEFORE_INSTALL, f);
	if (f->root->gen != f->gen)
		r = NMMU_FAULT_RETRY; /* dropped since we walked NPT12 (seed 003) */
	else
		r = shadow_map(&nx, f);
	nmmu_unlock(&nx);
	out->level = f->level;
out:
	mmu_unlock_shared(&s);
	return r;
}

/* Compose and install; when tables are missing, fill the cache holding only
 * the slot read side and do it once more (the root generation, checked again
 * under the nested lock, catches a drop in between). */
static enum nmmu_fault_result fault_with_cache(struct nmmu *n, struct nfault *f,
					       struct nmmu_fault_out *out)
{
	struct mmu_page_cache cache = { 0 };
	enum nmmu_fault_result r;

	f->cache = &cache;
	r = compose_and_install(n, f, out);
	if (r == NMMU_FAULT_NOMEM && f->need_pages &&
	    mmu_page_cache_topup(n->sm, &cache, TDP_ROOT_LEVEL - 1)) {
		f->need_pages = false;
		r = compose_and_install(n, f, out);
	}
	mmu_page_cache_release(n->sm, &cache);
	f->cache = NULL;
	return r;
}

static void count_result(struct nmmu *n, enum nmmu_fault_result r)
{
	static const unsigned off[] = {
		[NMMU_FAULT_FIXED] = offsetof(struct nmmu_counters, fixed),
		[NMMU_FAULT_SPURIOUS] = offsetof(struct nmmu_counters, spurious),
		[NMMU_FAULT_RETRY] = offsetof(struct nmmu_counters, retries),
		[NMMU_FAULT_RETRY_SLOT] = offsetof(struct nmmu_counters, retries_slot),
		[NMMU_FAULT_REFLECT] = offsetof(struct nmmu_counters, reflected),
		[NMMU_FAULT_L1_MMIO] = offsetof(struct nmmu_counters, l1_mmio),
		[NMMU_FAULT_L1_PERM] = offsetof(struct nmmu_counters, l1_mmio),
		[NMMU_FAULT_NOMEM] = offsetof(struct nmmu_counters, nomem),
	};

	nmmu_count(&n->c.shadow_faults);
	nmmu_count((u64 *)((char *)&n->c + off[r]));
}

enum nmmu_fault_result nmmu_page_fault(struct nmmu_vcpu *nv, ngpa_t l2_gpa, u32 access,
				       u64 hw_exitinfo1, struct nmmu_fault_out *out)
{
	struct nmmu *n = nv->n;
	struct nfault f = {
		.root = nv->root,
		.w.l2gfn = ngpa_to_ngfn(l2_gpa).v,
		.w.access = (access & MMU_ACC_ALL) | MMU_ACC_READ,
	};
	enum nmmu_fault_result r = NMMU_FAULT_RETRY;
	u64 kind = hw_exitinfo1 & (NPF_FINAL_GPA | NPF_GPT_WALK);
	int idx;

	*out = (struct nmmu_fault_out){ .exitinfo2 = l2_gpa.v };
	if (!f.root)
		goto done; /* nmmu_root_get() first */
	f.gen = atomic_read(&f.root->gen);
	idx = srcu_read_lock(&n->l1->slots_srcu);
	switch (nested_walk(n, &nv->mode, f.root->key.ncr3, &f.w)) {
	case NWALK_OK:
		nmmu_hook(n, NMMU_HOOK_WALKED, &f);
		r = fault_with_cache(n, &f, out);
		break;
	case NWALK_FAULT:
		out->exitinfo1 = f.w.error_code | (kind ? kind : NPF_FINAL_GPA);
		r = NMMU_FAULT_REFLECT;
		break;
	case NWALK_RETRY:
		r = NMMU_FAULT_RETRY;
		break;
	case NWALK_RETRY_SLOT:
		r = NMMU_FAULT_RETRY_SLOT;
		break;
	}
	srcu_read_unlock(&n->l1->slots_srcu, idx); /* before any retry (seed 004) */
done:
	count_result(n, r);
	return r;
}

enum nmmu_fault_result nmmu_translate(struct nmmu_vcpu *nv, ngpa_t l2_gpa, u32 access, u64 kind,
				      struct nmmu_fault_out *out)
{
	struct nmmu *n = nv->n;
	struct nwalk w = { .l2gfn = ngpa_to_ngfn(l2_gpa).v,
			   .access = (access & MMU_ACC_ALL) | MMU_ACC_READ };
	enum nmmu_fault_result r = NMMU_FAULT_RETRY;
	int idx;

	*out = (struct nmmu_fault_out){ .exitinfo2 = l2_gpa.v };
	if (!nv->root)
		return r;
	idx = srcu_read_lock(&n->l1->slots_srcu);
	switch (nested_walk(n, &nv->mode, nv->root->key.ncr3, &w)) {
	case NWALK_OK:
		out->l1_gpa = GPA((w.l1gfn << PAGE_SHIFT) | (l2_gpa.v & (PAGE_SIZE - 1)));
		out->level = w.level;
		r = NMMU_FAULT_FIXED;
		break;
	case NWALK_FAULT:
		out->exitinfo1 = w.error_code | (kind & (NPF_FINAL_GPA | NPF_GPT_WALK) ?: NPF_FINAL_GPA);
		r = NMMU_FAULT_REFLECT;
		break;
	case NWALK_RETRY:
		break;
	case NWALK_RETRY_SLOT:
		r = NMMU_FAULT_RETRY_SLOT;
		break;
	}
	srcu_read_unlock(&n->l1->slots_srcu, idx);
	return r;
}
