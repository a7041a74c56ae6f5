// SPDX-License-Identifier: MIT
/*
 * Memslots. Readers (faults) see an immutable snapshot (struct memslots)
 * through the slot read side (srcu.c). A writer, holding slots_lock, builds
 * a new snapshot, publishes it, and waits for readers of the old one before
 * freeing anything they might use.
 *
 * Deleting or moving a slot goes through an INVALID phase: publish a copy of
 * the slot marked invalid (faults on it return MMU_FAULT_RETRY_SLOT and leave
 * the read side), wait for readers, obsolete and empty every root, then
 * publish the final layout. Every object a writer will need is allocated
 * before the first publish, so a failing allocation changes nothing.
 */
#include "mmu/mmu_internal.h"

#define SLOT_VALID_FLAGS (MEMSLOT_READONLY | MEMSLOT_DIRTY_LOG)
#define HFN_LIMIT (1ull << (52 - PAGE_SHIFT))

const struct memslots *slots_deref(const struct mmu *mmu)
{
	MMU_ASSERT(srcu_read_held(&mmu->slots_srcu) || lock_held_mode(&mmu->slots_lock));
	return atomic_read(&mmu->slots);
}

static bool slot_contains(const struct memslot *slot, u64 gfn)
{
	return gfn >= slot->d.base_gfn.v && gfn - slot->d.base_gfn.v < slot->d.npages;
}

const struct memslot *slots_find_gfn(const struct memslots *s, u64 gfn)
{
	for (unsigned i = 0; i < MMU_MAX_SLOTS; i++)
		if (s->by_id[i] && slot_contains(s->by_id[i], gfn))
			return s->by_id[i];
	return NULL;
}

hfn_t slot_gfn_to_hfn(const struct memslot *slot, u64 gfn)
{
	return HFN(slot->d.backing.v + (gfn - slot->d.base_gfn.v));
}

u32 slot_perms(const struct memslot *slot)
{
	u32 p = MMU_ACC_READ | MMU_ACC_EXEC;

	if (!(slot->d.flags & MEMSLOT_READONLY))
		p |= MMU_ACC_WRITE;
	return p;
}

/*
 * The largest leaf for gfn: its aligned range lies inside the slot, the
 * guest and host frames are congruent modulo the size, and the slot is not
 * being dirty-logged (which tracks 4 KiB pages).
 */
int slot_max_level(const struct mmu *mmu, const struct memslot *slot, u64 gfn)
{
	u64 base = slot->d.base_gfn.v, end = base + slot->d.npages;

	if (slot->d.flags & MEMSLOT_DIRTY_LOG)
		return 1;
	/* Read without the MMU lock (faults decide before they lock): a
	 * change of max_level invalidates every root under the exclusive lock,
	 * so a fault that read the old value fails its validity check. */
	for (int level = atomic_read(&mmu->max_level); level > 1; level--) {
		u64 pages = tdp_level_pages(level), first = ALIGN_DOWN(gfn, pages);

		if (!spte_level_can_leaf(mmu->fmt, level))
			continue;
		if (first >= base && first + pages <= end &&
		    IS_ALIGNED(slot->d.backing.v - base, pages))
			return level;
	}
	return 1;
}

bool slot_dirty_test(const struct memslot *slot, u64 gfn)
{
	u64 i = gfn - slot->d.base_gfn.v;

	return atomic_read(&slot->dirty_bitmap[i / 64]) & BIT(i % 64);
}

void slot_dirty_mark(const struct memslot *slot, u64 gfn)
{
	u64 i = gfn - slot->d.base_gfn.v;

	if (!(atomic_read(&slot->dirty_bitmap[i / 64]) & BIT(i % 64)))
		atomic_fetch_or(&slot->dirty_bitmap[i / 64], BIT(i % 64));
}

static u64 bitmap_words(u64 npages)
{
	return (npages + 63) / 64;
}

static bool desc_valid(const struct memslot_desc *d)
{
	return d->id < MMU_MAX_SLOTS && d->npages && d->npages <= TDP_MAX_GFN &&
	       d->base_gfn.v <= TDP_MAX_GFN - d->npages && d->backing.v < HFN_LIMIT &&
	       d->npages <= HFN_LIMIT - d->backing.v && !(d->flags & ~SLOT_VALID_FLAGS);
}

static bool overlaps_other(const struct memslots *s, u16 self, u64 base, u64 npages)
{
	for (unsigned i = 0; i < MMU_MAX_SLOTS; i++) {
		const struct memslot *o = s->by_id[i];

		if (o && i != self && base < o->d.base_gfn.v + o->d.npages &&
		    o->d.base_gfn.v < base + npages)
			return true;
	}
	return false;
}

static struct memslot *slot_clone(const struct memslot *from)
{
	struct memslot *s = env_zalloc(sizeof(*s));

	if (s && from)
		*s = *from;
	return s;
}

static struct memslots *slots_clone(const struct memslots *from)
{
	struct memslots *s = env_zalloc(sizeof(*s));

	if (s) {
		*s = *from;
		s->gen.v++;
	}
	return s;
}

