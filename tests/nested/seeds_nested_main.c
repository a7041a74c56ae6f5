// SPDX-License-Identifier: MIT
/* Seeds 000-002 on the nested MMU (nested_seeds.h, docs/seeds.md). */
#include "tests/nested/nested_seeds.h"

#define SEED_TEST(fn) cmocka_unit_test_setup_teardown(fn, nt_setup, nt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SEED_TEST(seed000_nested_split_livelock),
		SEED_TEST(seed000_nested_split_under_fault_stream),
		SEED_TEST(seed001_nested_evict_waits_for_fault),
		SEED_TEST(seed001_nested_exclusive_only_asserts),
		SEED_TEST(seed001_nested_nomem_never_evicts),
		SEED_TEST(seed002_nested_tdp_fault_touches_no_nested_state),
		SEED_TEST(seed002_nested_counts_exact_under_concurrency),
	};

	return cmocka_run_group_tests_name("seeds_nested", tests, NULL, NULL);
}
