// SPDX-License-Identifier: MIT
/*
 * The MSR policy table (msr_policy.h). Behaviours:
 *   regs     in struct vcpu_regs (VMCB/VMCS), with the architectural checks
 *   stored   kept in struct msr_state, reserved bits #GP
 *   fixed    reads a constant, writes #GP (capabilities, locked registers)
 *   raz/wi   reads 0, writes accepted and dropped (PMU "no counters", ...)
 * Vendor-only rows answer #GP on the other vendor.
 */
#include <keel/errno.h>
#include "vmm/dev/layout.h"
#include "vmm/msr_policy.h"
#include "vmm/vcpu.h"

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)
#define X86_CR0_PG BIT(31)
#define MTRR_CAP_VALUE (MSR_MTRR_VAR | BIT(8) | BIT(10)) /* VCNT, FIX, WC; no SMRR */
#define MTRR_DEF_E BIT(11)
#define MTRR_DEF_FE BIT(10)
#define MTRR_VALID BIT(11)
#define MTRR_TYPE_UC 0
#define MTRR_TYPE_WB 6
#define MISC_ENABLE_DEFAULT (BIT(0) | BIT(11) | BIT(12)) /* fast strings; no BTS, no PEBS */
#define HWCR_TSC_FREQ_SEL BIT(24)
#define HWCR_WRITABLE (BIT(3) | BIT(6) | BIT(8) | BIT(18) | BIT(24))
#define VM_CR_LOCK BIT(3)
#define VM_CR_SVMDIS BIT(4)
#define FEATURE_CONTROL_LOCKED BIT(0)
#define DE_CFG_LFENCE_SERIALIZE BIT(1)

enum msr_vendor { ANY, INTEL, AMD };

struct msr_row {
	u32 first, last;
	enum msr_vendor vendor;
	const char *name;
	int (*read)(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val);
	int (*write)(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val);
	u64 value; /* fixed / initial value */
};

/* ---- helpers ---- */
static bool canonical(u64 v)
{
	return (u64)((s64)(v << 16) >> 16) == v;
}

static u64 phys_mask(const struct msr_env *e)
{
	unsigned bits = e->phys_bits ? e->phys_bits : 36;

	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static bool mem_type_ok(u64 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool pat_type_ok(u64 t)
{
	return mem_type_ok(t) || t == 7;
}

/* As firmware leaves them: MTRRs on, WB by default, the PCI hole / MMIO
 * range [PLAT_PCI_HOLE_BASE, 4 GiB) UC through variable pair 0. */
static void init_state(struct msr_state *s, const struct msr_env *e)
{
	u64 fixed_wb = 0x0606060606060606ull;

	if (s->ready)
		return;
	s->ready = true;
	s->mtrr_def_type = MTRR_DEF_E | MTRR_DEF_FE | MTRR_TYPE_WB;
	for (unsigned i = 0; i < MSR_MTRR_FIXED; i++)
		s->mtrr_fixed[i] = fixed_wb;
	/* 0xa0000-0xbffff (VGA hole): UC, in FIX16K_A0000 (index 2). */
	s->mtrr_fixed[2] = 0;
	s->mtrr_var[0] = PLAT_PCI_HOLE_BASE | MTRR_TYPE_UC;
	s->mtrr_var[1] = (~(0x100000000ull - PLAT_PCI_HOLE_BASE - 1) & phys_mask(e) & PAGE_MASK) |
			 MTRR_VALID;
	s->misc_enable = MISC_ENABLE_DEFAULT;
	s->hwcr = HWCR_TSC_FREQ_SEL;
}

/* ---- behaviours ---- */
static int rd_fixed(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val);
static int wr_gp(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	return -EINVAL;
}

static int rd_zero(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = 0;
	return 0;
}

static int wr_drop(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	return 0;
}

static int rd_tsc(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = e->host_tsc + s->tsc_offset;
	return 0;
}

static int wr_tsc(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	s->tsc_offset = val - e->host_tsc;
	return 0;
}

static int rd_mtrr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	if (msr == 0x2ff)
		*val = s->mtrr_def_type;
	else if (msr >= 0x200 && msr < 0x200 + 2 * MSR_MTRR_VAR)
		*val = s->mtrr_var[msr - 0x200];
	else if (msr == 0x250)
		*val = s->mtrr_fixed[0];
	else if (msr == 0x258 || msr == 0x259)
		*val = s->mtrr_fixed[1 + msr - 0x258];
	else
		*val = s->mtrr_fixed[3 + msr - 0x268];
	return 0;
}

static int wr_mtrr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	u64 addr_bits = phys_mask(e) & PAGE_MASK;

	if (msr == 0x2ff) {
		if ((val & ~(MTRR_DEF_E | MTRR_DEF_FE | 0xffull)) || !mem_type_ok(val & 0xff))
			return -EINVAL;
		s->mtrr_def_type = val;
		return 0;
	}
	if (msr >= 0x200 && msr < 0x200 + 2 * MSR_MTRR_VAR) {
		bool is_mask = msr & 1;

		if (is_mask ? (val & ~(addr_bits | MTRR_VALID)) :
			      ((val & ~(addr_bits | 0xffull)) || !mem_type_ok(val & 0xff)))
			return -EINVAL;
		s->mtrr_var[msr - 0x200] = val;
		return 0;
	}
	for (unsigned i = 0; i < 8; i++)
		if (!mem_type_ok((val >> (8 * i)) & 0xff))
			return -EINVAL;
	if (msr == 0x250)
		s->mtrr_fixed[0] = val;
	else if (msr == 0x258 || msr == 0x259)
		s->mtrr_fixed[1 + msr - 0x258] = val;
	else
		s->mtrr_fixed[3 + msr - 0x268] = val;
	return 0;
}

