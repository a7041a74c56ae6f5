// SPDX-License-Identifier: MIT
/* Entry states of a vCPU (vmm/vcpu_state.h). Pure: tested hosted. */
#include <keel/string.h>
#include "vmm/vcpu_state.h"

#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_VM BIT(17)

static struct vcpu_seg seg(u16 sel, u16 attr, u32 limit, u64 base)
{
	return (struct vcpu_seg){ .sel = sel, .attr = attr, .limit = limit, .base = base };
}

void vcpu_state_reset(struct vcpu_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags = RFLAGS_FIXED;
	r->dr6 = VCPU_DR6_INIT;
	r->dr7 = VCPU_DR7_INIT;
	r->pat = VCPU_PAT_INIT;
	r->xcr0 = VCPU_XCR0_INIT;
	r->gdtr.limit = 0xffff;
	r->idtr.limit = 0xffff;
	r->ldtr = seg(0, 0, 0, 0); /* unusable */
}

static void flat_data(struct vcpu_regs *r, struct vcpu_seg d)
{
	r->ds = r->es = r->ss = r->fs = r->gs = d;
}

void vcpu_state_long64(struct vcpu_regs *r, u16 code_sel, u16 data_sel)
{
	vcpu_state_reset(r);
	r->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	r->cr4 = CR4_PAE;
	r->efer = EFER_LME | EFER_LMA;
	r->cs = seg(code_sel, VCPU_ATTR_CODE64, 0xffffffff, 0);
	flat_data(r, seg(data_sel, VCPU_ATTR_DATA32, 0xffffffff, 0));
	r->tr = seg(VCPU_SEL_TSS, VCPU_ATTR_TSS_BUSY, 0x67, 0);
}

void vcpu_state_prot32(struct vcpu_regs *r, u16 code_sel, u16 data_sel)
{
	vcpu_state_reset(r);
	r->cr0 = CR0_PE | CR0_ET;
	r->cs = seg(code_sel, VCPU_ATTR_CODE32, 0xffffffff, 0);
	flat_data(r, seg(data_sel, VCPU_ATTR_DATA32, 0xffffffff, 0));
	r->tr = seg(0, VCPU_ATTR_TSS_BUSY, 0xffff, 0);
}

void vcpu_state_real_sipi(struct vcpu_regs *r, u8 vector)
{
	vcpu_state_reset(r);
	r->cr0 = CR0_ET;
	r->cs = seg((u16)(vector << 8), VCPU_ATTR_CODE16, 0xffff, (u64)vector << 12);
	flat_data(r, seg(0, VCPU_ATTR_DATA16, 0xffff, 0));
	r->tr = seg(0, VCPU_ATTR_TSS_BUSY, 0xffff, 0);
	r->rip = 0;
}

enum vcpu_mode vcpu_mode(const struct vcpu_regs *r)
{
	if (!(r->cr0 & CR0_PE))
		return VCPU_MODE_REAL;
	if ((r->efer & EFER_LMA) && (r->cs.attr & VCPU_SEG_L))
		return VCPU_MODE_LONG64;
	if (r->rflags & RFLAGS_VM)
		return VCPU_MODE_VM86;
	return (r->cs.attr & VCPU_SEG_DB) ? VCPU_MODE_PROT32 : VCPU_MODE_PROT16;
}

unsigned vcpu_cpl(const struct vcpu_regs *r)
{
	switch (vcpu_mode(r)) {
	case VCPU_MODE_REAL:
		return 0;
	case VCPU_MODE_VM86:
		return 3;
	default:
		return (r->ss.attr >> 5) & 3;
	}
}

unsigned vcpu_code_bits(const struct vcpu_regs *r)
{
	switch (vcpu_mode(r)) {
	case VCPU_MODE_LONG64:
		return 64;
	case VCPU_MODE_PROT32:
		return 32;
	default:
		return 16;
	}
}

/* vmm_seg_linear() indexes ES..GS as an array in encoding order. */
_Static_assert(offsetof(struct vcpu_regs, gs) - offsetof(struct vcpu_regs, es) ==
		       5 * sizeof(struct vcpu_seg) &&
	       offsetof(struct vcpu_regs, ds) - offsetof(struct vcpu_regs, es) ==
		       3 * sizeof(struct vcpu_seg),
	       "segments ES CS SS DS FS GS in encoding order");
