// SPDX-License-Identifier: MIT
#include <keel/errno.h>
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)
#define PTE_ENTRIES 512
#define PTE_ADDR_MASK GENMASK(51, 12)

static u64 *table_alloc(void)
{
	return host_alloc_pages(1); /* zeroed */
}

static u64 table_entry(const u64 *table)
{
	return ((u64)(uintptr_t)table & PTE_ADDR_MASK) | PTE_P | PTE_RW;
}

/* Fill one page directory (1 GiB of address space at 'base') with 2 MiB
 * leaves. */
static u64 *pd_build(u64 base)
{
	u64 *pd = table_alloc();

	if (!pd)
		return NULL;
	for (u64 i = 0; i < PTE_ENTRIES; i++)
		pd[i] = (base + i * SZ_2M) | PTE_P | PTE_RW | PTE_PS;
	return pd;
}

/* One PML4 entry's worth (512 GiB) starting at 'base', up to 'top'. */
static int pdpt_build(u64 *pdpt, u64 base, u64 top, bool gb_pages)
{
	for (u64 i = 0; i < PTE_ENTRIES && base + i * SZ_1G < top; i++) {
		u64 addr = base + i * SZ_1G;
		u64 *pd;

		if (gb_pages) {
			pdpt[i] = addr | PTE_P | PTE_RW | PTE_PS;
			continue;
		}
		pd = pd_build(addr);
		if (!pd)
			return -ENOMEM;
		pdpt[i] = table_entry(pd);
	}
	return 0;
}

static void enable_nx(void)
{
	if (cpuid_has_leaf(0x80000001) && (cpuid(0x80000001).edx & CPUID_80000001_EDX_NX))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

int paging_init(hpa_t top_pa)
{
	bool gb_pages = cpuid_has_leaf(0x80000001) &&
			(cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB);
	u64 top = ALIGN_UP(MAX(top_pa.v, 4 * SZ_1G), SZ_1G);
	u64 span = SZ_1G * PTE_ENTRIES;
	u64 *pml4 = table_alloc();

	if (!pml4)
		return -ENOMEM;
	for (u64 i = 0; i < PTE_ENTRIES && i * span < top; i++) {
		u64 *pdpt = table_alloc();

		if (!pdpt || pdpt_build(pdpt, i * span, top, gb_pages))
			return -ENOMEM;
		pml4[i] = table_entry(pdpt);
	}
	enable_nx();
	write_cr3((u64)(uintptr_t)pml4);
	host_log("keel: host page tables: identity map 0-%lluG with %s pages\n",
		 (unsigned long long)(top >> 30), gb_pages ? "1G" : "2M");
	return 0;
}