static int wr_pat(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	for (unsigned i = 0; i < 8; i++)
		if (!pat_type_ok((val >> (8 * i)) & 0xff))
			return -EINVAL;
	e->regs->pat = val;
	return 0;
}

static int rd_pat(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = e->regs->pat;
	return 0;
}

static int rd_misc_enable(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = s->misc_enable;
	return 0;
}

/* Only fast strings (bit 0) is the guest's to change; the other bits keep
 * Keel's values (writes to them are ignored, as KVM does). */
static int wr_misc_enable(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	s->misc_enable = (s->misc_enable & ~BIT(0)) | (val & BIT(0));
	return 0;
}

static int rd_tsc_aux(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = s->tsc_aux;
	return 0;
}

static int wr_tsc_aux(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	if (val >> 32)
		return -EINVAL;
	s->tsc_aux = val;
	return 0;
}

static int rd_mcg_status(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = s->mcg_status;
	return 0;
}

static int wr_mcg_status(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	if (val & ~7ull) /* RIPV, EIPV, MCIP */
		return -EINVAL;
	s->mcg_status = val;
	return 0;
}

static int rd_hwcr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = s->hwcr;
	return 0;
}

static int wr_hwcr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	if (val & ~HWCR_WRITABLE)
		return -EINVAL;
	s->hwcr = val | HWCR_TSC_FREQ_SEL;
	return 0;
}

static int wr_debugctl(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	return val & ~3ull ? -EINVAL : 0; /* LBR, BTF: accepted, not modelled */
}

static u64 *regs_field(const struct msr_env *e, u32 msr)
{
	struct vcpu_regs *r = e->regs;

	switch (msr) {
	case 0x174: return &r->sysenter_cs;
	case 0x175: return &r->sysenter_esp;
	case 0x176: return &r->sysenter_eip;
	case 0xc0000081: return &r->star;
	case 0xc0000082: return &r->lstar;
	case 0xc0000083: return &r->cstar;
	case 0xc0000084: return &r->sfmask;
	case 0xc0000100: return &r->fs.base;
	case 0xc0000101: return &r->gs.base;
	default: return &r->kernel_gs_base; /* 0xc0000102 */
	}
}

static int rd_regs(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = *regs_field(e, msr);
	return 0;
}

static int wr_regs(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	switch (msr) {
	case 0x174:
		val &= 0xffff;
		break;
	case 0xc0000081:
		break; /* STAR: any value */
	case 0xc0000084:
		if (val >> 32)
			return -EINVAL;
		break;
	default: /* addresses: canonical */
		if (!canonical(val))
			return -EINVAL;
		break;
	}
	*regs_field(e, msr) = val;
	return 0;
}

static int rd_efer(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = e->regs->efer;
	return 0;
}

