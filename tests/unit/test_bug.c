// SPDX-License-Identifier: MIT
/*
 * MMU_BUG_ON: memory-safety invariants are checked in every build and stop
 * the VM (KVM_BUG_ON style) instead of vanishing under KEEL_NDEBUG.
 *
 * Built twice (tests/unit/unit.mk): unit_bug with the flavour's usual flags
 * (debug: a firing check also fails its assertion, so the test clears that
 * through HOOK_MMU_BUG to look at what follows), and unit_bug_rel with
 * -DKEEL_NDEBUG, where MMU_ASSERT is compiled out: the check must still
 * fire, mark the MMU dead, and make every entry point refuse work.
 */
#include <string.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/mmu_internal.h"

static unsigned bugs_seen;

static void bug_not_fatal(enum env_hook h, void *arg, void *ctx)
{
	bool *fatal = arg;

	bugs_seen++;
	*fatal = false;
}

static struct tdp_page *leaf_table_of(struct mmu *mmu, u64 gfn)
{
	struct tdp_page *pg = mmu->roots->pt;

	for (int level = TDP_ROOT_LEVEL; level > 1; level--) {
		spte_t s = pg->spt[tdp_level_index(gfn, level)];

		pg = env_hpa_to_virt(spte_table_hpa(mmu->fmt, s));
	}
	return pg;
}

/* A present leaf found mapping another frame than the slot's (the
 * corruption a lost or misdirected update leaves behind): the fault that
 * upgrades its permissions would silently move the mapping to a new frame.
 * The MMU must notice in every build and stop. */
static void test_bug_on_marks_mmu_dead(void **state)
{
	struct tmmu *t = *state;
	const struct spte_format *f = t->fmt;
	struct tdp_page *table;
	char why[256];
	hpa_t root;
	bool flush;

	bugs_seen = 0;
	env_hosted_bind_hook(HOOK_MMU_BUG, bug_not_fatal, NULL);
	tmmu_add_slot(t->mmu, 0, 0, MIB2_PAGES, 0x100001, 0); /* 4 KiB leaves */
	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	table = leaf_table_of(t->mmu, 3);
	table->spt[3] = spte_make_leaf(f, HFN(0x100001 + 77), 1, MMU_ACC_READ); /* the corruption */

	assert_int_equal(tmmu_fault(t->v, 0x3000, MMU_ACC_WRITE), MMU_FAULT_FIXED);
	assert_int_equal(bugs_seen, 1);
	/* Dead: nothing more is installed, the run loop is told to stop. */
	assert_int_equal(mmu_page_fault(t->v, GPA(0x5000), MMU_ACC_READ), MMU_FAULT_DEAD);
	assert_int_equal(mmu_vcpu_load_root(t->v, &root, &flush), -EIO);
	assert_int_equal(mmu_prefault(t->v, GPA(0x5000), PAGE_SIZE), -EIO);
	assert_string_equal(mmu_fault_result_name(MMU_FAULT_DEAD), "dead");
	assert_int_equal(mmu_verify(t->mmu, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "dead"));
	assert_int_equal(tmmu_level_of(t->mmu, 5, NULL, NULL), 0);
}

/* Teardown of a dead MMU: free everything, check nothing leaked. */
static int bug_teardown(void **state)
{
	struct tmmu *t = *state;

	mmu_vcpu_destroy(t->v);
	mmu_destroy(t->mmu);
	assert_int_equal(env_hosted_pages_live(), 0);
	env_hosted_reset();
	test_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		{ "test_bug_on_marks_mmu_dead_npt", test_bug_on_marks_mmu_dead, tmmu_setup,
		  bug_teardown, (void *)&spte_format_npt },
		{ "test_bug_on_marks_mmu_dead_ept", test_bug_on_marks_mmu_dead, tmmu_setup,
		  bug_teardown, (void *)&spte_format_ept },
	};

	return ktest_run_group(MMU_DEBUG ? "unit_bug" : "unit_bug_rel", tests, argc, argv);
}
