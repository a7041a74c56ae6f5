// SPDX-License-Identifier: MIT
/*
 * Roots and vCPUs.
 *
 * Every root has a metadata object (struct mmu_root) carrying the root
 * generation it was created in; there are no special roots. A root is valid
 * while its generation equals mmu->root_gen. Invalidation bumps root_gen
 * under the exclusive lock, which obsoletes every root in one step, and a
 * fault re-checks its root's validity under the same shared-lock hold in
 * which it installs an entry, so nothing is ever installed into (or linked
 * below) an obsolete root (seed 003).
 */
#include "mmu/mmu_internal.h"

bool root_is_valid(const struct mmu *mmu, const struct mmu_root *root)
{
	assert_lock_held(&mmu->lock);
	return mmu_gen_eq(root->gen, mmu->root_gen);
}

/*
 * Without the MMU lock: an advisory answer, for load_root_fast() only. The
 * root may be invalidated right after; everything that installs entries
 * re-checks with root_is_valid() under the lock (seed 003).
 */
static bool root_seems_valid(const struct mmu *mmu, const struct mmu_root *root)
{
	return root->gen.v == atomic_read(&mmu->root_gen.v);
}

static bool root_get_not_zero(struct mmu_root *root)
{
	u32 n = atomic_read(&root->refcount);

	while (n)
		if (atomic_cmpxchg(&root->refcount, &n, n + 1))
			return true;
	return false;
}

static struct mmu_root *root_alloc(struct mmu *mmu)
{
	struct mmu_root *root = env_zalloc(sizeof(*root));

	if (!root)
		return NULL;
	root->pt = tdp_page_alloc(mmu);
	if (!root->pt) {
		env_free(root);
		return NULL;
	}
	root->gen = mmu->root_gen;
	root->refcount = 2; /* the vCPU's and the MMU's own */
	return root;
}

/* A reference to the valid root, creating it if needed. Shared lock held:
 * two vCPUs may get here at once, so the search and the insertion happen
 * under roots_lock. */
static struct mmu_root *root_get_valid(struct mmu_shared *s)
{
	struct mmu *mmu = s->mmu;
	struct mmu_root *root;

	mmu_assert_shared(s);
	mmu_spin_lock(&mmu->roots_lock);
	for (root = mmu->roots; root; root = root->next)
		if (root_is_valid(mmu, root) && root_get_not_zero(root))
			break;
	if (!root) {
		root = root_alloc(mmu);
		if (root) {
			root->next = mmu->roots;
			mmu->roots = root;
		}
	}
	mmu_spin_unlock(&mmu->roots_lock);
	return root;
}

static void root_unlink(struct mmu *mmu, struct mmu_root *root)
{
	struct mmu_root **pp;

	mmu_spin_lock(&mmu->roots_lock);
	for (pp = &mmu->roots; *pp != root; pp = &(*pp)->next)
		MMU_ASSERT(*pp);
	*pp = root->next;
	mmu_spin_unlock(&mmu->roots_lock);
}

/* Drop a reference; the last one frees the root. Only an obsolete root that
 * has been zapped can lose its last reference (the MMU keeps one until then). */
void root_put(struct mmu *mmu, struct mmu_root *root)
{
	u32 left = atomic_sub(&root->refcount, 1);

	assert_lock_held(&mmu->lock);
	if (MMU_BUG_ON(mmu, left == ~0u) || left)
		return; /* (an underflow: the root is leaked, never freed twice) */
	if (MMU_BUG_ON(mmu, !root->mmu_ref_dropped) ||
	    MMU_BUG_ON(mmu, !tdp_table_empty(mmu->fmt, root->pt)))
		return; /* freeing a root still mapping memory: leak it instead */
	root_unlink(mmu, root);
	reclaim_retire(mmu, root->pt);
	env_free(root);
}