/* SCE, LME, NXE (with NX) are the guest's; LMA is the CPU's (kept); LME
 * cannot change while paging is on; SVME only with nested SVM offered and
 * VM_CR.SVMDIS clear; everything else (LMSLE, FFXSR, TCE) is reserved here. */
static int wr_efer(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	u64 ok = EFER_SCE | EFER_LME | EFER_LMA | (e->nx ? EFER_NXE : 0);
	u64 old = e->regs->efer;

	if (e->svm && !(s->vm_cr & VM_CR_SVMDIS))
		ok |= EFER_SVME;
	if (val & ~ok)
		return -EINVAL;
	if (((val ^ old) & EFER_LME) && (e->regs->cr0 & X86_CR0_PG))
		return -EINVAL;
	e->regs->efer = (val & ~EFER_LMA) | (old & EFER_LMA);
	return 0;
}

/* VM_CR (APM vol. 2, 15.30.1). Without nested SVM: SVM disabled and
 * locked (AMD CPUs only). With it: reads what was written, SVMDIS = 0 and
 * LOCK = 0 at reset; DPD, R_INIT, DIS_A20M, LOCK and SVMDIS are writable
 * until LOCK is set; SVMDIS cannot be set while EFER.SVME = 1. */
#define VM_CR_WRITABLE GENMASK(4, 0)

static int rd_vm_cr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	if (e->svm)
		*val = s->vm_cr;
	else if (e->vendor == CPUID_VENDOR_AMD)
		*val = VM_CR_LOCK | VM_CR_SVMDIS;
	else
		return -EINVAL;
	return 0;
}

static int wr_vm_cr(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	if (!e->svm || (s->vm_cr & VM_CR_LOCK) || (val & ~VM_CR_WRITABLE))
		return -EINVAL;
	if ((val & VM_CR_SVMDIS) && (e->regs->efer & EFER_SVME))
		return -EINVAL;
	s->vm_cr = val;
	return 0;
}

/* VM_HSAVE_PA: a page-aligned physical address below MAXPHYADDR. */
static int rd_hsave(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	if (!e->svm)
		return -EINVAL;
	*val = s->hsave_pa;
	return 0;
}

static int wr_hsave(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	if (!e->svm || (val & 0xfff) || (val & ~phys_mask(e)))
		return -EINVAL;
	s->hsave_pa = val;
	return 0;
}

