// SPDX-License-Identifier: MIT
/*
 * The TDP fault path. It runs on any number of vCPUs at once:
 *
 *   slot read side            (srcu: the slot snapshot stays alive)
 *     look up the slot; in flux -> MMU_FAULT_RETRY_SLOT, leave at once
 *     MMU lock, shared
 *       root still valid?     (else MMU_FAULT_RETRY: the vCPU reloads)
 *       walk down, linking new tables / splitting a huge leaf with cmpxchg
 *       root still valid? install the leaf with cmpxchg   (same lock hold)
 *
 * The only unlinking on this path is designed for the shared lock: a table
 * replaced by a huge leaf is frozen entry by entry and handed to the
 * deferred-free list. It never walks or edits a shared list other than that
 * (under its own spinlock), never evicts or zaps to make room, and has no
 * access to an exclusive-lock token (seed 001).
 */
#include "mmu/mmu_internal.h"
#include "mmu/tdp_iter.h"

#define PREFAULT_MAX_RETRIES 64

struct fault {
	u64 gfn;
	u32 access;
	const struct memslot *slot;
	int goal_level;   /* largest leaf the slot allows here */
	u32 perms;        /* permissions of the leaf to install */
	int mapped_level; /* out: level of the leaf that maps gfn */
};

const char *mmu_fault_result_name(enum mmu_fault_result r)
{
	static const char *const names[] = {
		[MMU_FAULT_FIXED] = "fixed",         [MMU_FAULT_SPURIOUS] = "spurious",
		[MMU_FAULT_RETRY] = "retry",         [MMU_FAULT_RETRY_SLOT] = "retry-slot",
		[MMU_FAULT_NO_SLOT] = "no-slot",     [MMU_FAULT_PERM] = "perm",
		[MMU_FAULT_NOMEM] = "nomem",         [MMU_FAULT_DEAD] = "dead",
	};

	if ((unsigned)r < ARRAY_SIZE(names) && names[r])
		return names[r];
	return "?";
}

static enum mmu_fault_result retry_race(struct mmu *mmu)
{
	mmu_shard_count(mmu, retries_race);
	return MMU_FAULT_RETRY;
}

static enum mmu_fault_result retry_obsolete(struct mmu *mmu)
{
	mmu_shard_count(mmu, retries_obsolete);
	return MMU_FAULT_RETRY;
}

/* Slot read side held: decide what may be mapped. */
static enum mmu_fault_result fault_check_slot(struct mmu *mmu, struct fault *f)
{
	MMU_ASSERT(srcu_read_held(&mmu->slots_srcu));
	f->slot = slots_find_gfn(slots_deref(mmu), f->gfn);
	if (!f->slot)
		return MMU_FAULT_NO_SLOT;
	env_hook(HOOK_FAULT_SLOT_FOUND, f);
	if (f->slot->invalid)
		return MMU_FAULT_RETRY_SLOT;
	f->perms = slot_perms(f->slot);
	if (f->access & ~f->perms)
		return MMU_FAULT_PERM;
	f->goal_level = slot_max_level(mmu, f->slot, f->gfn);
	/* Dirty logging: a page becomes writable only once it is marked dirty. */
	if ((f->slot->d.flags & MEMSLOT_DIRTY_LOG) && !(f->access & MMU_ACC_WRITE) &&
	    !slot_dirty_test(f->slot, f->gfn))
		f->perms &= ~MMU_ACC_WRITE;
	return MMU_FAULT_FIXED;
}

/*
 * A table sits where the slot now allows a huge leaf (e.g. after a zap left
 * part of it, or after dirty logging ended): replace it in place. This is a
 * multi-step change under the shared lock, so the entry is frozen first:
 * freezing unlinks the table (its entries are frozen in turn, so walkers
 * still inside cannot install into it; it is freed after the grace period)
 * and requests the TLB flush; then the leaf is stored over FROZEN.
 */
static int fault_replace_table(struct mmu_held *h, struct tdp_iter *it, spte_t leaf)
{
	int r = tdp_set_spte(h, it, h->mmu->fmt->frozen);

	if (!r)
		tdp_unfreeze(h, it, leaf);
	return r;
}

