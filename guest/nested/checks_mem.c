// SPDX-License-Identifier: MIT
/*
 * L2's memory through both levels (L1's NPT, then Keel's mapping of L1):
 * RAM tests of the 4 KiB, 2 MiB and 1 GiB regions, accessed/dirty bits in
 * L1's NPT, remapping an L2 page (TLB_CONTROL flush, or a new ASID), and
 * the nested page faults L1 must get for what its NPT does not allow.
 */
#include <keel/string.h>
#include "guest/nested/checks.h"
#include "guest/nested/l2.h"
#include "guest/nested/nested.h"

#define RWU (PTE_P | PTE_W | PTE_U)
#define PROBE_VALUE 0x1122334455667788ull

static u64 *l1_ptr(u64 l1)
{
	return (u64 *)(uintptr_t)l1;
}

static void flush_next_run(void)
{
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
}

/* L1 fills the probes of [l2, l2 + bytes) through their backing at l1 with
 * round 1's pattern; L2 checks them and writes round 2's; L1 checks those. */
static int ram_test(u64 l2, u64 l1, u64 bytes, u64 stride, bool reversed_4k, char *why,
		    size_t len)
{
	u64 seed = 7;

	for (u64 off = 0; off < bytes; off += stride) {
		u64 back = reversed_4k ? L1_4K_PAGE(off / SZ_4K) + off % SZ_4K : l1 + off;

		*l1_ptr(back) = l2_pattern(l2 + off, seed);
	}
	l2s.arg[0] = l2;
	l2s.arg[1] = bytes;
	l2s.arg[2] = stride;
	l2s.arg[3] = seed;
	if (l1_run(l2_ram_test, NULL, why, len))
		return -1;
	for (u64 off = 0; off < bytes; off += stride) {
		u64 back = reversed_4k ? L1_4K_PAGE(off / SZ_4K) + off % SZ_4K : l1 + off;
		u64 got = *l1_ptr(back);

		if (got != l2_pattern(l2 + off, seed + 1)) {
			snprintf(why, len, "L2 wrote 0x%llx at L2 gpa 0x%llx: L1 gpa 0x%llx holds "
				 "0x%llx", (unsigned long long)l2_pattern(l2 + off, seed + 1),
				 (unsigned long long)(l2 + off), (unsigned long long)back,
				 (unsigned long long)got);
			return -1;
		}
	}
	return 0;
}

NESTED_CHECK(check_l2_ram_4k)
{
	if (l1_need_l2(why, len))
		return -1;
	/* Every page, at an offset that moves through the page. */
	return ram_test(L2_REGION_4K, L1_REGION_4K, SZ_2M, SZ_4K + 8, true, why, len);
}

NESTED_CHECK(check_l2_ram_2m)
{
	if (l1_need_l2(why, len))
		return -1;
	return ram_test(L2_REGION_2M, L1_REGION_2M, SZ_2M, SZ_4K + 8, false, why, len);
}

NESTED_CHECK(check_l2_ram_1g)
{
	if (l1_need_l2(why, len))
		return -1;
	if (!l1_caps.page1gb) {
		snprintf(why, len, "CPUID 0x80000001 edx has no Page1GB: no 1 GiB NPT leaf");
		return GUEST_TEST_SKIP;
	}
	/* Every 2 MiB, one probe a page in the first and the last 2 MiB. */
	if (ram_test(L2_REGION_1G, L1_REGION_1G, SZ_1G, SZ_2M + 64, false, why, len) ||
	    ram_test(L2_REGION_1G, L1_REGION_1G, SZ_2M, SZ_4K, false, why, len))
		return -1;
	return ram_test(L2_REGION_1G + SZ_1G - SZ_2M, L1_REGION_1G + SZ_1G - SZ_2M, SZ_2M,
			SZ_4K, false, why, len);
}

/* A 4 KiB leaf of L1's NPT with A and D cleared: L2's read sets A only,
 * its write then sets D. */
NESTED_CHECK(check_npt_accessed_dirty)
{
	u64 l2 = L2_REGION_4K + 3 * SZ_4K, *leaf, after_read, after_write;

	if (l1_need_l2(why, len))
		return -1;
	leaf = npt_leaf(NGPA(l2));
	*leaf &= ~(PTE_A | PTE_D);
	flush_next_run();
	l2s.arg[0] = l2;
	if (l1_run(l2_read, NULL, why, len))
		return -1;
	after_read = *leaf;
	l2s.arg[1] = 1;
	if (l1_run(l2_write, NULL, why, len))
		return -1;
	after_write = *leaf;
	if (!(after_read & PTE_A) || (after_read & PTE_D) || !(after_write & PTE_D)) {
		snprintf(why, len, "NPT leaf 0x%llx after L2's read, 0x%llx after its write "
			 "(want A, then A|D)", (unsigned long long)after_read,
			 (unsigned long long)after_write);
		return -1;
	}
	return 0;
}

