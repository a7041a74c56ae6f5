// SPDX-License-Identifier: MIT
/*
 * A model TLB checks the flush rules of docs/mmu-design.md: whatever a vCPU
 * may have cached must still be valid (same frame, no more permission than
 * the MMU now grants) when it next enters the guest, unless
 * mmu_vcpu_load_root() told it to flush. Rule 2 is checked too: adding
 * mappings or permissions does not ask for a flush.
 */
#include "tests/unit/mmu_test_util.h"

#define TLB_SIZE 256

struct model_tlb {
	unsigned n;
	struct {
		u64 gfn, hfn;
		u32 perms;
	} e[TLB_SIZE];
};

/* The vCPU touched gfn: the hardware may now cache its translation. */
static void tlb_fill(struct model_tlb *tlb, struct mmu *mmu, u64 gfn)
{
	hfn_t hfn = HFN(0);
	u32 perms = 0;

	assert_true(tmmu_level_of(mmu, gfn, &hfn, &perms) > 0);
	assert_true(tlb->n < TLB_SIZE);
	tlb->e[tlb->n].gfn = gfn;
	tlb->e[tlb->n].hfn = hfn.v;
	tlb->e[tlb->n++].perms = perms;
}

/* Cached translations the MMU no longer backs. */
static unsigned tlb_stale(const struct model_tlb *tlb, struct mmu *mmu)
{
	unsigned stale = 0;

	for (unsigned i = 0; i < tlb->n; i++) {
		hfn_t hfn = HFN(0);
		u32 perms = 0;

		if (!tmmu_level_of(mmu, tlb->e[i].gfn, &hfn, &perms) || hfn.v != tlb->e[i].hfn ||
		    (tlb->e[i].perms & ~perms))
			stale++;
	}
	return stale;
}

/* Guest entry: obey the flush request, then nothing stale may remain.
 * Returns whether a flush was requested. */
static bool tlb_enter(struct model_tlb *tlb, struct mmu_vcpu *v, struct mmu *mmu)
{
	hpa_t root;
	bool flush;

	assert_int_equal(mmu_vcpu_load_root(v, &root, &flush), 0);
	if (flush)
		tlb->n = 0;
	assert_int_equal(tlb_stale(tlb, mmu), 0);
	return flush;
}

static void touch(struct model_tlb *tlb, struct tmmu *t, u64 gfn, u32 access)
{
	enum mmu_fault_result r = mmu_page_fault(t->v, GPA(gfn << 12), access);

	assert_true(r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS);
	tlb_fill(tlb, t->mmu, gfn);
}

static void test_tlb_flush_rules(void **state)
{
	struct tmmu *t = *state;
	static struct model_tlb tlb;
	static u64 bitmap[MIB2_PAGES / 64];

	tlb.n = 0;
	tmmu_add_slot(t->mmu, 0, 0, 4 * MIB2_PAGES, 0x100000, 0);  /* 2 MiB leaves */
	tmmu_add_slot(t->mmu, 1, 0x10000, MIB2_PAGES, 0x200001, 0); /* 4 KiB leaves */
	assert_true(tlb_enter(&tlb, t->v, t->mmu)); /* first entry */

	/* Rule 2: new mappings need no flush. */
	touch(&tlb, t, 5, MMU_ACC_WRITE);
	touch(&tlb, t, 0x10003, MMU_ACC_WRITE);
	touch(&tlb, t, 0x10004, MMU_ACC_READ);
	assert_false(tlb_enter(&tlb, t->v, t->mmu));

	/* Rule 1: a zap removes a cached translation: flush required. */
	mmu_zap_gfn_range(t->mmu, GFN(0x10003), GFN(0x10004));
	assert_true(tlb_stale(&tlb, t->mmu) > 0);
	assert_true(tlb_enter(&tlb, t->v, t->mmu));

	/* Dirty logging write-protects (and splits) the slot. */
	touch(&tlb, t, 7, MMU_ACC_WRITE);
	touch(&tlb, t, 0x10004, MMU_ACC_WRITE);
	assert_false(tlb_enter(&tlb, t->v, t->mmu));
	assert_int_equal(mmu_slot_set_flags(t->mmu, 1, MEMSLOT_DIRTY_LOG), 0);
	assert_true(tlb_stale(&tlb, t->mmu) > 0);
	assert_true(tlb_enter(&tlb, t->v, t->mmu));
	assert_int_equal(mmu_slot_set_flags(t->mmu, 0, MEMSLOT_DIRTY_LOG), 0);
	assert_true(tlb_enter(&tlb, t->v, t->mmu)); /* the 2 MiB leaf was split read-only */

	/* A write fault upgrades a leaf: no flush. Harvest write-protects: flush. */
	touch(&tlb, t, 0x10004, MMU_ACC_WRITE);
	touch(&tlb, t, 0x10005, MMU_ACC_READ);
	assert_false(tlb_enter(&tlb, t->v, t->mmu));
	assert_int_equal(mmu_slot_get_dirty_log(t->mmu, 1, bitmap), 0);
	assert_true(bitmap[0] & BIT(4));
	assert_true(tlb_stale(&tlb, t->mmu) > 0);
	assert_true(tlb_enter(&tlb, t->v, t->mmu));

	/* Slot deletion and root invalidation. */
	touch(&tlb, t, 0x10006, MMU_ACC_READ);
	assert_int_equal(mmu_slot_delete(t->mmu, 1), 0);
	assert_true(tlb_enter(&tlb, t->v, t->mmu));
	touch(&tlb, t, 9, MMU_ACC_READ);
	mmu_invalidate_all_roots(t->mmu);
	assert_true(tlb_enter(&tlb, t->v, t->mmu));
	assert_false(tlb_enter(&tlb, t->v, t->mmu));
}

/* A second vCPU that is not running catches up on its next entry. */
static void test_tlb_idle_vcpu_catches_up(void **state)
{
	struct tmmu *t = *state;
	static struct model_tlb tlb0, tlb1;
	struct mmu_vcpu *v1 = mmu_vcpu_create(t->mmu, 1);
	hpa_t root;
	bool flush;

	tlb0.n = tlb1.n = 0;
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x200001, 0);
	assert_true(tlb_enter(&tlb0, t->v, t->mmu));
	assert_true(tlb_enter(&tlb1, v1, t->mmu));
	assert_int_equal(mmu_page_fault(v1, GPA(0x2000), MMU_ACC_WRITE), MMU_FAULT_FIXED);
	tlb_fill(&tlb1, t->mmu, 2);
	mmu_zap_gfn_range(t->mmu, GFN(0), GFN(16));
	assert_false(tlb_enter(&tlb0, t->v, t->mmu) && tlb0.n); /* vCPU 0 cached nothing */
	assert_true(tlb_enter(&tlb1, v1, t->mmu));
	/* The zapped table may be freed once both have passed their entry. */
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), 0);
	assert_int_equal(mmu_debug_tables_pending_free(t->mmu), 0);
	mmu_vcpu_destroy(v1);
}

#define FMT_TESTS(fn)                                                                    \
	{ #fn "_npt", fn, tmmu_setup, tmmu_teardown, (void *)&spte_format_npt },          \
	{ #fn "_ept", fn, tmmu_setup, tmmu_teardown, (void *)&spte_format_ept }

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		FMT_TESTS(test_tlb_flush_rules),
		FMT_TESTS(test_tlb_idle_vcpu_catches_up),
	};

	return ktest_run_group("unit_tlb", tests, argc, argv);
}