/* Publish 'next' and wait until nobody can see the snapshot it replaces. */
static void slots_publish(struct mmu *mmu, struct memslots *next)
{
	struct memslots *old = mmu->slots;

	assert_lock_held(&mmu->slots_lock);
	atomic_set_sc(&mmu->slots, next);
	env_hook(HOOK_SLOT_SYNC_BEGIN, mmu);
	srcu_synchronize(&mmu->slots_srcu);
	env_hook(HOOK_SLOT_SYNC_END, mmu);
	env_free(old);
}

int mmu_slot_add(struct mmu *mmu, const struct memslot_desc *d)
{
	struct memslot *slot;
	struct memslots *next;
	int r = 0;

	if (!desc_valid(d))
		return -EINVAL;
	slot = slot_clone(NULL);
	if (!slot)
		return -ENOMEM;
	slot->d = *d;
	if (d->flags & MEMSLOT_DIRTY_LOG) {
		slot->dirty_bitmap = env_zalloc(bitmap_words(d->npages) * sizeof(u64));
		if (!slot->dirty_bitmap) {
			env_free(slot);
			return -ENOMEM;
		}
	}
	mmu_spin_lock(&mmu->slots_lock);
	if (mmu->slots->by_id[d->id] ||
	    overlaps_other(mmu->slots, d->id, d->base_gfn.v, d->npages))
		r = -EEXIST;
	else if (!(next = slots_clone(mmu->slots)))
		r = -ENOMEM;
	if (!r) {
		next->by_id[d->id] = slot;
		slots_publish(mmu, next);
	}
	mmu_spin_unlock(&mmu->slots_lock);
	if (r) {
		env_free(slot->dirty_bitmap);
		env_free(slot);
	}
	return r;
}

/*
 * Replace slot 'id' by 'repl' (NULL: delete) through the INVALID phase.
 * 'inv', 'mid' and 'last' are preallocated. slots_lock held.
 */
static void slot_replace(struct mmu *mmu, u16 id, struct memslot *inv, struct memslots *mid,
			 struct memslots *last, struct memslot *repl)
{
	struct memslot *old = mmu->slots->by_id[id];
	struct mmu_excl x;

	*inv = *old;
	inv->invalid = true;
	*mid = *mmu->slots;
	mid->gen.v++;
	mid->by_id[id] = inv;
	slots_publish(mmu, mid);
	env_free(old);
	x = mmu_lock_excl(mmu);
	mmu_zap_all_fast(&x);
	mmu_unlock_excl(&x);
	*last = *mid;
	last->gen.v++;
	last->by_id[id] = repl;
	slots_publish(mmu, last);
	env_free(inv);
}

static int slot_change(struct mmu *mmu, u16 id, bool del, gfn_t new_base)
{
	struct memslot *inv = slot_clone(NULL), *repl = del ? NULL : slot_clone(NULL), *old;
	struct memslots *mid = env_zalloc(sizeof(*mid)), *last = env_zalloc(sizeof(*last));
	int r = 0;

	mmu_spin_lock(&mmu->slots_lock);
	old = id < MMU_MAX_SLOTS ? mmu->slots->by_id[id] : NULL;
	if (!old)
		r = -ENOENT;
	else if (!inv || !mid || !last || (!del && !repl))
		r = -ENOMEM;
	else if (!del && (new_base.v > TDP_MAX_GFN - old->d.npages ||
			  overlaps_other(mmu->slots, id, new_base.v, old->d.npages)))
		r = new_base.v > TDP_MAX_GFN - old->d.npages ? -EINVAL : -EEXIST;
	if (!r) {
		bool bitmap_dies = del;
		u64 *bitmap = old->dirty_bitmap;

		if (repl) {
			*repl = *old;
			repl->d.base_gfn = new_base;
		}
		slot_replace(mmu, id, inv, mid, last, repl);
		if (bitmap_dies)
			env_free(bitmap);
		inv = NULL, mid = NULL, last = NULL, repl = NULL;
	}
	mmu_spin_unlock(&mmu->slots_lock);
	env_free(inv);
	env_free(repl);
	env_free(mid);
	env_free(last);
	return r;
}

int mmu_slot_delete(struct mmu *mmu, u16 id)
{
	return slot_change(mmu, id, true, GFN(0));
}

int mmu_slot_move(struct mmu *mmu, u16 id, gfn_t new_base)
{
	return slot_change(mmu, id, false, new_base);
}

/* Dirty logging on or off: publish the new flags, wait for faults that used
 * the old ones, then write-protect and split (on, under the shared lock) or
 * recover huge pages in place (off, under the exclusive lock). */
static void slot_set_dirty_log(struct mmu *mmu, struct memslot *next_slot,
			       struct memslots *next, bool on)
{
	struct memslot *old = mmu->slots->by_id[next_slot->d.id];
	u64 *old_bitmap = old->dirty_bitmap;
	struct mmu_excl x;

