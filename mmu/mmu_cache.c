// SPDX-License-Identifier: MIT
/*
 * Memory caches of page-table pages (mmu_internal.h), like KVM's
 * kvm_mmu_memory_cache: a long walk under the MMU lock (the eager split)
 * takes fresh pages from its own cache instead of allocating while it holds
 * the lock; it tops the cache up while holding nothing. A page in a cache
 * already holds its reclaim reservation, so becoming a table costs only the
 * tables_in_use count.
 */
#include "mmu/mmu_internal.h"

unsigned mmu_page_cache_topup(struct mmu *mmu, struct mmu_page_cache *c, unsigned want)
{
	want = MIN(want, (unsigned)MMU_PAGE_CACHE_MAX);
	assert_lock_not_held(&mmu->lock);
	while (c->n < want) {
		struct tdp_page *pg;

		if (reclaim_reserve(mmu, 1))
			break;
		pg = env_pages_alloc(TDP_PAGE_NPAGES);
		if (!pg) {
			reclaim_unreserve(mmu, 1);
			break;
		}
		c->pages[c->n++] = pg;
	}
	return c->n;
}

/* A cached page becomes a (still private) table; NULL when empty. */
struct tdp_page *mmu_page_cache_take(struct mmu *mmu, struct mmu_page_cache *c)
{
	if (!c->n)
		return NULL;
	mmu_gauge_add(mmu, tables_in_use, 1);
	return c->pages[--c->n];
}

void mmu_page_cache_release(struct mmu *mmu, struct mmu_page_cache *c)
{
	while (c->n) {
		env_pages_free(c->pages[--c->n], TDP_PAGE_NPAGES);
		reclaim_unreserve(mmu, 1);
	}
}
