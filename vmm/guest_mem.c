// SPDX-License-Identifier: MIT
/*
 * Guest memory as the host touches it (emulator, loaders): guest-physical
 * through the memslots, guest-virtual through a walk of the guest's own
 * 4-level page tables. Every access goes through the MMU's host-access
 * guard (mmu_host_access_begin/end), one page at a time, so it obeys the
 * slot rules a guest access obeys: the slot read side is held while the
 * host pointer is in use (a slot cannot be deleted or moved under the
 * copy), writes to read-only slots are refused, and writes to dirty-logged
 * slots mark the page dirty. No host pointer into guest memory escapes
 * this file.
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

/* Copy between buf and guest-physical [gpa, gpa+len), page by page. */
static int guest_copy(struct vm *vm, gpa_t gpa, void *buf, size_t len, bool write)
{
	u8 *p = buf;

	while (len) {
		size_t off = gpa.v & ~PAGE_MASK, chunk = MIN(len, PAGE_SIZE - off);
		struct mmu_host_access a;
		u8 *host;
		int err = mmu_host_access_begin(vm->mmu, gpa_to_gfn(gpa), write, &a);

		if (err)
			return err;
		host = (u8 *)(uintptr_t)hfn_to_hpa(a.hfn).v + off;
		if (write)
			memcpy(host, p, chunk);
		else
			memcpy(p, host, chunk);
		mmu_host_access_end(&a);
		p += chunk;
		gpa.v += chunk;
		len -= chunk;
	}
	return 0;
}

int vmm_write_guest(struct vm *vm, gpa_t gpa, const void *src, size_t len)
{
	return guest_copy(vm, gpa, (void *)src, len, true);
}

int vmm_read_guest(struct vm *vm, gpa_t gpa, void *dst, size_t len)
{
	return guest_copy(vm, gpa, dst, len, false);
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
		u64 pte;

		if (vmm_read_guest(v->vm, GPA(table + ((va.v >> shift) & 511) * 8), &pte, 8) ||
		    !(pte & GPTE_P))
			return -EFAULT;
		if (level == 1 || (level <= 3 && (pte & GPTE_PS))) {
			*out = GPA(leaf_frame(pte, level) | (va.v & ((1ull << shift) - 1)));
			return 0;
		}
		table = pte & GPTE_ADDR;
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

		if (vmm_gva_to_gpa(v, GVA(va), &gpa) || vmm_read_guest(v->vm, gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}