	next->by_id[next_slot->d.id] = next_slot;
	slots_publish(mmu, next);
	env_free(old);
	if (!on)
		env_free(old_bitmap);
	if (on) {
		dirty_log_start(mmu, next_slot); /* under the shared lock */
		return;
	}
	x = mmu_lock_excl(mmu);
	dirty_log_stop(&x, next_slot);
	mmu_unlock_excl(&x);
}

int mmu_slot_set_flags(struct mmu *mmu, u16 id, u32 flags)
{
	struct memslot *old, *slot = slot_clone(NULL);
	struct memslots *next = NULL;
	u64 *bitmap = NULL;
	int r = 0;

	if (flags & ~SLOT_VALID_FLAGS || id >= MMU_MAX_SLOTS) {
		env_free(slot);
		return -EINVAL;
	}
	mmu_spin_lock(&mmu->slots_lock);
	old = mmu->slots->by_id[id];
	if (!old)
		r = -ENOENT;
	else if ((old->d.flags ^ flags) & MEMSLOT_READONLY)
		r = -EINVAL; /* like KVM: delete and re-add to change it */
	else if (old->d.flags == flags)
		r = 1;
	else if (!slot || !(next = slots_clone(mmu->slots)))
		r = -ENOMEM;
	else if ((flags & MEMSLOT_DIRTY_LOG) &&
		 !(bitmap = env_zalloc(bitmap_words(old->d.npages) * sizeof(u64))))
		r = -ENOMEM;
	if (!r) {
		*slot = *old;
		slot->d.flags = flags;
		slot->dirty_bitmap = bitmap;
		slot_set_dirty_log(mmu, slot, next, flags & MEMSLOT_DIRTY_LOG);
		slot = NULL;
		next = NULL;
	}
	mmu_spin_unlock(&mmu->slots_lock);
	env_free(slot);
	env_free(next);
	return r > 0 ? 0 : r;
}

int mmu_slot_get_dirty_log(struct mmu *mmu, u16 id, u64 *bitmap)
{
	const struct memslot *slot;
	struct mmu_excl x;
	int r;

	if (id >= MMU_MAX_SLOTS || !bitmap)
		return -EINVAL;
	mmu_spin_lock(&mmu->slots_lock);
	slot = mmu->slots->by_id[id];
	if (!slot)
		r = -ENOENT;
	else if (!(slot->d.flags & MEMSLOT_DIRTY_LOG))
		r = -EINVAL;
	else {
		x = mmu_lock_excl(mmu);
		r = dirty_log_harvest(&x, slot, bitmap);
		mmu_unlock_excl(&x);
	}
	mmu_spin_unlock(&mmu->slots_lock);
	return r;
}

bool mmu_gfn_to_hfn(struct mmu *mmu, gfn_t gfn, hfn_t *out, u32 *slot_flags)
{
	int idx = srcu_read_lock(&mmu->slots_srcu);
	const struct memslot *slot = slots_find_gfn(slots_deref(mmu), gfn.v);
	bool ok = slot && !slot->invalid;

	if (ok) {
		*out = slot_gfn_to_hfn(slot, gfn.v);
		if (slot_flags)
			*slot_flags = slot->d.flags;
	}
	srcu_read_unlock(&mmu->slots_srcu, idx);
	return ok;
}

int mmu_host_access_begin(struct mmu *mmu, gfn_t gfn, bool write, struct mmu_host_access *a)
{
	const struct memslot *slot;
	int r = 0;

	*a = (struct mmu_host_access){ .mmu = mmu, .gfn = gfn, .write = write };
	if (mmu_is_dead(mmu))
		return -EIO;
	a->srcu_idx = srcu_read_lock(&mmu->slots_srcu);
	slot = slots_find_gfn(slots_deref(mmu), gfn.v);
	if (!slot)
		r = -EFAULT;
	else if (slot->invalid)
		r = -EAGAIN; /* never wait for the writer inside the read side */
	else if (write && (slot->d.flags & MEMSLOT_READONLY))
		r = -EPERM;
	if (r) {
		srcu_read_unlock(&mmu->slots_srcu, a->srcu_idx);
		return r;
	}
	a->slot = slot;
	a->hfn = slot_gfn_to_hfn(slot, gfn.v);
	a->slot_flags = slot->d.flags;
	return 0;
}

void mmu_host_access_end(struct mmu_host_access *a)
{
	struct mmu *mmu = a->mmu;

	MMU_ASSERT(a->slot && srcu_read_held(&mmu->slots_srcu));
	if (a->write && (a->slot->d.flags & MEMSLOT_DIRTY_LOG))
		slot_dirty_mark(a->slot, a->gfn.v);
	a->slot = NULL;
	srcu_read_unlock(&mmu->slots_srcu, a->srcu_idx);
}

void memslots_free_all(struct mmu *mmu)
{
	for (unsigned i = 0; i < MMU_MAX_SLOTS; i++) {
		struct memslot *s = mmu->slots->by_id[i];

		if (s) {
			env_free(s->dirty_bitmap);
			env_free(s);
		}
	}
	env_free(mmu->slots);
	mmu->slots = NULL;
}