static enum mmu_fault_result fault_install(struct mmu_shared *s, struct mmu_root *root,
					   struct tdp_iter *it, struct fault *f)
{
	struct mmu *mmu = s->mmu;
	struct mmu_held h = shared_held(s);
	u64 first = ALIGN_DOWN(f->gfn, tdp_level_pages(it->level));
	u32 perms = f->perms;
	spte_t leaf;
	int r;

	mmu_assert_shared(s);
	env_hook(HOOK_FAULT_BEFORE_INSTALL, f);
	/* Checked in the same shared-lock hold as the install below; an
	 * invalidation needs the lock exclusively (seed 003). */
	if (!root_is_valid(mmu, root))
		return retry_obsolete(mmu);
	f->mapped_level = it->level;
	if (spte_is_leaf(mmu->fmt, it->old, it->level)) {
		u32 have = spte_perms(mmu->fmt, it->old);

		if (!(f->access & ~have))
			return MMU_FAULT_SPURIOUS;
		perms |= have;
	}
	if ((perms & MMU_ACC_WRITE) && (f->slot->d.flags & MEMSLOT_DIRTY_LOG))
		slot_dirty_mark(f->slot, f->gfn); /* before the entry becomes writable */
	leaf = spte_make_leaf(mmu->fmt, slot_gfn_to_hfn(f->slot, first), it->level, perms);
	if (spte_is_table(mmu->fmt, it->old, it->level))
		r = fault_replace_table(&h, it, leaf);
	else
		r = tdp_set_spte(&h, it, leaf);
	return r ? retry_race(mmu) : MMU_FAULT_FIXED;
}

/* A non-present entry above the goal: link a new, empty table. */
static int fault_link_new_table(struct mmu_held *h, struct tdp_iter *it)
{
	mmu_assert_held(h);
	return tdp_link_new_table(h, it, NULL);
}

/* A huge leaf above the goal (dirty logging began): replace it by a full
 * table of smaller leaves, read-only if the slot is dirty-logged. */
static int fault_split_huge(struct mmu_held *h, struct tdp_iter *it, const struct fault *f)
{
	bool logged = f->slot->d.flags & MEMSLOT_DIRTY_LOG;
	u32 mask = logged ? MMU_ACC_ALL & ~MMU_ACC_WRITE : MMU_ACC_ALL;

	mmu_assert_held(h);
	return tdp_split_huge(h, it, mask, NULL);
}

static enum mmu_fault_result tdp_map(struct mmu_shared *s, struct mmu_root *root,
				     struct fault *f)
{
	struct mmu *mmu = s->mmu;
	const struct spte_format *fmt = mmu->fmt;
	struct mmu_held h = shared_held(s);
	struct tdp_iter it;
	int r;

	mmu_assert_shared(s);
	for_each_tdp_pte(&it, fmt, root->pt->spt, GFN(f->gfn), GFN(f->gfn + 1), 1) {
		if (spte_frozen(fmt, it.old))
			return retry_race(mmu);
		if (it.level == f->goal_level)
			return fault_install(s, root, &it, f);
		if (spte_is_table(fmt, it.old, it.level))
			continue;
		if (!root_is_valid(mmu, root))
			return retry_obsolete(mmu);
		if (spte_present(fmt, it.old))
			r = fault_split_huge(&h, &it, f);
		else
			r = fault_link_new_table(&h, &it);
		if (r == -ENOMEM)
			return MMU_FAULT_NOMEM;
		if (r)
			return retry_race(mmu);
	}
	return retry_race(mmu);
}

static enum mmu_fault_result fault_map(struct mmu_vcpu *mv, struct fault *f)
{
	struct mmu_shared s = mmu_lock_shared(mv->mmu);
	enum mmu_fault_result r;

	if (!mv->root || !root_is_valid(mv->mmu, mv->root))
		r = retry_obsolete(mv->mmu);
	else
		r = tdp_map(&s, mv->root, f);
	mmu_unlock_shared(&s);
	return r;
}

