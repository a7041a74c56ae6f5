// SPDX-License-Identifier: MIT
/* Building and decoding entries of any format (see spte.h). */
#include "mmu/spte.h"
#include "mmu/env.h"
#include "mmu/mmu.h"

bool spte_level_can_leaf(const struct spte_format *f, int level)
{
	return level >= 1 && level <= 7 && (f->leaf_levels & BIT(level));
}

spte_t spte_make_leaf(const struct spte_format *f, hfn_t hfn, int level, u32 perms)
{
	u64 pa = hfn_to_hpa(hfn).v;
	spte_t s = (pa & f->addr_mask) | f->always_mask | f->accessed_mask |
		   f->leaf_extra | f->read_mask;

	MMU_ASSERT(spte_level_can_leaf(f, level));
	MMU_ASSERT(IS_ALIGNED(pa, tdp_level_pages(level) << PAGE_SHIFT));
	MMU_ASSERT((pa & ~f->addr_mask) == 0);
	if (perms & MMU_ACC_WRITE)
		s |= f->write_mask | f->dirty_mask;
	s |= (perms & MMU_ACC_EXEC) ? f->exec_mask : f->nx_mask;
	if (level > 1)
		s |= f->huge_mask;
	return s;
}

/* Non-leaf entries grant everything; the leaf decides. */
spte_t spte_make_table(const struct spte_format *f, hpa_t table)
{
	MMU_ASSERT(IS_ALIGNED(table.v, PAGE_SIZE));
	MMU_ASSERT((table.v & ~f->addr_mask) == 0);
	return (table.v & f->addr_mask) | f->always_mask | f->accessed_mask |
	       f->read_mask | f->write_mask | f->exec_mask;
}

spte_t spte_wrprot(const struct spte_format *f, spte_t s)
{
	return s & ~(f->write_mask | f->dirty_mask);
}

hfn_t spte_leaf_hfn(const struct spte_format *f, spte_t s, int level)
{
	u64 size_mask = (tdp_level_pages(level) << PAGE_SHIFT) - 1;

	return hpa_to_hfn(HPA(s & f->addr_mask & ~size_mask));
}

hpa_t spte_table_hpa(const struct spte_format *f, spte_t s)
{
	return HPA(s & f->addr_mask);
}

u32 spte_perms(const struct spte_format *f, spte_t s)
{
	u32 p = 0;

	if (!spte_present(f, s))
		return 0;
	if (s & f->read_mask)
		p |= MMU_ACC_READ;
	if (s & f->write_mask)
		p |= MMU_ACC_WRITE;
	if (f->exec_mask ? (s & f->exec_mask) : !(s & f->nx_mask))
		p |= MMU_ACC_EXEC;
	return p;
}
