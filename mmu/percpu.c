// SPDX-License-Identifier: MIT
/* Cache-line-aligned allocations for structures with per-CPU slots. */
#include "mmu/percpu.h"

/* The pointer env_zalloc() returned is kept just below the aligned block. */
void *mmu_zalloc_aligned(size_t bytes)
{
	u8 *raw = env_zalloc(bytes + MMU_CACHE_LINE + sizeof(void *));
	uintptr_t p;

	if (!raw)
		return NULL;
	p = ALIGN_UP((uintptr_t)raw + sizeof(void *), MMU_CACHE_LINE);
	((void **)p)[-1] = raw;
	return (void *)p;
}

void mmu_free_aligned(void *p)
{
	if (p)
		env_free(((void **)p)[-1]);
}
