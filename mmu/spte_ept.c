// SPDX-License-Identifier: MIT
/*
 * Intel EPT, 4-level (SDM vol. 3, "EPT Translation Mechanism"). An entry is
 * present when any of R/W/X is set. Leaves carry the memory type (WB) in bits
 * 5:3; bit 7 marks a 2 MiB/1 GiB leaf. Bits 8/9 are accessed/dirty only when
 * the EPTP enables A/D and are ignored otherwise, so pre-setting them (see
 * spte.h) is correct either way.
 */
#include "mmu/spte.h"

#define EPT_R    BIT(0)
#define EPT_W    BIT(1)
#define EPT_X    BIT(2)
#define EPT_MT_SHIFT 3
#define EPT_MT_WB (6ull << EPT_MT_SHIFT)
#define EPT_LARGE BIT(7)
#define EPT_A    BIT(8)
#define EPT_D    BIT(9)
#define EPT_ADDR GENMASK(51, 12)
/* Non-present (R=W=X=0); the other bits are ignored by the CPU. */
#define EPT_FROZEN 0x5a0ull

_Static_assert((EPT_FROZEN & (EPT_R | EPT_W | EPT_X)) == 0, "FROZEN must be non-present");
_Static_assert((EPT_ADDR & (EPT_R | EPT_W | EPT_X | GENMASK(5, 3) | EPT_LARGE | EPT_A |
			      EPT_D)) == 0,
	       "address bits overlap flag bits");

const struct spte_format spte_format_ept = {
	.name = "ept",
	.present_mask = EPT_R | EPT_W | EPT_X,
	.read_mask = EPT_R,
	.write_mask = EPT_W,
	.exec_mask = EPT_X,
	.nx_mask = 0,
	.always_mask = 0,
	.huge_mask = EPT_LARGE,
	.accessed_mask = EPT_A,
	.dirty_mask = EPT_D,
	.leaf_extra = EPT_MT_WB,
	.addr_mask = EPT_ADDR,
	.frozen = EPT_FROZEN,
	.leaf_levels = BIT(1) | BIT(2) | BIT(3),
};