/* L2 reads a page; L1 points its NPT leaf at another L1 page and lets the
 * next VMRUN flush (TLB_CONTROL = 1) or switches L2 to a new ASID; L2
 * must read the new page; then everything is put back. */
static int remap(bool new_asid, char *why, size_t len)
{
	u64 l2 = L2_REGION_4K + 9 * SZ_4K, old = L1_4K_PAGE(9), spare = L1_SPARE + 0x3000;
	u64 *leaf = npt_leaf(NGPA(l2)), saved = *leaf;
	int r = 0;

	*l1_ptr(old) = 0xa1a1a1a1a1a1a1a1ull;
	*l1_ptr(spare) = 0xb2b2b2b2b2b2b2b2ull;
	l2s.arg[0] = l2;
	if (l1_run(l2_read, NULL, why, len))
		return -1;
	if (l2s.out[0] != *l1_ptr(old)) {
		snprintf(why, len, "before the remap L2 read 0x%llx", (unsigned long long)l2s.out[0]);
		return -1;
	}
	*leaf = spare | RWU;
	if (new_asid)
		*vmcb32(L1_VMCB, VMCB_ASID) = L2_ASID_ALT;
	else
		flush_next_run();
	r = l1_run(l2_read, NULL, why, len);
	if (!r && l2s.out[0] != *l1_ptr(spare)) {
		snprintf(why, len, "after the remap and %s L2 read 0x%llx, want 0x%llx",
			 new_asid ? "an ASID change" : "TLB_CONTROL 1", (unsigned long long)l2s.out[0],
			 (unsigned long long)*l1_ptr(spare));
		r = -1;
	}
	*leaf = saved;
	*vmcb32(L1_VMCB, VMCB_ASID) = L2_ASID;
	flush_next_run();
	return r;
}

NESTED_CHECK(check_npt_remap_flush)
{
	if (l1_need_l2(why, len))
		return -1;
	return remap(false, why, len);
}

NESTED_CHECK(check_npt_remap_asid)
{
	if (l1_need_l2(why, len))
		return -1;
	return remap(true, why, len);
}

/* The NPF L1 expects: exit code, EXITINFO1, EXITINFO2 (exact unless
 * 'page_only'). */
static u64 npf_want1, npf_want2, npf_fix_l1, npf_ignore; /* bits of EXITINFO1 not checked */
static bool npf_page_only, npf_seen;
static u64 *npf_leaf;

static int npf_handler(const struct l2_exit *e, char *why, size_t len)
{
	bool addr_ok = npf_page_only ? (e->info2 >> 12) == (npf_want2 >> 12) : e->info2 == npf_want2;

	if (e->code != VMEXIT_NPF || npf_seen)
		return L1_UNHANDLED;
	npf_seen = true;
	if ((e->info1 & ~npf_ignore) != npf_want1 || !addr_ok) {
		snprintf(why, len, "NPF EXITINFO1 0x%llx EXITINFO2 0x%llx, want 0x%llx 0x%llx%s",
			 (unsigned long long)e->info1, (unsigned long long)e->info2,
			 (unsigned long long)npf_want1, (unsigned long long)npf_want2,
			 npf_page_only ? " (its page)" : "");
		return -1;
	}
	*npf_leaf = npf_fix_l1; /* L2 retries the access (NPF is a fault) */
	return L1_RESUME;
}

static int npf_run(void (*fn)(void), bool flush_after_fix, char *why, size_t len)
{
	npf_seen = false;
	if (flush_after_fix) /* the fix relaxes a present entry: flush */
		*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	if (l1_run(fn, npf_handler, why, len))
		return -1;
	if (!npf_seen) {
		snprintf(why, len, "L2's access did not fault");
		return -1;
	}
	return 0;
}

/* Not present: the NPF; L1 maps the page and resumes without a flush
 * (a not-present -> present edit needs none); L2 then reads it. */
