// SPDX-License-Identifier: MIT
/*
 * Build-time check (mmu/nested.mk): the functions that zap, recycle or yield
 * shadow tables take the nested lock's token. MISUSE=0 (the nested token)
 * must compile; MISUSE=1 (the TDP MMU's shared token, what its fault path
 * holds) and MISUSE=2 (L1's exclusive token) must not.
 */
#include "mmu/nested_internal.h"

void token_use(struct mmu *m, struct nmmu *n, struct nmmu_root *r);

void token_use(struct mmu *m, struct nmmu *n, struct nmmu_root *r)
{
#if MISUSE == 0
	struct nmmu_excl nx = nmmu_lock(n);

	nmmu_root_drop(&nx, NULL, r);
	nmmu_unlock(&nx);
#elif MISUSE == 1
	struct mmu_shared s = mmu_lock_shared(m);

	nmmu_root_drop(&s, NULL, r);
	mmu_unlock_shared(&s);
#else
	struct mmu_excl x = mmu_lock_excl(m);

	nmmu_root_drop(&x, NULL, r);
	mmu_unlock_excl(&x);
#endif
}
