/* SPDX-License-Identifier: MIT */
/*
 * Everything the harness needs from the MMU beyond mmu/mmu.h: the debug
 * API (mmu/mmu_debug.h) and the hosted environment's test knobs. Kept in one
 * place so the rest of the harness reads as plain checks.
 */
#pragma once

#include <keel/types.h>
#include <mmu/mmu_debug.h>

/* 4 KiB pages covered by a leaf at 'level' in mmu_for_each_leaf's numbering
 * (mmu/tdp_iter.h: 1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static inline u64 stress_level_pages(int level)
{
	return 1ull << (9 * (level - 1));
}

/* About per_mille of every 1000 page-table allocations fail from now on
 * (0: never); see stress_env.c. */
void stress_env_set_alloc_fail(unsigned per_mille, u64 seed);
/* Make every yield point in MMU walks yield (true) or use the default policy. */
void stress_env_set_always_yield(bool on);
