// SPDX-License-Identifier: MIT
/*
 * The harness's model of the slots, and the checks that compare every present
 * leaf the MMU reports (mmu_for_each_leaf) with it. These checks are the
 * harness's own; mmu_verify() is the MMU's, and the run uses both.
 */
#include "stress_model.h"
#include "stress_mmu_glue.h"

#include <inttypes.h>
#include <string.h>

/* Fixed slots: id, base, pages, backing, flags. Backing frames are fake (the
 * MMU never touches guest memory); they only have to be congruent with the
 * base as far as the mapping sizes we want allow. */
static const struct memslot_desc stress_fixed[] = {
	{ STRESS_SLOT_BIG, { STRESS_BIG_BASE }, STRESS_BIG_PAGES,
	  { 16 * STRESS_1G_PAGES }, 0 },
	{ STRESS_SLOT_RO, { STRESS_RO_BASE }, STRESS_RO_PAGES,
	  { 40 * STRESS_1G_PAGES + 3 * STRESS_2M_PAGES }, MEMSLOT_READONLY },
	{ STRESS_SLOT_DIRTY, { STRESS_DIRTY_BASE }, STRESS_DIRTY_PAGES,
	  { 48 * STRESS_1G_PAGES }, 0 },
};

void stress_model_init(struct stress_model *m, enum stress_broken broken)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->next_backing = 1024 * STRESS_1G_PAGES;
	m->backing_skew = broken == STRESS_BROKEN_MODEL ? 1 : 0;
}

int stress_model_add_fixed(struct stress_model *m, struct mmu *mmu)
{
	for (size_t i = 0; i < ARRAY_SIZE(stress_fixed); i++) {
		int rc = mmu_slot_add(mmu, &stress_fixed[i]);

		if (rc)
			return rc;
		m->slots[stress_fixed[i].id].present = true;
		m->slots[stress_fixed[i].id].d = stress_fixed[i];
	}
	return 0;
}

bool stress_slot_id_readonly(unsigned id)
{
	return id == STRESS_SLOT_RO || (id >= STRESS_SLOT_CHURN0 && id % 4 == 3);
}

enum stress_area stress_area_of(gfn_t gfn, unsigned *churn_id)
{
	u64 g = gfn.v;

	if (g >= STRESS_BIG_BASE && g < STRESS_BIG_BASE + STRESS_BIG_PAGES)
		return STRESS_AREA_BIG;
	if (g >= STRESS_RO_BASE && g < STRESS_RO_BASE + STRESS_RO_PAGES)
		return STRESS_AREA_RO;
	if (g >= STRESS_DIRTY_BASE && g < STRESS_DIRTY_BASE + STRESS_DIRTY_PAGES)
		return STRESS_AREA_DIRTY;
	if (g >= STRESS_CHURN_BASE &&
	    g < STRESS_CHURN_BASE + STRESS_NR_CHURN * STRESS_REGION_PAGES) {
		*churn_id = STRESS_SLOT_CHURN0 +
			    (unsigned)((g - STRESS_CHURN_BASE) / STRESS_REGION_PAGES);
		return STRESS_AREA_CHURN;
	}
	return STRESS_AREA_HOLE;
}

/* What the model says gfn (inside slot id) must map to. */
hfn_t stress_model_backing_of(const struct stress_model *m, unsigned id, gfn_t gfn)
{
	const struct memslot_desc *d = &m->slots[id].d;
	s64 skew = id == STRESS_SLOT_BIG ? m->backing_skew : 0;

	return HFN(d->backing.v + (gfn.v - d->base_gfn.v) + (u64)skew);
}

/* Fresh backing for a churn slot: never reused, so a leaf pointing into a
 * deleted slot's backing is always a stale leaf. 'congruent' makes huge
 * mappings possible; otherwise the backing is offset by a random page. */
u64 stress_model_next_backing(struct stress_model *m, gfn_t base, u64 npages, bool congruent)
{
	u64 start = ALIGN_UP(m->next_backing, STRESS_1G_PAGES);
	u64 off = base.v % STRESS_1G_PAGES;

	if (!congruent)
		off = (off + 1 + npages % 511) % STRESS_1G_PAGES;
	m->next_backing = start + off + npages;
	return start + off;
}

/* --- leaf checks --------------------------------------------------------- */

struct leaf_check {
	struct stress_model *m;
	struct stress_report *rep;
	u64 leaves;
};

static const struct stress_slot *slot_holding(const struct stress_model *m, gfn_t gfn)
{
	for (unsigned i = 0; i < STRESS_NR_SLOTS; i++) {
		const struct stress_slot *s = &m->slots[i];

		if (s->present && gfn.v >= s->d.base_gfn.v &&
		    gfn.v < s->d.base_gfn.v + s->d.npages)
			return s;
	}
	return NULL;
}

/* Eager split is best effort: a unit whose table allocation fails is only
 * write-protected, and a write fault splits it later. So a read-only huge
 * leaf may survive the enable; a writable one never, and no fault may
 * install a huge leaf after the enable (seen once a root invalidation that
 * started after the enable has completed). */
