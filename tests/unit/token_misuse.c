// SPDX-License-Identifier: MIT
/*
 * Compile-time check (tests/unit/unit.mk), not a program: exclusive-only
 * functions cannot be called with the shared-lock token. Built twice:
 * with -DMISUSE=0 it must compile (the right token), with -DMISUSE=1 it
 * must NOT compile (a shared-mode path calling a zap, as in seed 001).
 */
#include "mmu/mmu_internal.h"

void token_check(struct mmu *mmu, struct mmu_root *root);

void token_check(struct mmu *mmu, struct mmu_root *root)
{
#if MISUSE
	struct mmu_shared tok = mmu_lock_shared(mmu);
#else
	struct mmu_excl tok = mmu_lock_excl(mmu);
#endif

	zap_root_range(&tok, root, 0, 512);
	reclaim_run(&tok);
#if MISUSE
	mmu_unlock_shared(&tok);
#else
	mmu_unlock_excl(&tok);
#endif
}
