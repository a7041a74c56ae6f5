// SPDX-License-Identifier: MIT
/*
 * What L1 must do to make L2 see its NPT and page-table edits, and what
 * Keel must honour: TLB_CONTROL 3 (flush this ASID, when FlushByAsid is
 * offered), INVLPGA for one L2 virtual page, and two NPTs (nCR3) under two
 * ASIDs alternated with no flush at all.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define RWU (PTE_P | PTE_W | PTE_U)

static u64 *ctl(unsigned off)
{
	return vmcb64(L1_VMCB, off);
}

static u64 *l1_ptr(u64 l1)
{
	return (u64 *)(uintptr_t)l1;
}

static int read_expect(u64 l2, u64 want, const char *when, char *why, size_t len)
{
	l2s.arg[0] = l2;
	if (l1_run(l2_read, NULL, why, len))
		return -1;
	if (l2s.out[0] != want) {
		snprintf(why, len, "%s: L2 read 0x%llx at 0x%llx, want 0x%llx", when,
			 (unsigned long long)l2s.out[0], (unsigned long long)l2,
			 (unsigned long long)want);
		return -1;
	}
	return 0;
}

NESTED_CHECK(check_npt_remap_flush_asid)
{
	u64 l2 = L2_REGION_4K + 12 * SZ_4K, old = L1_4K_PAGE(12), spare = L1_SPARE + 0x5000;
	u64 *leaf, saved;
	int r;

	if (l1_need_l2(why, len))
		return -1;
	if (!l1_caps.flush_by_asid) {
		snprintf(why, len, "CPUID 0x8000000a edx has no FlushByAsid");
		return GUEST_TEST_SKIP;
	}
	leaf = npt_leaf(NGPA(l2));
	saved = *leaf;
	*l1_ptr(old) = 0xc3c3c3c3c3c3c3c3ull;
	*l1_ptr(spare) = 0xd4d4d4d4d4d4d4d4ull;
	r = read_expect(l2, *l1_ptr(old), "before the remap", why, len);
	if (!r) {
		*leaf = spare | RWU;
		*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ASID;
		r = read_expect(l2, *l1_ptr(spare), "after the remap and TLB_CONTROL 3", why, len);
	}
	*leaf = saved;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	return r;
}

/* L2's own page table for L2_WALK_VA lives at L2 gpa L2_LATE_PT; L1 points
 * its entry at another page and invalidates that one L2 virtual page. */
NESTED_CHECK(check_invlpga)
{
	u64 table = L1_SPARE + 0x6000, p7 = L2_REGION_4K + 13 * SZ_4K, p8 = L2_REGION_4K + 14 * SZ_4K;
	int r;

	if (l1_need_l2(why, len))
		return -1;
	memset(l1_ptr(table), 0, SZ_4K);
	l1_ptr(table)[0] = p7 | PTE_P | PTE_W;
	*l1_ptr(L1_4K_PAGE(13)) = 0x1313131313131313ull;
	*l1_ptr(L1_4K_PAGE(14)) = 0x1414141414141414ull;
	*npt_leaf(NGPA(L2_LATE_PT)) = table | RWU;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	r = read_expect(L2_WALK_VA, *l1_ptr(L1_4K_PAGE(13)), "before the edit", why, len);
	if (r)
		return r;
	l1_ptr(table)[0] = p8 | PTE_P | PTE_W;
	asm volatile("invlpga" : : "a"(L2_WALK_VA), "c"(L2_ASID) : "memory");
	return read_expect(L2_WALK_VA, *l1_ptr(L1_4K_PAGE(14)), "after L2's PTE edit and INVLPGA",
			   why, len);
}

/* Two NPTs differing in one page, under ASIDs 1 and 2, alternated with
 * TLB_CONTROL 0: each VMRUN must translate through its own nCR3. */
NESTED_CHECK(check_npt_two_roots)
{
	u64 l2 = L2_REGION_4K + 11 * SZ_4K, a = L1_4K_PAGE(11), b = L1_SPARE + 0x4000;
	u64 root_a = npt_root(), root_b;
	int r = 0;

	if (l1_need_l2(why, len))
		return -1;
	*(u64 *)(uintptr_t)a = 0xaaaa0000aaaa0000ull;
	*(u64 *)(uintptr_t)b = 0xbbbb0000bbbb0000ull;
	root_b = npt_clone_with(NGPA(l2), GPA(b), PTE_P | PTE_W | PTE_U);
	if (!root_b) {
		snprintf(why, len, "out of NPT table pages");
		return -1;
	}
	l2s.arg[0] = l2;
	for (unsigned i = 0; i < 6 && !r; i++) {
		bool use_b = i & 1;
		u64 want = *(u64 *)(uintptr_t)(use_b ? b : a);

		*ctl(VMCB_NCR3) = use_b ? root_b : root_a;
		*vmcb32(L1_VMCB, VMCB_ASID) = use_b ? L2_ASID_ALT : L2_ASID;
		r = l1_run(l2_read, NULL, why, len);
		if (!r && l2s.out[0] != want) {
			snprintf(why, len, "run %u on NPT %c (ASID %u): L2 read 0x%llx, want 0x%llx", i,
				 use_b ? 'B' : 'A', use_b ? L2_ASID_ALT : L2_ASID,
				 (unsigned long long)l2s.out[0], (unsigned long long)want);
			r = -1;
		}
	}
	*ctl(VMCB_NCR3) = root_a;
	*vmcb32(L1_VMCB, VMCB_ASID) = L2_ASID;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	return r;
}
