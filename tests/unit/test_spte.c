// SPDX-License-Identifier: MIT
/* Entry formats and the walker, without any locking or concurrency. */
#include "tests/unit/mmu_test_util.h"
#include "mmu/spte.h"
#include "mmu/tdp_iter.h"

static void test_npt_encoding(void **state)
{
	const struct spte_format *f = &spte_format_npt;
	spte_t s = spte_make_leaf(f, HFN(0x12345), 1, MMU_ACC_READ | MMU_ACC_WRITE);

	(void)state;
	/* P, RW, US, A, D; NX because not executable; no PS at level 1 */
	assert_int_equal(s, 0x12345000ull | 0x67 | BIT(63));
	assert_true(spte_is_leaf(f, s, 1));
	assert_int_equal(spte_leaf_hfn(f, s, 1).v, 0x12345);
	assert_int_equal(spte_perms(f, s), MMU_ACC_READ | MMU_ACC_WRITE);

	s = spte_make_leaf(f, HFN(0x200), 2, MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(s, 0x200000ull | 0x25 | BIT(7));
	assert_true(spte_is_leaf(f, s, 2));
	assert_int_equal(spte_perms(f, s), MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(spte_leaf_hfn(f, s, 2).v, 0x200);

	s = spte_make_table(f, HPA(0xabc000));
	assert_int_equal(s, 0xabc000ull | 0x27);
	assert_true(spte_is_table(f, s, 2));
	assert_false(spte_is_leaf(f, s, 2));
	assert_int_equal(spte_table_hpa(f, s).v, 0xabc000);

	assert_false(spte_present(f, f->frozen));
	s = spte_make_leaf(f, HFN(1), 1, MMU_ACC_READ | MMU_ACC_WRITE);
	assert_int_equal(spte_wrprot(f, s) & 0x42, 0); /* RW and D cleared */
	assert_int_equal(spte_wrprot(f, s) & 0x25, 0x25);
}

static void test_ept_encoding(void **state)
{
	const struct spte_format *f = &spte_format_ept;
	spte_t s = spte_make_leaf(f, HFN(0x12345), 1, MMU_ACC_READ | MMU_ACC_WRITE);

	(void)state;
	/* R, W, memtype WB (6 << 3), A (8), D (9); no X */
	assert_int_equal(s, 0x12345000ull | 0x3 | (6 << 3) | BIT(8) | BIT(9));
	assert_int_equal(spte_perms(f, s), MMU_ACC_READ | MMU_ACC_WRITE);

	s = spte_make_leaf(f, HFN(0x40000), 3, MMU_ACC_READ | MMU_ACC_EXEC);
	assert_int_equal(s, 0x40000000ull | 0x5 | (6 << 3) | BIT(7) | BIT(8));
	assert_true(spte_is_leaf(f, s, 3));
	assert_int_equal(spte_leaf_hfn(f, s, 3).v, 0x40000);

	s = spte_make_table(f, HPA(0xabc000));
	assert_int_equal(s, 0xabc000ull | 0x7 | BIT(8));
	assert_true(spte_is_table(f, s, 4));
	assert_false(spte_present(f, f->frozen));
	assert_false(spte_present(f, 0));
}

/* Build a tiny tree by hand and check the walk order and the cursor. */
static void test_walker_preorder(void **state)
{
	const struct spte_format *f = &spte_format_npt;
	static spte_t root[512] __aligned(4096), l3[512] __aligned(4096), l2[512] __aligned(4096);
	struct tdp_iter it;
	u64 seen[16], levels[16];
	int n = 0;

	(void)state;
	root[0] = spte_make_table(f, HPA((u64)(uintptr_t)l3));
	l3[1] = spte_make_table(f, HPA((u64)(uintptr_t)l2));        /* gfn 1G.. */
	l2[3] = spte_make_leaf(f, HFN(0x600), 2, MMU_ACC_READ);     /* gfn 1G+6M */
	for_each_tdp_pte(&it, f, root, GFN(GIB_PAGES), GFN(GIB_PAGES + 4 * MIB2_PAGES), 1) {
		if (!spte_present(f, it.old))
			continue;
		assert_true(n < 16);
		seen[n] = it.gfn;
		levels[n++] = it.level;
	}
	/* root entry 0, l3 entry 1, l2 entry 3 (leaf): in pre-order */
	assert_int_equal(n, 3);
	assert_int_equal(levels[0], 4);
	assert_int_equal(seen[0], 0);
	assert_int_equal(levels[1], 3);
	assert_int_equal(seen[1], GIB_PAGES);
	assert_int_equal(levels[2], 2);
	assert_int_equal(seen[2], GIB_PAGES + 3 * MIB2_PAGES);

	/* A restart resumes at the cursor, not at the start. */
	tdp_iter_start(&it, f, root, GFN(GIB_PAGES), GFN(2 * GIB_PAGES), 2);
	while (it.valid && it.gfn < GIB_PAGES + 2 * MIB2_PAGES)
		tdp_iter_next(&it);
	it.yielded = true;
	tdp_iter_next(&it);
	assert_int_equal(it.level, 4);
	tdp_iter_next(&it);
	tdp_iter_next(&it);
	assert_int_equal(it.level, 2);
	assert_int_equal(it.gfn, GIB_PAGES + 2 * MIB2_PAGES);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_npt_encoding),
		cmocka_unit_test(test_ept_encoding),
		cmocka_unit_test(test_walker_preorder),
	};

	return ktest_run_group("unit_spte", tests, argc, argv);
}
