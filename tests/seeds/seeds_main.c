// SPDX-License-Identifier: MIT
/* The seed regression tests (see seeds.h and docs/seeds.md). */
#include "tests/seeds/seeds.h"

_Thread_local int seeds_role;

void seeds_assert_to_cmocka(const char *expr, const char *file, int line)
{
	mock_assert(0, expr, file, line);
}

#define SEED_TEST(fn) cmocka_unit_test_setup_teardown(fn, tmmu_setup, tmmu_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		SEED_TEST(seed000_split_livelock),
		SEED_TEST(seed000_split_progress_under_fault_stream),
		SEED_TEST(seed000_shared_split_progress),
		SEED_TEST(seed001_zap_vs_map_shared),
		SEED_TEST(seed001_exclusive_only_asserts),
		SEED_TEST(seed001_nomem_under_shared_lock),
		SEED_TEST(seed002_unsync_marking),
		SEED_TEST(seed002_counter_underflow_asserts),
		SEED_TEST(seed002_parked_install_after_table_replaced),
		SEED_TEST(seed003_obsolete_root_install),
		SEED_TEST(seed003_invalidate_waits_for_install),
		SEED_TEST(seed003_invalidate_before_fault_locks),
		SEED_TEST(seed004_prefault_vs_slot_delete),
		SEED_TEST(seed004_delete_waits_for_reader),
	};

	return ktest_run_group("seeds_mmu", tests, argc, argv);
}
