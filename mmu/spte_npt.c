// SPDX-License-Identifier: MIT
/*
 * AMD nested page tables: ordinary x86-64 long-mode entries (APM vol. 2,
 * "Nested Paging"). Every nested access counts as a user access, so U must
 * be set at every level or the walk faults.
 */
#include "mmu/spte.h"

#define NPT_P   BIT(0)
#define NPT_RW  BIT(1)
#define NPT_US  BIT(2)
#define NPT_A   BIT(5)
#define NPT_D   BIT(6)
#define NPT_PS  BIT(7)            /* leaf at level 2/3; PAT at level 1 (never set) */
#define NPT_NX  BIT(63)
#define NPT_ADDR GENMASK(51, 12)
/* Ignored while P=0: bits chosen so FROZEN is recognisable in a dump. */
#define NPT_FROZEN 0x5a0ull

_Static_assert((NPT_FROZEN & NPT_P) == 0, "FROZEN must be non-present");
_Static_assert((NPT_ADDR & (NPT_P | NPT_RW | NPT_US | NPT_A | NPT_D | NPT_PS | NPT_NX)) == 0,
	       "address bits overlap flag bits");

const struct spte_format spte_format_npt = {
	.name = "npt",
	.present_mask = NPT_P,
	.read_mask = NPT_P,
	.write_mask = NPT_RW,
	.exec_mask = 0,
	.nx_mask = NPT_NX,
	.always_mask = NPT_US,
	.huge_mask = NPT_PS,
	.accessed_mask = NPT_A,
	.dirty_mask = NPT_D,
	.leaf_extra = 0,
	.addr_mask = NPT_ADDR,
	.frozen = NPT_FROZEN,
	.leaf_levels = BIT(1) | BIT(2) | BIT(3),
};
