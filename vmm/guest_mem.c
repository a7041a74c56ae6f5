// SPDX-License-Identifier: MIT
/*
 * Guest memory as the emulator reads it: guest-physical through the
 * memslots (mmu_gfn_to_hfn), guest-virtual through a walk of the guest's
 * own 4-level page tables. Read-only use; a gpa in no slot is never turned
 * into a host pointer.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "mmu/mmu.h"
#include "vmm/vmm.h"

#define GPTE_P BIT(0)
#define GPTE_PS BIT(7)
#define GPTE_ADDR GENMASK(51, 12)
#define X86_CR4_LA57 BIT(12)

void *vmm_gpa_ptr(struct vm *vm, gpa_t gpa, size_t len)
{
	hfn_t hfn;
	u32 flags;

	if ((gpa.v & ~PAGE_MASK) + len > PAGE_SIZE)
		return NULL;
	if (!mmu_gfn_to_hfn(vm->mmu, gpa_to_gfn(gpa), &hfn, &flags))
		return NULL;
	return (u8 *)(uintptr_t)hfn_to_hpa(hfn).v + (gpa.v & ~PAGE_MASK);
}

int vmm_write_guest(struct vm *vm, gpa_t gpa, const void *src, size_t len)
{
	const u8 *from = src;

	while (len) {
		size_t chunk = MIN(len, PAGE_SIZE - (gpa.v & ~PAGE_MASK));
		u8 *to = vmm_gpa_ptr(vm, gpa, chunk);

		if (!to)
			return -EFAULT;
		memcpy(to, from, chunk);
		from += chunk;
		gpa.v += chunk;
		len -= chunk;
	}
	return 0;
}

/* Frame bits of a leaf at 'level' (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB). */
static u64 leaf_frame(u64 pte, int level)
{
	return pte & GPTE_ADDR & ~((1ull << (12 + 9 * (level - 1))) - 1);
}

int vmm_gva_to_gpa(struct vcpu *v, gva_t va, gpa_t *out)
{
	u64 table = v->regs.cr3 & GPTE_ADDR;

	if (!(v->regs.cr0 & X86_CR0_PG)) {
		*out = GPA(va.v);
		return 0;
	}
	if (!(v->regs.efer & EFER_LMA) || (v->regs.cr4 & X86_CR4_LA57))
		return -ENOTSUP; /* Keel's guests run in 4-level long mode */
	for (int level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		u64 *pte = vmm_gpa_ptr(v->vm, GPA(table + ((va.v >> shift) & 511) * 8), 8);

		if (!pte || !(*pte & GPTE_P))
			return -EFAULT;
		if (level == 1 || (level <= 3 && (*pte & GPTE_PS))) {
			*out = GPA(leaf_frame(*pte, level) | (va.v & ((1ull << shift) - 1)));
			return 0;
		}
		table = *pte & GPTE_ADDR;
	}
	return -EFAULT;
}

size_t vmm_fetch_insn(struct vcpu *v, u8 *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		u64 va = v->regs.rip + got;
		size_t chunk = MIN(len - got, PAGE_SIZE - (va & ~PAGE_MASK));
		gpa_t gpa;
		const u8 *src;

		if (vmm_gva_to_gpa(v, GVA(va), &gpa))
			break;
		src = vmm_gpa_ptr(v->vm, gpa, chunk);
		if (!src)
			break;
		memcpy(buf + got, src, chunk);
		got += chunk;
	}
	return got;
}
