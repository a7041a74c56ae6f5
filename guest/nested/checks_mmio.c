// SPDX-License-Identifier: MIT
/*
 * L1 may map its own devices or nothing at all into L2: an NPT leaf on
 * L1's local APIC gives L2 the registers L1 reads (Keel emulates the access
 * as L1's); a leaf on an L1 address no memory backs reads as open bus under
 * Keel (guest/abi.h), and in no case stops the VM. Both values are checked
 * under Keel only: QEMU's own SVM, the reference run, reads 0 for both
 * (its APIC is not reached through nested paging).
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define LAPIC_VERSION 0x30
#define NO_MEMORY 0xe0000000ull /* in the PCI hole, no device there */

static int read_through(u64 l2_page, u64 l1_page, u64 off, u64 *out, char *why, size_t len)
{
	*npt_leaf(NGPA(l2_page)) = l1_page | PTE_P | PTE_W | PTE_U;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	l2s.arg[0] = l2_page + off;
	if (l1_run(l2_read, NULL, why, len))
		return -1;
	*out = l2s.out[0];
	*npt_leaf(NGPA(l2_page)) = 0;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	return 0;
}

NESTED_CHECK(check_npt_l1_mmio)
{
	u64 l2 = L2_LATE + 0x10000, v = 0;
	u32 l1_version = *(volatile u32 *)(uintptr_t)(GUEST_LAPIC_BASE + LAPIC_VERSION);

	if (l1_need_l2(why, len))
		return -1;
	if (read_through(l2, GUEST_LAPIC_BASE, LAPIC_VERSION, &v, why, len))
		return -1;
	if (l1_on_keel && (u32)v != l1_version) {
		snprintf(why, len, "L2 read LAPIC version 0x%x through L1's NPT, L1 reads 0x%x",
			 (u32)v, l1_version);
		return -1;
	}
	if (read_through(l2 + SZ_4K, NO_MEMORY, 0x18, &v, why, len))
		return -1;
	if (l1_on_keel && v != ~0ull) {
		snprintf(why, len, "L2 read 0x%llx where L1's NPT points at no memory, want open bus",
			 (unsigned long long)v);
		return -1;
	}
	return 0;
}
