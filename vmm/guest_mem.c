// SPDX-License-Identifier: MIT
/*
 * Guest memory as the host touches it (emulator, loaders, string I/O):
 * guest-physical through the memslots, guest-virtual through a walk of the
 * guest's own page tables in whatever mode it runs: paging off, 32-bit
 * (4 MiB pages with CR4.PSE), PAE, 4-level and 5-level. Every access goes
 * through the MMU's host-access guard (mmu_host_access_begin/end), one page
 * at a time, so it obeys the slot rules a guest access obeys: the slot read
 * side is held while the host pointer is in use (a slot cannot be deleted
 * or moved under the copy), writes to read-only slots are refused, and
 * writes to dirty-logged slots mark the page dirty. No host pointer into
 * guest memory escapes this file.
 */
#include <keel/errno.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "mmu/mmu.h"
#include "vmm/nested/nested.h"
#include "vmm/vcpu_state.h"
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

#define GPTE_RW BIT(1)
#define GPTE_US BIT(2)
#define X86_CR4_PSE BIT(4)
#define PF_P BIT(0)
#define PF_W BIT(1)
#define PF_U BIT(2)

/* One paging format: entry width, levels, index bits per level. */
struct walk_fmt {
	unsigned levels, entry_bytes, bits_per_level;
	bool large_at_2, large_at_3; /* PS honoured at level 2 (PD) / 3 (PDPT) */
};

/* Guest-physical memory of the vCPU's running level: L1's, or L2's through
 * L1's nested page table (vmm/nested/). 'len' stays within one page. */
static int level_copy(struct vcpu *v, u64 gpa, void *buf, size_t len, bool write)
{
	gpa_t l1;

	if (vmm_nested_gpa(v, gpa, write, &l1))
		return -EFAULT;
	return write ? vmm_write_guest(v->vm, l1, buf, len) : vmm_read_guest(v->vm, l1, buf, len);
}

static u64 read_pte(struct vcpu *v, u64 gpa, unsigned bytes, bool *ok)
{
	u64 pte = 0;

	*ok = !level_copy(v, gpa, &pte, bytes, false); /* little-endian: u32 in the low half */
	return *ok ? pte : 0;
}

/* The frame of a large leaf at 'level' of a 4-byte-entry (32-bit) table:
 * bits 13-20 of a 4 MiB PDE are physical address bits 32-39 (PSE-36). */
static u64 leaf_base(u64 pte, unsigned level, const struct walk_fmt *f)
{
	unsigned shift = 12 + f->bits_per_level * (level - 1);

	if (f->entry_bytes == 4 && level == 2)
		return (pte & 0xffc00000ull) | ((pte & 0x1fe000ull) << 19);
	return pte & GPTE_ADDR & ~((1ull << shift) - 1);
}

/* Walk from 'table' (the top table's gpa) through f's levels. */
static int walk(struct vcpu *v, const struct walk_fmt *f, u64 table, u64 va, bool write,
		gpa_t *out, u32 *pf)
{
	bool user = vcpu_cpl(&v->regs) == 3, rw = true, us = true, ok;

	for (unsigned level = f->levels; level >= 1; level--) {
		unsigned shift = 12 + f->bits_per_level * (level - 1);
		u64 idx = (va >> shift) & ((1ull << f->bits_per_level) - 1);
		u64 pte = read_pte(v, table + idx * f->entry_bytes, f->entry_bytes, &ok);
		bool large = (level == 2 && f->large_at_2) || (level == 3 && f->large_at_3);

		if (!ok || !(pte & GPTE_P)) {
			*pf = (write ? PF_W : 0) | (user ? PF_U : 0);
			return -EFAULT;
		}
		rw &= !!(pte & GPTE_RW);
		us &= !!(pte & GPTE_US);
		if (level == 1 || (large && (pte & GPTE_PS))) {
			bool wp = (v->regs.cr0 & X86_CR0_WP) || user;

			if ((user && !us) || (write && !rw && wp)) {
				*pf = PF_P | (write ? PF_W : 0) | (user ? PF_U : 0);
				return -EFAULT;
			}
			*out = GPA(leaf_base(pte, level, f) | (va & ((1ull << shift) - 1)));
			return 0;
		}
		table = pte & (f->entry_bytes == 8 ? GPTE_ADDR : 0xfffff000ull);
	}
	return -EFAULT;
}