static void check_huge_in_logged_slot(struct leaf_check *c, const struct stress_slot *s,
				      gfn_t gfn, int level, u32 perms)
{
	u64 invals = atomic_load(&c->m->invalidations_done);

	if (perms & MMU_ACC_WRITE)
		stress_fail(c->rep, "writable huge leaf gfn %#" PRIx64 " level %d in dirty-logged "
			    "slot %u", gfn.v, level, s->d.id);
	else if (invals >= c->m->log_enabled_at + 2)
		stress_fail(c->rep, "huge leaf gfn %#" PRIx64 " level %d installed in slot %u after "
			    "dirty logging was enabled", gfn.v, level, s->d.id);
}

static void check_leaf_in_slot(struct leaf_check *c, const struct stress_slot *s,
			       gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	u64 size = stress_level_pages(level);
	hfn_t want = stress_model_backing_of(c->m, s->d.id, gfn);

	if (!IS_ALIGNED(gfn.v, size) || gfn.v + size > s->d.base_gfn.v + s->d.npages)
		stress_fail(c->rep, "leaf gfn %#" PRIx64 " level %d overruns slot %u [%#" PRIx64
			    ", +%#" PRIx64 ")", gfn.v, level, s->d.id, s->d.base_gfn.v, s->d.npages);
	if (hfn.v != want.v)
		stress_fail(c->rep, "leaf gfn %#" PRIx64 " maps hfn %#" PRIx64 ", slot %u says %#"
			    PRIx64, gfn.v, hfn.v, s->d.id, want.v);
	if ((perms & MMU_ACC_WRITE) && (s->d.flags & MEMSLOT_READONLY))
		stress_fail(c->rep, "leaf gfn %#" PRIx64 " writable in read-only slot %u",
			    gfn.v, s->d.id);
	if (!(perms & MMU_ACC_READ))
		stress_fail(c->rep, "leaf gfn %#" PRIx64 " present but not readable", gfn.v);
	if (size > 1 && (s->d.flags & MEMSLOT_DIRTY_LOG))
		check_huge_in_logged_slot(c, s, gfn, level, perms);
}

static void check_leaf(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	struct leaf_check *c = ctx;
	const struct stress_slot *s = slot_holding(c->m, gfn);

	c->leaves++;
	if (!s) {
		stress_fail(c->rep, "leaf gfn %#" PRIx64 " (hfn %#" PRIx64 ", level %d) is in no slot",
			    gfn.v, hfn.v, level);
		return;
	}
	check_leaf_in_slot(c, s, gfn, hfn, level, perms);
}

/* Every present leaf agrees with the model. Returns the number of leaves. */
u64 stress_check_leaves(struct stress_model *m, struct mmu *mmu, struct stress_report *rep)
{
	struct leaf_check c = { .m = m, .rep = rep };

	mmu_for_each_leaf(mmu, check_leaf, &c);
	return c.leaves;
}

struct unmapped_check {
	const struct memslot_desc *gone;
	const struct memslot_desc *now; /* the slot's new placement, or NULL */
	struct stress_report *rep;
	const char *after;
};

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static void check_not_gone(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	struct unmapped_check *c = ctx;
	u64 size = stress_level_pages(level);
	bool stale_gfn = ranges_overlap(gfn.v, size, c->gone->base_gfn.v, c->gone->npages);
	bool stale_hfn = ranges_overlap(hfn.v, size, c->gone->backing.v, c->gone->npages);

	/* After a move the backing lives on at the new place: leaves there are
	 * the full leaf check's business, everything else must be gone. */
	if (c->now && ranges_overlap(gfn.v, size, c->now->base_gfn.v, c->now->npages))
		return;
	if (stale_gfn || stale_hfn)
		stress_fail(c->rep, "after %s of slot %u: leaf gfn %#" PRIx64 " -> hfn %#" PRIx64
			    " (level %d) still maps its old range", c->after, c->gone->id,
			    gfn.v, hfn.v, level);
}

/* Nothing maps 'gone' (a slot's old placement) any more, except inside 'now'
 * (its new placement after a move; NULL after a delete). Valid only when no
 * other slot has been placed over the old range since. */
void stress_check_unmapped(struct mmu *mmu, const struct memslot_desc *gone,
			   const struct memslot_desc *now, struct stress_report *rep,
			   const char *after)
{
	struct unmapped_check c = { .gone = gone, .now = now, .rep = rep, .after = after };

	mmu_for_each_leaf(mmu, check_not_gone, &c);
}

static void count_leaf(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	(*(u64 *)ctx)++;
}

u64 stress_count_leaves(struct mmu *mmu)
{
	u64 n = 0;

	mmu_for_each_leaf(mmu, count_leaf, &n);
	return n;
}

struct range_count {
	u64 start, end, n;
};

static void count_leaf_in(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms)
{
	struct range_count *c = ctx;

	c->n += ranges_overlap(gfn.v, stress_level_pages(level), c->start, c->end - c->start);
}

/* Leaves overlapping [start, end). */
u64 stress_count_leaves_in(struct mmu *mmu, gfn_t start, gfn_t end)
{
	struct range_count c = { start.v, end.v, 0 };

	mmu_for_each_leaf(mmu, count_leaf_in, &c);
	return c.n;
}