NESTED_CHECK(check_npf_not_present)
{
	u64 l2 = L2_LATE + 0x88, back = L1_SPARE + 0x1000;

	if (l1_need_l2(why, len))
		return -1;
	*l1_ptr(back + 0x88) = PROBE_VALUE;
	npf_leaf = npt_leaf(NGPA(L2_LATE));
	*npf_leaf = 0;
	npf_fix_l1 = back | RWU;
	npf_want1 = NPF_U | NPF_FINAL_GPA;
	npf_want2 = l2;
	npf_page_only = false;
	npf_ignore = 0;
	l2s.arg[0] = l2;
	npf_seen = false;
	if (l1_run(l2_read, npf_handler, why, len))
		return -1;
	if (!npf_seen || l2s.out[0] != PROBE_VALUE) {
		snprintf(why, len, "%s; L2 read 0x%llx after the mapping", npf_seen ? "NPF seen" :
			 "no NPF", (unsigned long long)l2s.out[0]);
		return -1;
	}
	return 0;
}

/* Write-protected: L2's write faults with P|W|U; L1 makes it writable
 * (and flushes), the write then lands. */
NESTED_CHECK(check_npf_write_protect)
{
	u64 l2 = L2_REGION_4K + 5 * SZ_4K + 0x40, back = L1_4K_PAGE(5) + 0x40;

	if (l1_need_l2(why, len))
		return -1;
	npf_leaf = npt_leaf(NGPA(l2 & ~0xfffull));
	npf_fix_l1 = *npf_leaf | PTE_W;
	*npf_leaf &= ~PTE_W;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	npf_want1 = NPF_P | NPF_W | NPF_U | NPF_FINAL_GPA;
	npf_want2 = l2;
	npf_page_only = false;
	npf_ignore = 0;
	l2s.arg[0] = l2;
	l2s.arg[1] = PROBE_VALUE + 1;
	if (npf_run(l2_write, true, why, len))
		return -1;
	if (*l1_ptr(back) != PROBE_VALUE + 1) {
		snprintf(why, len, "after the fault L1 gpa 0x%llx holds 0x%llx",
			 (unsigned long long)back, (unsigned long long)*l1_ptr(back));
		return -1;
	}
	return 0;
}

/* No-execute: L2 calls a RET in a page L1 marked NX: the NPF has P|U|ID;
 * L1 clears NX and the RET runs. */
NESTED_CHECK(check_npf_fetch_nx)
{
	u64 l2 = L2_REGION_4K + 6 * SZ_4K + 0x10, back = L1_4K_PAGE(6) + 0x10;

	if (l1_need_l2(why, len))
		return -1;
	if (!l1_caps.nx) {
		snprintf(why, len, "CPUID 0x80000001 edx has no NX");
		return GUEST_TEST_SKIP;
	}
	*(u8 *)(uintptr_t)back = 0xc3; /* RET */
	npf_leaf = npt_leaf(NGPA(l2 & ~0xfffull));
	npf_fix_l1 = *npf_leaf & ~PTE_NX;
	*npf_leaf |= PTE_NX;
	*vmcb8(L1_VMCB, VMCB_TLB_CONTROL) = TLB_CONTROL_FLUSH_ALL;
	npf_want1 = NPF_P | NPF_U | NPF_ID | NPF_FINAL_GPA;
	npf_want2 = l2;
	npf_page_only = false;
	npf_ignore = 0;
	l2s.arg[0] = l2;
	return npf_run(l2_fetch, true, why, len);
}

/* L2's own page table is at an L2 gpa L1 has not mapped: the NPF comes
 * from L2's table walk (EXITINFO1 bit 33, not 32). L1 maps a table there
 * that points L2_WALK_VA at a known page; L2's read then returns it. */
NESTED_CHECK(check_npf_table_walk)
{
	u64 table = L1_SPARE + 0x2000, target = L2_REGION_4K + 7 * SZ_4K;
	u64 *leaf;

	if (l1_need_l2(why, len))
		return -1;
	memset(l1_ptr(table), 0, SZ_4K);
	l1_ptr(table)[0] = target | PTE_P | PTE_W;
	*l1_ptr(L1_4K_PAGE(7)) = PROBE_VALUE + 2;
	leaf = npt_leaf(NGPA(L2_LATE_PT));
	*leaf = 0;
	npf_leaf = leaf;
	npf_fix_l1 = table | RWU;
	npf_want1 = NPF_U | NPF_GPT_WALK;
	npf_want2 = L2_LATE_PT;
	npf_page_only = true;
	npf_ignore = NPF_W; /* the walk may be reported as a write (it sets A bits) */
	l2s.arg[0] = L2_WALK_VA;
	npf_seen = false;
	if (l1_run(l2_read, npf_handler, why, len))
		return -1;
	if (!npf_seen || l2s.out[0] != PROBE_VALUE + 2) {
		snprintf(why, len, "%s; L2 read 0x%llx through the new table",
			 npf_seen ? "NPF seen" : "no NPF", (unsigned long long)l2s.out[0]);
		return -1;
	}
	return 0;
}