/* ---- the table ---- */
static const struct msr_row rows[] = {
	{ 0x10, 0x10, ANY, "IA32_TSC", rd_tsc, wr_tsc, 0 },
	{ 0x3a, 0x3a, INTEL, "IA32_FEATURE_CONTROL", rd_fixed, wr_gp, FEATURE_CONTROL_LOCKED },
	{ 0x8b, 0x8b, ANY, "IA32_BIOS_SIGN_ID / PATCH_LEVEL", rd_zero, wr_drop, 0 },
	{ 0xfe, 0xfe, ANY, "IA32_MTRRCAP", rd_fixed, wr_gp, MTRR_CAP_VALUE },
	{ 0x174, 0x176, ANY, "IA32_SYSENTER_CS/ESP/EIP", rd_regs, wr_regs, 0 },
	{ 0x179, 0x179, ANY, "IA32_MCG_CAP", rd_fixed, wr_gp, 0 },
	{ 0x17a, 0x17a, ANY, "IA32_MCG_STATUS", rd_mcg_status, wr_mcg_status, 0 },
	{ 0x1a0, 0x1a0, INTEL, "IA32_MISC_ENABLE", rd_misc_enable, wr_misc_enable, 0 },
	{ 0x1d9, 0x1d9, ANY, "IA32_DEBUGCTL", rd_zero, wr_debugctl, 0 },
	{ 0x200, 0x200 + 2 * MSR_MTRR_VAR - 1, ANY, "IA32_MTRR_PHYSBASE/MASK0-7", rd_mtrr, wr_mtrr, 0 },
	{ 0x250, 0x250, ANY, "IA32_MTRR_FIX64K_00000", rd_mtrr, wr_mtrr, 0 },
	{ 0x258, 0x259, ANY, "IA32_MTRR_FIX16K_80000/A0000", rd_mtrr, wr_mtrr, 0 },
	{ 0x268, 0x26f, ANY, "IA32_MTRR_FIX4K_C0000-F8000", rd_mtrr, wr_mtrr, 0 },
	{ 0x277, 0x277, ANY, "IA32_PAT", rd_pat, wr_pat, 0 },
	{ 0x2ff, 0x2ff, ANY, "IA32_MTRR_DEF_TYPE", rd_mtrr, wr_mtrr, 0 },
	{ 0xc0000080, 0xc0000080, ANY, "EFER", rd_efer, wr_efer, 0 },
	{ 0xc0000081, 0xc0000084, ANY, "STAR/LSTAR/CSTAR/SFMASK", rd_regs, wr_regs, 0 },
	{ 0xc0000100, 0xc0000102, ANY, "FS_BASE/GS_BASE/KERNEL_GS_BASE", rd_regs, wr_regs, 0 },
	{ 0xc0000103, 0xc0000103, ANY, "TSC_AUX", rd_tsc_aux, wr_tsc_aux, 0 },
	{ 0xc0010000, 0xc0010007, AMD, "PERF_CTL0-3/PERF_CTR0-3 (no counters)", rd_zero, wr_drop, 0 },
	{ 0xc0010010, 0xc0010010, AMD, "SYSCFG", rd_zero, wr_drop, 0 },
	{ 0xc0010015, 0xc0010015, AMD, "HWCR", rd_hwcr, wr_hwcr, 0 },
	{ 0xc001001a, 0xc001001a, AMD, "TOP_MEM", rd_fixed, wr_drop, PLAT_PCI_HOLE_BASE },
	{ 0xc001001d, 0xc001001d, AMD, "TOP_MEM2", rd_zero, wr_drop, 0 },
	{ 0xc001001f, 0xc001001f, AMD, "NB_CFG", rd_zero, wr_drop, 0 },
	{ 0xc0010055, 0xc0010055, AMD, "INT_PENDING_MSG (no C1E)", rd_zero, wr_drop, 0 },
	{ 0xc0010112, 0xc0010113, AMD, "TSEG_BASE/TSEG_MASK", rd_zero, wr_drop, 0 },
	{ 0xc0010114, 0xc0010114, ANY, "VM_CR (nested SVM; else SVM disabled, locked)",
	  rd_vm_cr, wr_vm_cr, 0 },
	{ 0xc0010117, 0xc0010117, ANY, "VM_HSAVE_PA (nested SVM)", rd_hsave, wr_hsave, 0 },
	{ 0xc0010200, 0xc001020b, AMD, "PERF_CTL/PERF_CTR core 0-5 (no counters)", rd_zero, wr_drop, 0 },
	{ 0xc0011029, 0xc0011029, AMD, "DE_CFG (LFENCE serializing)", rd_fixed, wr_drop,
	  DE_CFG_LFENCE_SERIALIZE },
};

static const struct msr_row *find(u32 msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		if (msr >= rows[i].first && msr <= rows[i].last)
			return &rows[i];
	return NULL;
}

static int rd_fixed(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	*val = find(msr)->value;
	return 0;
}

static const struct msr_row *row_for(const struct msr_env *e, u32 msr)
{
	const struct msr_row *r = find(msr);

	if (!r)
		return NULL;
	if (r->vendor == INTEL && e->vendor != CPUID_VENDOR_INTEL)
		return NULL;
	if (r->vendor == AMD && e->vendor != CPUID_VENDOR_AMD)
		return NULL;
	return r;
}

static int gp(struct msr_state *s, u32 msr)
{
	s->gp_count++;
	s->gp_last = msr;
	return -EINVAL;
}

int msr_policy_read(struct msr_state *s, const struct msr_env *e, u32 msr, u64 *val)
{
	const struct msr_row *r = row_for(e, msr);

	init_state(s, e);
	if (!r || r->read(s, e, msr, val))
		return gp(s, msr);
	return 0;
}

int msr_policy_write(struct msr_state *s, const struct msr_env *e, u32 msr, u64 val)
{
	const struct msr_row *r = row_for(e, msr);

	init_state(s, e);
	if (!r || r->write(s, e, msr, val))
		return gp(s, msr);
	return 0;
}

const char *msr_policy_name(u32 msr)
{
	const struct msr_row *r = find(msr);

	return r ? r->name : "";
}