/* Per vCPU, as KVM's pf_fixed: no line shared with other vCPUs' faults. */
static void count_result(struct mmu_vcpu *mv, enum mmu_fault_result r)
{
	if (r == MMU_FAULT_FIXED)
		mmu_vcpu_count(&mv->stats.faults_fixed);
	else if (r == MMU_FAULT_SPURIOUS)
		mmu_vcpu_count(&mv->stats.faults_spurious);
	else if (r == MMU_FAULT_RETRY_SLOT)
		mmu_vcpu_count(&mv->stats.retries_slot);
	else if (r == MMU_FAULT_NO_SLOT)
		mmu_vcpu_count(&mv->stats.no_slot);
}

static enum mmu_fault_result fault_gfn(struct mmu_vcpu *mv, struct fault *f)
{
	struct mmu *mmu = mv->mmu;
	enum mmu_fault_result r = MMU_FAULT_NO_SLOT;
	int idx;

	if (mmu_is_dead(mmu))
		return MMU_FAULT_DEAD;
	if (f->gfn < TDP_MAX_GFN) {
		idx = srcu_read_lock(&mmu->slots_srcu);
		r = fault_check_slot(mmu, f);
		if (r == MMU_FAULT_FIXED)
			r = fault_map(mv, f);
		srcu_read_unlock(&mmu->slots_srcu, idx);
	}
	count_result(mv, r);
	return r;
}

enum mmu_fault_result mmu_page_fault(struct mmu_vcpu *mv, gpa_t gpa, u32 access)
{
	struct fault f = {
		.gfn = gpa_to_gfn(gpa).v,
		.access = (access & (MMU_ACC_READ | MMU_ACC_WRITE | MMU_ACC_EXEC)) | MMU_ACC_READ,
	};

	return fault_gfn(mv, &f);
}

/* Reload the root inside prefault; the flush it asks for is owed to the
 * next real guest entry. */
static int prefault_reload(struct mmu_vcpu *mv)
{
	return vcpu_reload_owed(mv); /* vcpu_mode.c: keeps the vCPU's mode */
}

static int prefault_errno(enum mmu_fault_result r)
{
	switch (r) {
	case MMU_FAULT_RETRY_SLOT:
		env_hook(HOOK_PREFAULT_RETRY, NULL);
		return -EAGAIN; /* the slot writer waits for us: leave (seed 004) */
	case MMU_FAULT_NO_SLOT:
		return -ENOENT;
	case MMU_FAULT_NOMEM:
		return -ENOMEM;
	case MMU_FAULT_DEAD:
		return -EIO;
	default:
		return -EFAULT;
	}
}

/*
 * Each step takes and leaves the slot read side by itself, so prefault never
 * holds it while anything retries. Retries for races or an obsolete root
 * reload the root and are bounded.
 */
int mmu_prefault(struct mmu_vcpu *mv, gpa_t gpa, u64 len)
{
	u64 gfn = gpa_to_gfn(gpa).v, end, retries = 0;

	if (!len)
		return 0;
	if (gpa.v + len < gpa.v)
		return -EINVAL;
	/* From the last byte: ALIGN_UP(gpa + len) wraps to 0 in the top page
	 * of the address space, which would end the loop before it began. */
	end = ((gpa.v + len - 1) >> PAGE_SHIFT) + 1;
	while (gfn < end) {
		struct fault f = { .gfn = gfn, .access = MMU_ACC_READ };
		enum mmu_fault_result r = fault_gfn(mv, &f);

		if (r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS) {
			gfn = ALIGN_DOWN(gfn, tdp_level_pages(f.mapped_level)) +
			      tdp_level_pages(f.mapped_level);
			retries = 0;
			env_hook(HOOK_PREFAULT_STEP, &gfn);
		} else if (r == MMU_FAULT_RETRY) {
			if (++retries > PREFAULT_MAX_RETRIES)
				return -EAGAIN;
			if (prefault_reload(mv))
				return -ENOMEM;
		} else {
			return prefault_errno(r);
		}
	}
	return 0;
}
