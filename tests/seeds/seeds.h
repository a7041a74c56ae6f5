/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for the five seed bugs (docs/seeds.md; each bug is
 * retold in docs/seeds/00N.md with its origin and timeline). Each test recreates
 * the bug's interleaving deterministically with the hosted environment's
 * hooks and gates, and asserts the invariant that rules the bug out.
 * docs/seeds.md explains each one.
 */
#pragma once

#include <pthread.h>
#include "tests/unit/mmu_test_util.h"
#include "mmu/mmu_internal.h"

/* Route MMU assertion failures to cmocka, so expect_assert_failure() works. */
void seeds_assert_to_cmocka(const char *expr, const char *file, int line);

/* Per-thread role, so a hook bound process-wide acts on one thread only. */
extern _Thread_local int seeds_role;

void seed000_split_livelock(void **state);
void seed000_split_progress_under_fault_stream(void **state);
void seed000_shared_split_progress(void **state);
void seed001_zap_vs_map_shared(void **state);
void seed001_exclusive_only_asserts(void **state);
void seed001_nomem_under_shared_lock(void **state);
void seed002_unsync_marking(void **state);
void seed002_counter_underflow_asserts(void **state);
void seed002_parked_install_after_table_replaced(void **state);
void seed003_obsolete_root_install(void **state);
void seed003_invalidate_waits_for_install(void **state);
void seed003_invalidate_before_fault_locks(void **state);
void seed004_prefault_vs_slot_delete(void **state);
void seed004_delete_waits_for_reader(void **state);
