/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU data for the MMU's hot paths. A fault must not write a cache line
 * that a fault on another CPU also writes: such lines bounce between CPUs
 * and cap scaling well below 2x on two CPUs. So the MMU lock's and the slot
 * read side's reader counts (lock.h, srcu.h) and the MMU-wide counters
 * (struct mmu_shard in mmu_internal.h) are arrays of ENV_CPU_SLOTS
 * cache-line-aligned slots: a CPU writes only its own slot (env_cpu_slot());
 * whoever needs the total (a writer draining readers, mmu_get_stats) sums
 * the slots. Writes stay atomic because hosted threads may share a slot.
 *
 * Structures that hold such arrays must be allocated cache-line aligned:
 * mmu_zalloc_aligned() does that on top of env_zalloc().
 */
#pragma once

#include <keel/types.h>
#include "mmu/env.h"

#define MMU_CACHE_LINE 64

void *mmu_zalloc_aligned(size_t bytes); /* zeroed, MMU_CACHE_LINE aligned; NULL on failure */
void mmu_free_aligned(void *p);
