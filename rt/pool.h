/* SPDX-License-Identifier: MIT */
/*
 * Keel's memory pool: one contiguous range of host pages reserved from the
 * UEFI memory map before ExitBootServices. It backs include/keel/host.h's
 * page and object allocation (Keel's own tables, VMCBs, the MMU's page-table
 * pages). Guest memory is not part of it.
 */
#pragma once

#include <keel/types.h>

struct pool_stats {
	u64 pages_total, pages_used, pages_peak;
};

/* 'bitmap' holds one bit per page and lives outside the pool. */
void pool_init(void *base, u64 npages, u64 *bitmap);
void pool_get_stats(struct pool_stats *out);
