/* SPDX-License-Identifier: MIT */
/*
 * Introspection of the MMU, for tests, the stress harness and benchmarks.
 *
 * THIS HEADER IS A CONTRACT FOR TESTS: the stress harness (tests/stress/),
 * the benchmarks (tests/bench/) and the unit and seed tests are written
 * against it. Everything here may be called from any thread at any time
 * (it takes the locks it needs); none of it is used by keel.efi's hot paths.
 * The environment knobs (allocation failures, resched policy, hooks) are in
 * mmu/env.h and mmu/env_hosted.h.
 */
#pragma once

#include "mmu/mmu.h"

/*
 * Check every invariant the MMU promises, under the slot writers' lock and
 * the exclusive MMU lock (so no slot change or fault is half done):
 *  - every present leaf of the valid root maps inside a live slot, to the
 *    right host frame, with a size the slot allows;
 *  - no writable leaf in a read-only slot; in a dirty-logged slot, writable
 *    leaves are 4 KiB and their page's bit is set;
 *  - at most one valid root; no FROZEN entry outside a critical section;
 *  - tables reachable from all roots + tables awaiting free == tables_in_use,
 *    and the maps_4k/2m/1g gauges (summed over their per-CPU shards) match
 *    the leaves found;
 *  - every table holds its reserved slot on the deferred-free list.
 * Returns 0, or -EINVAL with the first violation described in why[len].
 */
int mmu_verify(struct mmu *mmu, char *why, size_t len);

/* Call cb for every present leaf of the valid root, in gfn order, with the
 * exclusive MMU lock held (cb must not call into the MMU). perms: MMU_ACC_*. */
typedef void (*mmu_leaf_cb)(void *ctx, gfn_t gfn, hfn_t hfn, int level, u32 perms);
void mmu_for_each_leaf(struct mmu *mmu, mmu_leaf_cb cb, void *ctx);

/* The leaf mapping gfn in the valid root, if any. */
bool mmu_debug_lookup(struct mmu *mmu, gfn_t gfn, hfn_t *hfn, int *level, u32 *perms);

/* Exclusive-lock behaviour: how often and how long it was held, and how many
 * times long walks gave it up (yields). 'reset' zeroes the counters. */
struct mmu_lock_stats {
	u64 excl_acquisitions;
	u64 excl_total_ns;
	u64 excl_max_ns;     /* longest single hold */
	u64 yields;
};
void mmu_debug_lock_stats(struct mmu *mmu, struct mmu_lock_stats *out, bool reset);

/* The TLB flush generation: bumped by every change that removes or reduces
 * a translation. A vCPU told to flush by mmu_vcpu_load_root() has caught up
 * with the value read at that time. */
u64 mmu_debug_flush_gen(struct mmu *mmu);

/* Roots in existence and how many of them are valid. */
unsigned mmu_debug_root_count(struct mmu *mmu, unsigned *valid);

/* Tables unlinked and still waiting for their grace period (after freeing
 * those whose grace period is over). */
u64 mmu_debug_tables_pending_free(struct mmu *mmu);

/* Host memory one page table costs: the 4 KiB hardware table plus its
 * reserved slot on the deferred-free list (there is no other per-table
 * metadata). Memory in page tables ~= tables_in_use * this (the list grows
 * by doubling, so up to one more slot per table). */
size_t mmu_debug_bytes_per_table(void);
