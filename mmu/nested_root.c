// SPDX-License-Identifier: MIT
/*
 * Shadow roots: a bounded cache keyed by (L1 nCR3, L1 ASID, NPT12 mode),
 * shared by the VM's vCPUs, recycled least-recently-used among the roots no
 * vCPU holds. A root's content is dropped (every entry zapped, its generation
 * bumped) when L1 flushes its ASID, when a TDP MMU reduction reaches it, on
 * recycling and on eviction. The generation is checked by the fault path in
 * the same nested-lock hold that installs an entry (seed 003): a fault that
 * walked NPT12 before the drop cannot install what it found.
 */
#include "mmu/nested_internal.h"
#include "mmu/tdp_iter.h"

#define REGION_SHIFT 18 /* 1 GiB of L1 gfns per footprint bit */

u64 nmmu_region_mask(u64 start, u64 end)
{
	u64 lo, hi;

	if (start >= end)
		return 0;
	lo = MIN(start >> REGION_SHIFT, 63);
	hi = MIN((end - 1) >> REGION_SHIFT, 63);
	return (hi == 63 ? ~0ull : BIT(hi + 1) - 1) & ~(BIT(lo) - 1);
}

/*
 * Give the nested lock up (and L1's, when the caller holds it exclusively)
 * if someone waits, but only if the walk's cursor moved since its last yield:
 * two lock drops always have a finished unit of work between them (seed 000).
 */
bool nmmu_cond_resched(struct nmmu_excl *nx, struct mmu_excl *l1x, struct tdp_iter *it)
{
	nmmu_assert_locked(nx);
	if (it->next_gfn == it->yield_gfn)
		return false;
	if (!mmu_excl_need_resched(&nx->x) && !(l1x && mmu_excl_need_resched(l1x)))
		return false;
	if (l1x) {
		mmu_unlock_excl(&nx->x);
		mmu_excl_yield(l1x); /* order: L1's lock first, then ours again */
		nx->x = mmu_lock_excl(nx->n->sm);
	} else {
		mmu_excl_yield(&nx->x);
	}
	it->yielded = true;
	return true;
}

/* One pass of increasing level, like zap.c: leaves first, then the tables
 * the earlier passes emptied. */
static void zap_pass(struct nmmu_excl *nx, struct mmu_excl *l1x, struct nmmu_root *r,
		     int pass_level)
{
	const struct spte_format *f = nx->n->sm->fmt;
	struct mmu_held h = excl_held(&nx->x);
	struct tdp_iter it;

	for_each_tdp_pte(&it, f, r->base.pt->spt, GFN(0), GFN(TDP_MAX_GFN), pass_level) {
retry:
		if (nmmu_cond_resched(nx, l1x, &it))
			continue;
		if (!spte_present(f, it.old))
			continue;
		if (!spte_is_leaf(f, it.old, it.level) && it.level != pass_level)
			continue;
		if (tdp_set_spte(&h, &it, 0))
			goto retry;
	}
}

/*
 * The footprint stays a superset of what the root maps at every moment the
 * lock is free: it is cleared only once the root is found empty. (Clearing
 * it first let a harvest, run while this drop yielded, skip a root that still
 * held writable leaves.) Faults installing while the drop yields add to it.
 */
void nmmu_root_drop(struct nmmu_excl *nx, struct mmu_excl *l1x, struct nmmu_root *r)
{
	nmmu_assert_locked(nx);
	atomic_set(&r->gen, r->gen + 1); /* first: faults in flight retry */
	if (!r->base.pt) {
		r->footprint = 0;
		return;
	}
	for (int level = 1; level <= TDP_ROOT_LEVEL; level++)
		zap_pass(nx, l1x, r, level);
	if (tdp_table_empty(nx->n->sm->fmt, r->base.pt))
		r->footprint = 0;
	nmmu_count(&nx->n->c.root_zaps);
}

static bool key_eq(const struct nmmu_key *a, const struct nmmu_key *b)
{
	return a->ncr3 == b->ncr3 && a->asid == b->asid && a->mode == b->mode;
}

static struct nmmu_root *root_find(struct nmmu_excl *nx, const struct nmmu_key *key)
{
	struct nmmu *n = nx->n;

	for (unsigned i = 0; i < n->nroots; i++)
		if (n->roots[i].used && key_eq(&n->roots[i].key, key))
			return &n->roots[i];
	return NULL;
}