int vmm_translate(struct vcpu *v, u64 va, bool write, gpa_t *out, u32 *pf)
{
	static const struct walk_fmt four = { 4, 8, 9, true, true };
	static const struct walk_fmt five = { 5, 8, 9, true, true };
	static const struct walk_fmt pae = { 2, 8, 9, true, false };
	const struct vcpu_regs *r = &v->regs;
	struct walk_fmt legacy = { 2, 4, 10, !!(r->cr4 & X86_CR4_PSE), false };
	u64 pdpte;
	bool ok;

	*pf = 0;
	if (!(r->cr0 & X86_CR0_PG)) {
		*out = GPA(va & 0xffffffffull);
		return 0;
	}
	if (r->efer & EFER_LMA)
		return walk(v, (r->cr4 & X86_CR4_LA57) ? &five : &four, r->cr3 & GPTE_ADDR, va,
			    write, out, pf);
	va &= 0xffffffffull;
	if (!(r->cr4 & X86_CR4_PAE))
		return walk(v, &legacy, r->cr3 & 0xfffff000ull, va, write, out, pf);
	/* PAE: four PDPTEs at CR3[31:5], then a 2-level walk of 8-byte entries. */
	pdpte = read_pte(v, (r->cr3 & 0xffffffe0ull) + (va >> 30) * 8, 8, &ok);
	if (!ok || !(pdpte & GPTE_P)) {
		*pf = (write ? PF_W : 0) | (vcpu_cpl(r) == 3 ? PF_U : 0);
		return -EFAULT;
	}
	return walk(v, &pae, pdpte & GPTE_ADDR, va, write, out, pf);
}

int vmm_gva_to_gpa(struct vcpu *v, gva_t va, gpa_t *out)
{
	u32 pf;

	return vmm_translate(v, va.v, false, out, &pf);
}

u64 vmm_seg_linear(const struct vcpu *v, int seg, u64 offset)
{
	const struct vcpu_seg *s = &(&v->regs.es)[seg];

	if (vcpu_mode(&v->regs) == VCPU_MODE_LONG64)
		return (seg == 4 || seg == 5) ? s->base + offset : offset; /* FS, GS */
	return (s->base + offset) & 0xffffffffull;
}

int vmm_linear_copy(struct vcpu *v, u64 lin, void *buf, size_t n, bool write, u32 *pf,
		    u64 *fault_lin)
{
	u8 *b = buf;

	while (n) {
		size_t chunk = MIN(n, PAGE_SIZE - (lin & ~PAGE_MASK));
		gpa_t gpa;
		int err;

		if (vmm_translate(v, lin, write, &gpa, pf)) {
			*fault_lin = lin;
			return -EFAULT;
		}
		err = level_copy(v, gpa.v, b, chunk, write);
		if (err)
			return -ENXIO;
		b += chunk;
		lin += chunk;
		n -= chunk;
	}
	return 0;
}

size_t vmm_fetch_insn(struct vcpu *v, u8 *buf, size_t len)
{
	size_t got = 0;
	u64 ip = vcpu_code_bits(&v->regs) == 64 ? v->regs.rip : v->regs.rip & 0xffffffffull;

	while (got < len) {
		u64 va = vmm_seg_linear(v, 1 /* CS */, ip + got);
		size_t chunk = MIN(len - got, PAGE_SIZE - (va & ~PAGE_MASK));
		gpa_t gpa;

		if (vmm_gva_to_gpa(v, GVA(va), &gpa) || level_copy(v, gpa.v, buf + got, chunk, false))
			break;
		got += chunk;
	}
	return got;
}
