// SPDX-License-Identifier: MIT
/*
 * The guest's initial state (vmm/vcpu.h contract, guest/abi.h layout). Keel
 * writes the guest's first page tables itself, through its own mapping of
 * the backing memory: an identity map with 2 MiB pages of [0, map_top),
 * where map_top leaves at least 1 GiB of unbacked address space above RAM
 * for the guest's open-bus test.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "guest/abi.h"
#include "vmm/guest_setup.h"

#define GPTE_P BIT(0)
#define GPTE_RW BIT(1)
#define GPTE_PS BIT(7)
#define GUEST_CR0 (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG)
#define GUEST_CR4 X86_CR4_PAE
#define GUEST_EFER (EFER_LME | EFER_LMA)

static u64 *guest_table(struct vm *vm, u64 gpa)
{
	return (u64 *)(vm->mem + gpa);
}

static u64 map_top(const struct vm *vm)
{
	return MAX(4 * SZ_1G, ALIGN_UP(vm->mem_size, SZ_1G) + SZ_1G);
}

static void build_page_tables(struct vm *vm, u64 top)
{
	u64 *pml4 = guest_table(vm, KEEL_GUEST_PML4_GPA);
	u64 *pdpt = guest_table(vm, KEEL_GUEST_PDPT_GPA);

	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = KEEL_GUEST_PDPT_GPA | GPTE_P | GPTE_RW;
	for (u64 g = 0; g < top / SZ_1G; g++) {
		u64 pd_gpa = KEEL_GUEST_PD_GPA + g * PAGE_SIZE;
		u64 *pd = guest_table(vm, pd_gpa);

		for (u64 i = 0; i < 512; i++)
			pd[i] = (g * SZ_1G + i * SZ_2M) | GPTE_P | GPTE_RW | GPTE_PS;
		pdpt[g] = pd_gpa | GPTE_P | GPTE_RW;
	}
}

static u64 put_fail_name(struct vm *vm, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return 0;
	memcpy(vm->mem + KEEL_GUEST_INFO_GPA, name, n + 1);
	return KEEL_GUEST_INFO_GPA;
}

int guest_setup(struct vm *vm, const struct vm_setup *s, struct vcpu_regs *regs)
{
	u64 top = map_top(vm);

	if (top / SZ_1G > KEEL_GUEST_PD_MAX || KEEL_GUEST_LOAD_GPA + s->image_size > vm->mem_size ||
	    vm->mem_size < 2 * KEEL_GUEST_LOAD_GPA) {
		host_log("keel: guest %s (%zu bytes) does not fit %llu MiB of guest memory\n",
			 s->name, s->image_size, (unsigned long long)(vm->mem_size >> 20));
		return -E2BIG;
	}
	memcpy(vm->mem + KEEL_GUEST_LOAD_GPA, s->image, s->image_size);
	build_page_tables(vm, top);
	memset(regs, 0, sizeof(*regs));
	regs->rip = KEEL_GUEST_LOAD_GPA;
	regs->rsp = KEEL_GUEST_STACK_TOP;
	regs->rflags = X86_RFLAGS_FIXED;
	regs->cr0 = GUEST_CR0;
	regs->cr3 = KEEL_GUEST_PML4_GPA;
	regs->cr4 = GUEST_CR4;
	regs->efer = GUEST_EFER;
	regs->rdi = vm->mem_size;
	regs->rsi = put_fail_name(vm, s->fail_test);
	regs->rdx = top;
	return 0;
}
