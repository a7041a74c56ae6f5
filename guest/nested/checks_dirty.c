// SPDX-License-Identifier: MIT
/*
 * Keel's dirty log of L1 memory (guest/abi.h KEEL_HC_DIRTY_*, called by
 * L1) while L2 writes: in each round L2 writes a list of pages of its
 * 4 KiB, 2 MiB and 1 GiB regions after the previous harvest, and every L1
 * page behind them must be in the next harvest. Rounds after the first
 * catch a shadow entry that stayed writable across a harvest.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define ROUNDS 3

static unsigned pages; /* entries of l2s.list, and their L1 pages */
static u64 backing[L2_LIST_MAX];

static void add(u64 l2, u64 l1)
{
	if (pages < L2_LIST_MAX) {
		l2s.list[pages] = l2;
		backing[pages++] = l1;
	}
}

static void list_build(void)
{
	pages = 0;
	for (u64 i = 20; i < 36; i++)
		add(L2_REGION_4K + i * SZ_4K + 8, L1_4K_PAGE(i) + 8);
	for (u64 i = 0; i < 512; i += 37)
		add(L2_REGION_2M + i * SZ_4K, L1_REGION_2M + i * SZ_4K);
	if (l1_caps.page1gb)
		for (u64 i = 0; i < 16; i++)
			add(L2_REGION_1G + i * 31 * SZ_2M + 0x3000, L1_REGION_1G + i * 31 * SZ_2M + 0x3000);
}

static int harvest_check(unsigned round, char *why, size_t len)
{
	guest_hypercall3(KEEL_HC_DIRTY_HARVEST, 0, 0, 0);
	for (unsigned i = 0; i < pages; i++) {
		u64 got = guest_hypercall3(KEEL_HC_DIRTY_COUNT, backing[i] & ~0xfffull, 1, 0);

		if (got != 1) {
			snprintf(why, len, "round %u: L2 wrote L2 gpa 0x%llx (L1 gpa 0x%llx) but the "
				 "harvest has it %s", round, (unsigned long long)l2s.list[i],
				 (unsigned long long)backing[i], got ? "odd" : "clean");
			return -1;
		}
	}
	return 0;
}

NESTED_CHECK(check_dirty_log_l2)
{
	int r = 0;

	if (l1_need_l2(why, len))
		return -1;
	if (!l1_on_keel) {
		snprintf(why, len, "not under Keel: no dirty-log hypercalls");
		return GUEST_TEST_SKIP;
	}
	list_build();
	if (guest_hypercall3(KEEL_HC_DIRTY_LOG, 1, 0, 0)) {
		snprintf(why, len, "KEEL_HC_DIRTY_LOG 1 failed");
		return -1;
	}
	guest_hypercall3(KEEL_HC_DIRTY_HARVEST, 0, 0, 0); /* start clean */
	for (unsigned k = 1; k <= ROUNDS && !r; k++) {
		l2s.arg[0] = pages;
		l2s.arg[1] = (u64)k << 32;
		r = l1_run(l2_write_list, NULL, why, len);
		if (!r)
			r = harvest_check(k, why, len);
	}
	guest_hypercall3(KEEL_HC_DIRTY_LOG, 0, 0, 0);
	if (!r)
		guest_printf("nested: dirty log: %u L2-written pages in each of %u harvests\n",
			     pages, ROUNDS);
	return r;
}
