// SPDX-License-Identifier: MIT
/* The nested MMU's lifetime, lock token, vCPUs and statistics. */
#include "mmu/nested_internal.h"

const char *nmmu_fault_result_name(enum nmmu_fault_result r)
{
	static const char *const names[] = {
		[NMMU_FAULT_FIXED] = "fixed",       [NMMU_FAULT_SPURIOUS] = "spurious",
		[NMMU_FAULT_RETRY] = "retry",       [NMMU_FAULT_RETRY_SLOT] = "retry-slot",
		[NMMU_FAULT_REFLECT] = "reflect",   [NMMU_FAULT_L1_MMIO] = "l1-mmio",
		[NMMU_FAULT_L1_PERM] = "l1-perm",   [NMMU_FAULT_NOMEM] = "nomem",
	};

	if ((unsigned)r < ARRAY_SIZE(names) && names[r])
		return names[r];
	return "?";
}

struct nmmu_excl nmmu_lock(struct nmmu *n)
{
	return (struct nmmu_excl){ n, mmu_lock_excl(n->sm) };
}

void nmmu_unlock(struct nmmu_excl *nx)
{
	nmmu_assert_locked(nx);
	mmu_unlock_excl(&nx->x); /* also frees shadow tables past their grace period */
}

void nmmu_assert_locked(const struct nmmu_excl *nx)
{
	MMU_ASSERT(nx->x.mmu == nx->n->sm);
	mmu_assert_excl(&nx->x);
}

struct nmmu *nmmu_create(struct mmu *l1, unsigned max_roots)
{
	struct nmmu *n;
	struct mmu_excl x;

	if (!l1 || max_roots < 2)
		return NULL;
	n = env_zalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->l1 = l1;
	n->nroots = max_roots;
	n->roots = env_zalloc(max_roots * sizeof(*n->roots));
	n->sm = mmu_create(l1->fmt);
	if (!n->roots || !n->sm) {
		mmu_destroy(n->sm);
		env_free(n->roots);
		env_free(n);
		return NULL;
	}
	mmu_rwlock_init(&n->sm->lock, "nested_lock", LOCK_ORDER_NESTED);
	x = mmu_lock_excl(l1);
	if (l1->nested) {
		mmu_unlock_excl(&x);
		nmmu_destroy(n);
		return NULL;
	}
	l1->nested = n;
	mmu_unlock_excl(&x);
	return n;
}

void nmmu_destroy(struct nmmu *n)
{
	struct mmu_excl x;
	struct nmmu_excl nx;

	if (!n)
		return;
	MMU_ASSERT(!n->nvcpus);
	x = mmu_lock_excl(n->l1);
	if (n->l1->nested == n)
		n->l1->nested = NULL;
	mmu_unlock_excl(&x);
	nx = nmmu_lock(n);
	for (unsigned i = 0; i < n->nroots; i++) {
		struct nmmu_root *r = &n->roots[i];

		if (!r->base.pt)
			continue;
		nmmu_root_drop(&nx, NULL, r);
		reclaim_retire(n->sm, r->base.pt);
		r->base.pt = NULL;
	}
	nmmu_unlock(&nx);
	mmu_destroy(n->sm); /* frees what is still in its grace period */
	env_free(n->roots);
	env_free(n);
}

struct nmmu_vcpu *nmmu_vcpu_create(struct nmmu *n, unsigned vcpu_id)
{
	struct nmmu_vcpu *nv = env_zalloc(sizeof(*nv));
	struct nmmu_excl nx;
	bool room;

	if (!nv)
		return NULL;
	nv->n = n;
	nv->smv = mmu_vcpu_create(n->sm, vcpu_id);
	if (!nv->smv) {
		env_free(nv);
		return NULL;
	}
	nx = nmmu_lock(n);
	room = n->nvcpus + 1 < n->nroots; /* one root each plus one to recycle */
	if (room)
		n->nvcpus++;
	nmmu_unlock(&nx);
	if (!room) {
		mmu_vcpu_destroy(nv->smv);
		env_free(nv);
		return NULL;
	}
	return nv;
}

void nmmu_vcpu_destroy(struct nmmu_vcpu *nv)
{
	struct nmmu_excl nx;

	if (!nv)
		return;
	nmmu_root_put(nv);
	nx = nmmu_lock(nv->n);
	nv->n->nvcpus--;
	nmmu_unlock(&nx);
	mmu_vcpu_destroy(nv->smv);
	env_free(nv);
}

void nmmu_set_hook(struct nmmu *n, nmmu_hook_fn fn, void *ctx)
{
	n->hook_ctx = ctx;
	n->hook = fn;
}

void nmmu_get_stats(struct nmmu *n, struct nmmu_stats *out)
{
	const struct nmmu_counters *c = &n->c;
	struct mmu_stats s;

	mmu_get_stats(n->sm, &s);
	*out = (struct nmmu_stats){
		.shadow_faults = atomic_read(&c->shadow_faults),
		.fixed = atomic_read(&c->fixed),
		.spurious = atomic_read(&c->spurious),
		.reflected = atomic_read(&c->reflected),
		.l1_mmio = atomic_read(&c->l1_mmio),
		.retries = atomic_read(&c->retries),
		.retries_slot = atomic_read(&c->retries_slot),
		.nomem = atomic_read(&c->nomem),
		.root_hits = atomic_read(&c->root_hits),
		.root_misses = atomic_read(&c->root_misses),
		.root_recycled = atomic_read(&c->root_recycled),
		.flush_all = atomic_read(&c->flush_all),
		.flush_asid = atomic_read(&c->flush_asid),
		.invlpga = atomic_read(&c->invlpga),
		.root_zaps = atomic_read(&c->root_zaps),
		.l1_reductions = atomic_read(&c->l1_reductions),
		.wrprot_leaves = atomic_read(&c->wrprot_leaves),
		.splits = atomic_read(&c->splits),
		.ad_updates = atomic_read(&c->ad_updates),
		.tables_in_use = s.tables_in_use,
		.maps_4k = s.maps_4k,
		.maps_2m = s.maps_2m,
		.maps_1g = s.maps_1g,
		.evictions = atomic_read(&c->evictions),
	};
}