/* Bump the generation: every existing root is obsolete from now on. */
/*
 * Run fn on every valid root for [start, end). fn may yield the lock: the
 * reference taken here keeps its root alive, and the next root is read only
 * after fn returns. A root created while fn yields did not exist when the
 * caller started, so it holds nothing the caller was asked to change.
 */
void roots_for_each_valid(struct mmu_excl *x, root_range_fn fn, u64 start, u64 end)
{
	struct mmu *mmu = x->mmu;
	struct mmu_root *root = mmu->roots, *next;

	mmu_assert_excl(x);
	while (root) {
		if (!root_is_valid(mmu, root)) {
			root = root->next;
			continue;
		}
		atomic_add(&root->refcount, 1);
		fn(x, root, start, end);
		next = root->next;
		root_put(mmu, root);
		root = next;
	}
}

/*
 * The shared-lock version (the eager split): other vCPUs may add roots
 * meanwhile, so the list is read under roots_lock, and the reference held
 * on the current root keeps it (and its place in the list) alive while fn
 * runs, even if fn drops the lock.
 */
/* From 'root' on (NULL: the head), the first valid root, with a reference. */
static struct mmu_root *next_valid_get(struct mmu *mmu, struct mmu_root *after)
{
	struct mmu_root *root;

	mmu_spin_lock(&mmu->roots_lock);
	for (root = after ? after->next : mmu->roots; root; root = root->next)
		if (root_is_valid(mmu, root) && root_get_not_zero(root))
			break;
	mmu_spin_unlock(&mmu->roots_lock);
	return root;
}

void roots_for_each_valid_shared(struct mmu_shared *s, root_shared_fn fn, void *ctx)
{
	struct mmu *mmu = s->mmu;
	struct mmu_root *root, *next;

	mmu_assert_shared(s);
	for (root = next_valid_get(mmu, NULL); root; root = next) {
		fn(s, root, ctx);
		next = next_valid_get(mmu, root);
		root_put(mmu, root);
	}
}

static void roots_invalidate(struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;

	mmu_assert_excl(x);
	atomic_set(&mmu->root_gen.v, mmu->root_gen.v + 1); /* load_root_fast reads it */
	mmu_count(&mmu->c.root_invalidations);
	mmu_request_tlb_flush(mmu);
	env_hook(HOOK_ROOTS_INVALIDATED, mmu);
}

/*
 * Empty every obsolete root and drop the MMU's reference to it. Zapping
 * yields the lock; a root we hold a reference to stays on the list, so its
 * 'next' is valid again once we hold the lock. Another thread may be zapping
 * the same root (each unit runs under the exclusive lock, so that is safe);
 * whoever finishes first drops the MMU's reference.
 */
void mmu_zap_obsolete_roots(struct mmu_excl *x)
{
	struct mmu *mmu = x->mmu;
	struct mmu_root *root = mmu->roots, *next;

	mmu_assert_excl(x);
	while (root) {
		if (root_is_valid(mmu, root)) {
			root = root->next;
			continue;
		}
		atomic_add(&root->refcount, 1);
		zap_root_range(x, root, 0, TDP_MAX_GFN);
		if (!root->mmu_ref_dropped) {
			root->mmu_ref_dropped = true;
			root_put(mmu, root);
		}
		next = root->next;
		root_put(mmu, root);
		root = next;
	}
}

/* KVM's "fast zap": obsolete all roots at once, then empty them. */
void mmu_zap_all_fast(struct mmu_excl *x)
{
	mmu_assert_excl(x);
	roots_invalidate(x);
	mmu_zap_obsolete_roots(x);
	nmmu_l1_zap(x, 0, TDP_MAX_GFN); /* and every shadow table built on them */
}

void mmu_invalidate_all_roots(struct mmu *mmu)
{
	struct mmu_excl x = mmu_lock_excl(mmu);

	mmu_zap_all_fast(&x);
	mmu_unlock_excl(&x);
}

