/* SPDX-License-Identifier: MIT */
/*
 * Seeds 000-002 recreated on the nested MMU itself (tests/seeds/seed00N_nested.c,
 * program seeds_nested; docs/seeds.md and docs/nested-mmu.md say which test
 * proves what).
 */
#pragma once

#include "tests/nested/nested_test_util.h"
#include "tests/nested/nested_watchdog.h"

/* Route MMU assertion failures to cmocka (expect_assert_failure). Inline: the
 * seed files also link into tests/seeds' own program (its wildcard). */
static inline void seeds_nested_assert_to_cmocka(const char *expr, const char *file, int line)
{
	mock_assert(0, expr, file, line);
}

void seed000_nested_split_livelock(void **state);
void seed000_nested_split_under_fault_stream(void **state);
void seed001_nested_evict_waits_for_fault(void **state);
void seed001_nested_exclusive_only_asserts(void **state);
void seed001_nested_nomem_never_evicts(void **state);
void seed002_nested_tdp_fault_touches_no_nested_state(void **state);
void seed002_nested_counts_exact_under_concurrency(void **state);