/* A free root, else the least recently used one; never one a vCPU (or a
 * claim in progress) holds. */
static struct nmmu_root *root_victim(struct nmmu_excl *nx)
{
	struct nmmu *n = nx->n;
	struct nmmu_root *best = NULL;

	for (unsigned i = 0; i < n->nroots; i++) {
		struct nmmu_root *r = &n->roots[i];

		if (r->users)
			continue;
		if (!r->used)
			return r;
		if (!best || r->last_use < best->last_use)
			best = r;
	}
	return best;
}

/* Emptying a recycled root may yield the lock: the root is unkeyed and
 * pinned first, so nobody finds or claims it meanwhile. */
static int root_claim(struct nmmu_excl *nx, const struct nmmu_key *key, struct nmmu_root **out)
{
	struct nmmu_root *r = root_victim(nx);

	if (!r)
		return -EBUSY;
	r->users++;
	if (r->used) {
		r->used = false;
		nmmu_count(&nx->n->c.root_recycled);
		nmmu_root_drop(nx, NULL, r);
	}
	if (!r->base.pt)
		r->base.pt = tdp_page_alloc(nx->n->sm);
	r->users--;
	if (!r->base.pt)
		return -ENOMEM;
	/* If the drop yielded, another vCPU may have made this key meanwhile. */
	*out = root_find(nx, key);
	if (*out)
		return 0;
	r->key = *key;
	r->used = true;
	*out = r;
	return 0;
}

static void vcpu_switch_root(struct nmmu_vcpu *nv, struct nmmu_root *r)
{
	if (nv->root)
		nv->root->users--;
	nv->root = r;
	if (r)
		r->users++;
	nv->pending_flush = true;
}

/*
 * The common case without the lock, like the TDP MMU's load_root_fast: the
 * vCPU keeps the root it holds (its key cannot change while held) and
 * nothing was dropped or reduced since its last L2 entry. A drop right after
 * the check is the race the locked path has once it unlocks: faults re-check
 * the generation under the lock, and the drop moved flush_gen, so this
 * vCPU's next entry takes the locked path and flushes.
 */
static bool root_get_fast(struct nmmu_vcpu *nv, const struct nmmu_key *key, hpa_t *root)
{
	struct nmmu_root *r = nv->root;

	if (!r || nv->pending_flush || !atomic_read(&nv->smv->loaded) || !key_eq(&r->key, key) ||
	    atomic_read(&nv->n->sm->flush_gen) != atomic_read(&nv->smv->flush_seen))
		return false;
	nmmu_count(&nv->n->c.root_hits);
	*root = env_virt_to_hpa(r->base.pt);
	return true;
}

static int root_get(struct nmmu_vcpu *nv, gpa_t ncr3, u32 asid, const struct nmmu_npt_mode *mode,
		    hpa_t *root, bool *flush)
{
	struct nmmu *n = nv->n;
	struct nmmu_key key = { ncr3.v & spte_format_npt.addr_mask, asid, 0 };
	struct nmmu_excl nx;
	struct nmmu_root *r;
	u64 gen;
	int err = 0;

	if (!asid || !nmmu_mode_ok(mode))
		return -EINVAL;
	key.mode = nmmu_mode_bits(mode);
	if (root_get_fast(nv, &key, root)) {
		nv->mode = *mode;
		*flush = false;
		return 0;
	}
	nx = nmmu_lock(n);
	r = root_find(&nx, &key);
	if (r) {
		nmmu_count(&n->c.root_hits);
	} else {
		nmmu_count(&n->c.root_misses);
		/* Let go of the old root first: with nroots > vCPUs, a claim
		 * (which pins its victim while emptying it) always finds one. */
		if (nv->root)
			vcpu_switch_root(nv, NULL);
		err = root_claim(&nx, &key, &r);
	}
	if (!err) {
		if (nv->root != r)
			vcpu_switch_root(nv, r);
		r->last_use = ++n->clock;
		nv->mode = *mode;
		gen = atomic_read(&n->sm->flush_gen);
		*flush = nv->pending_flush || gen != atomic_read(&nv->smv->flush_seen) ||
			 !atomic_read(&nv->smv->loaded);
		atomic_set(&nv->smv->flush_seen, gen);
		atomic_set(&nv->smv->loaded, true);
		nv->pending_flush = false;
		*root = env_virt_to_hpa(r->base.pt);
	}
	nmmu_unlock(&nx);
	return err;
}

