// SPDX-License-Identifier: MIT
/*
 * The identity map a 64-bit entry needs: [0, top) with 2 MiB pages,
 * writable and executable, in the low pages guest/abi.h reserves for it
 * (PML4, PDPT, one page directory per GiB). The guest replaces it.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "guest/abi.h"
#include "vmm/loader/loader.h"

#define GPTE_P BIT(0)
#define GPTE_RW BIT(1)
#define GPTE_PS BIT(7)
#define GPTE_ENTRIES 512

u64 loader_map_top(const struct loader_ctx *ctx)
{
	u64 ram_end = 0;

	for (unsigned i = 0; i < ctx->nr_ram; i++)
		ram_end = MAX(ram_end, ctx->ram[i].base + ctx->ram[i].size);
	return MAX(4 * SZ_1G, ALIGN_UP(ram_end, SZ_1G) + SZ_1G);
}

/* One page-table page; entry i = first + i * step for i < n, the rest 0. */
static int put_table(struct loader_ctx *ctx, u64 gpa, unsigned n, u64 first, u64 step)
{
	u64 t[GPTE_ENTRIES];

	memset(t, 0, sizeof(t));
	for (unsigned i = 0; i < n; i++)
		t[i] = first + i * step;
	return loader_put(ctx, gpa, t, sizeof(t), "the identity map's page tables");
}

int loader_identity_map(struct loader_ctx *ctx, u64 top, u64 *cr3)
{
	unsigned gigs = (unsigned)(top / SZ_1G);
	int err;

	if (!IS_ALIGNED(top, SZ_1G) || gigs > KEEL_GUEST_PD_MAX)
		return loader_fail(ctx, "identity map of %llu GiB does not fit the page-table area",
				   (unsigned long long)(top >> 30));
	err = put_table(ctx, KEEL_GUEST_PML4_GPA, 1, KEEL_GUEST_PDPT_GPA | GPTE_P | GPTE_RW, 0);
	if (!err)
		err = put_table(ctx, KEEL_GUEST_PDPT_GPA, gigs, KEEL_GUEST_PD_GPA | GPTE_P | GPTE_RW,
				PAGE_SIZE);
	for (unsigned g = 0; g < gigs && !err; g++)
		err = put_table(ctx, KEEL_GUEST_PD_GPA + g * PAGE_SIZE, GPTE_ENTRIES,
				g * SZ_1G | GPTE_P | GPTE_RW | GPTE_PS, SZ_2M);
	*cr3 = KEEL_GUEST_PML4_GPA;
	return err;
}
