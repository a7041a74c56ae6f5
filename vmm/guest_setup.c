// SPDX-License-Identifier: MIT
/*
 * The guest's initial state (vmm/vcpu.h contract, guest/abi.h layout). Keel
 * writes the guest's first page tables itself, into guest RAM through the
 * memslots: an identity map with 2 MiB pages of [0, map_top), where map_top
 * leaves at least 1 GiB of unbacked address space above RAM for the
 * guest's open-bus test.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "guest/abi.h"
#include "vmm/guest_setup.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

#define GPTE_P BIT(0)
#define GPTE_RW BIT(1)
#define GPTE_PS BIT(7)
#define GPTE_ENTRIES 512

static u64 map_top(const struct vm *vm)
{
	return MAX(4 * SZ_1G, ALIGN_UP(vm->mem_size, SZ_1G) + SZ_1G);
}

/* Fill one page-table page of guest RAM; entry i = first + i * step. */
static int write_table(struct vm *vm, u64 table_gpa, unsigned n, u64 first, u64 step)
{
	u64 *t = vmm_gpa_ptr(vm, GPA(table_gpa), PAGE_SIZE);

	if (!t)
		return -EFAULT;
	memset(t, 0, PAGE_SIZE);
	for (unsigned i = 0; i < n; i++)
		t[i] = first + i * step;
	return 0;
}

static int build_page_tables(struct vm *vm, u64 top)
{
	unsigned gigs = (unsigned)(top / SZ_1G);
	int err = write_table(vm, KEEL_GUEST_PML4_GPA, 1, KEEL_GUEST_PDPT_GPA | GPTE_P | GPTE_RW, 0);

	if (!err)
		err = write_table(vm, KEEL_GUEST_PDPT_GPA, gigs,
				  KEEL_GUEST_PD_GPA | GPTE_P | GPTE_RW, PAGE_SIZE);
	for (unsigned g = 0; g < gigs && !err; g++)
		err = write_table(vm, KEEL_GUEST_PD_GPA + g * PAGE_SIZE, GPTE_ENTRIES,
				  g * SZ_1G | GPTE_P | GPTE_RW | GPTE_PS, SZ_2M);
	return err;
}

/* The guest-fail name for the guest, or 0 for none. */
static u64 put_fail_name(struct vm *vm, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || vmm_write_guest(vm, GPA(KEEL_GUEST_INFO_GPA), name, n + 1))
		return 0;
	return KEEL_GUEST_INFO_GPA;
}

static void initial_regs(const struct vm *vm, struct vcpu_regs *regs, u64 top, u64 fail)
{
	vcpu_state_long64(regs, VCPU_SEL_CODE64, VCPU_SEL_DATA);
	regs->rip = KEEL_GUEST_LOAD_GPA;
	regs->rsp = KEEL_GUEST_STACK_TOP;
	regs->cr3 = KEEL_GUEST_PML4_GPA;
	regs->rdi = vm->mem_size;
	regs->rsi = fail;
	regs->rdx = top;
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
	if (vmm_write_guest(vm, GPA(KEEL_GUEST_LOAD_GPA), s->image, s->image_size) ||
	    build_page_tables(vm, top)) {
		host_log("keel: guest %s: the low guest RAM layout is not backed\n", s->name);
		return -EFAULT;
	}
	initial_regs(vm, regs, top, put_fail_name(vm, s->fail_test));
	return 0;
}