/*
 * A vCPU with a kick (nmmu_vcpu_set_kick: keel.efi, where L2 runs on other
 * CPUs) enters L2 by the TDP MMU's guest-mode protocol on n->sm
 * (vcpu_mode.c): after getting its root it announces ENTERING, then reads
 * the flush generation; if a drop moved it meanwhile it steps outside and
 * gets the root again (and a flush). A drop that bumps the generation after
 * that sees it ENTERING or IN_GUEST, so the shadow tables' grace period and
 * remote flush wait for it, and kick it, until nmmu_vcpu_exit_guest().
 * Without a kick (one thread per vCPU that calls nothing between entries,
 * the hosted tests) the vCPU stays outside, as mmu_vcpu_load_root's rule for
 * kickless vCPUs.
 */
int nmmu_root_get(struct nmmu_vcpu *nv, gpa_t ncr3, u32 asid, const struct nmmu_npt_mode *mode,
		  hpa_t *root, bool *flush)
{
	struct mmu_vcpu *smv = nv->smv;
	bool owed = false;
	int err;

	if (!smv->kick)
		return root_get(nv, ncr3, asid, mode, root, flush);
	for (;;) {
		err = root_get(nv, ncr3, asid, mode, root, flush);
		if (err)
			return err;
		owed |= *flush;
		atomic_set_sc(&smv->mode, (u32)VCPU_ENTERING_GUEST);
		if (atomic_read_sc(&nv->n->sm->flush_gen) == atomic_read(&smv->flush_seen) &&
		    !nv->pending_flush) {
			atomic_set_sc(&smv->mode, (u32)VCPU_IN_GUEST);
			*flush = owed;
			return 0;
		}
		mmu_vcpu_exit_guest(smv);
	}
}

void nmmu_vcpu_exit_guest(struct nmmu_vcpu *nv)
{
	mmu_vcpu_exit_guest(nv->smv);
}

void nmmu_vcpu_set_kick(struct nmmu_vcpu *nv, mmu_kick_fn kick, void *arg)
{
	mmu_vcpu_set_kick(nv->smv, kick, arg);
}

/* The vCPU left L2: it no longer holds up the shadow tables' grace period
 * (its next L2 entry flushes). */
void nmmu_root_put(struct nmmu_vcpu *nv)
{
	struct nmmu_excl nx = nmmu_lock(nv->n);

	vcpu_switch_root(nv, NULL);
	atomic_set(&nv->smv->loaded, false);
	nmmu_unlock(&nx);
}

static void flush_roots(struct nmmu *n, bool all, u32 asid)
{
	struct nmmu_excl nx = nmmu_lock(n);

	for (unsigned i = 0; i < n->nroots; i++) {
		struct nmmu_root *r = &n->roots[i];

		if (r->used && (all || r->key.asid == asid))
			nmmu_root_drop(&nx, NULL, r);
	}
	nmmu_unlock(&nx);
}

void nmmu_flush_all(struct nmmu *n)
{
	nmmu_count(&n->c.flush_all);
	flush_roots(n, true, 0);
}

void nmmu_flush_asid(struct nmmu *n, u32 asid)
{
	nmmu_count(&n->c.flush_asid);
	flush_roots(n, false, asid);
}

/* INVLPGA names an L2 virtual address; NPT02 is indexed by L2 physical
 * addresses, so the whole ASID goes (a superset of what L1 asked). */
void nmmu_invlpga(struct nmmu *n, u32 asid, gva_t va)
{
	nmmu_count(&n->c.invlpga);
	flush_roots(n, false, asid);
}

u64 nmmu_evict(struct nmmu *n)
{
	struct nmmu_excl nx = nmmu_lock(n);
	u64 before = MMU_GAUGE(n->sm, tables_in_use), after;

	for (unsigned i = 0; i < n->nroots; i++)
		if (n->roots[i].used)
			nmmu_root_drop(&nx, NULL, &n->roots[i]);
	reclaim_run(&nx.x);
	after = MMU_GAUGE(n->sm, tables_in_use);
	nmmu_count(&n->c.evictions);
	nmmu_unlock(&nx);
	return before - after;
}