struct mmu_vcpu *mmu_vcpu_create(struct mmu *mmu, unsigned vcpu_id)
{
	struct mmu_vcpu *mv = mmu_zalloc_aligned(sizeof(*mv)); /* own cache lines */
	struct mmu_excl x;

	if (!mv)
		return NULL;
	mv->mmu = mmu;
	mv->id = vcpu_id;
	x = mmu_lock_excl(mmu);
	mv->next = mmu->vcpus;
	mmu->vcpus = mv;
	mmu_unlock_excl(&x);
	return mv;
}

void mmu_vcpu_destroy(struct mmu_vcpu *mv)
{
	struct mmu *mmu;
	struct mmu_vcpu **pp;
	struct mmu_excl x;

	if (!mv)
		return;
	mmu = mv->mmu;
	x = mmu_lock_excl(mmu);
	for (pp = &mmu->vcpus; *pp != mv; pp = &(*pp)->next)
		MMU_ASSERT(*pp);
	*pp = mv->next;
	mmu_vcpu_stats_fold(&x, mv);
	if (mv->root)
		root_put(mmu, mv->root);
	mmu_unlock_excl(&x);
	mmu_free_aligned(mv);
}

/*
 * The vCPU's side of a guest entry, in two halves that vcpu_mode.c strings
 * together around the vCPU's mode (the entry protocol is there).
 *
 * load_root_fast(), without the lock: the vCPU keeps its root and needs
 * no flush. It holds when it has a root that still looks valid, no flush is
 * pending, and nothing asked for a flush since its last entry; that is the
 * answer the locked path would give. A root invalidated just after the check
 * is the race the locked path has too, once it unlocks: the fault path
 * re-checks validity under the lock before it installs anything, and the
 * invalidation bumped flush_gen, so the remote flush that follows waits for
 * (or kicks) this vCPU, and reclaim keeps the zapped tables until it flushed.
 */
bool load_root_fast(struct mmu_vcpu *mv)
{
	struct mmu *mmu = mv->mmu;

	return mv->root && !mv->pending_flush && atomic_read(&mv->loaded) &&
	       atomic_read_sc(&mmu->flush_gen) == atomic_read(&mv->flush_seen) &&
	       root_seems_valid(mmu, mv->root);
}

/*
 * Under the shared lock: drop an obsolete root, take the valid one, record
 * the flush generation this entry covers. *need_flush is set when the vCPU
 * switched roots, enters for the first time, or flush_gen moved since its
 * last entry. Recording flush_seen is what lets reclaim.c free tables this
 * vCPU's TLB may have cached and the remote flush stop waiting for it.
 */
int vcpu_root_reload(struct mmu_vcpu *mv, bool *need_flush)
{
	struct mmu *mmu = mv->mmu;
	struct mmu_shared s;
	struct mmu_excl x;
	u64 gen;

	for (int attempt = 0;; attempt++) {
		s = mmu_lock_shared(mmu);
		if (mv->root && !root_is_valid(mmu, mv->root)) {
			/* Bound to flush before its next entry (new root). */
			atomic_set(&mv->loaded, false);
			root_put(mmu, mv->root);
			mv->root = NULL;
		}
		if (!mv->root) {
			mv->root = root_get_valid(&s);
			*need_flush = true;
		}
		if (mv->root)
			break;
		mmu_unlock_shared(&s);
		if (attempt)
			return -ENOMEM;
		/* The pool may be full of tables an eviction retired: an
		 * exclusive section frees what is past its grace period
		 * (mmu_unlock_excl; this vCPU is outside the guest and holds
		 * nothing up), then try again. */
		x = mmu_lock_excl(mmu);
		mmu_unlock_excl(&x);
	}
	gen = atomic_read(&mmu->flush_gen);
	if (gen != atomic_read(&mv->flush_seen) || !atomic_read(&mv->loaded))
		*need_flush = true;
	atomic_set(&mv->flush_seen, gen);
	atomic_set(&mv->loaded, true);
	mmu_unlock_shared(&s);
	mv->pending_flush = false;
	return 0;
}
