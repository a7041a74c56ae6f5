// SPDX-License-Identifier: MIT
/*
 * VMRUN's consistency checks (AMD64 APM vol. 2, 15.5.1 "Canonicalization
 * and Consistency Checks", and 15.20 for event injection) on the VMCB12
 * image Keel copied out of L1 memory. A refused VMCB12 gets #VMEXIT with
 * EXITCODE = VMEXIT_INVALID; nothing of it reaches the hardware. Pure.
 */
#include "vmm/nested/nsvm.h"

#define CR0_PE BIT(0)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)
#define EFER_LME BIT(8)
#define EFER_SVME_BIT BIT(12)
#define ATTR_L BIT(9)
#define ATTR_D BIT(10)
#define EVENTINJ_RSVD GENMASK(30, 12)

static const char *const names[NSVM_BAD_COUNT] = {
	[NSVM_OK] = "ok",
	[NSVM_BAD_EFER_SVME] = "EFER.SVME clear",
	[NSVM_BAD_CR0_CD_NW] = "CR0.CD = 0 with CR0.NW = 1",
	[NSVM_BAD_CR0_HIGH] = "CR0[63:32] set",
	[NSVM_BAD_CR3] = "CR3 reserved bits",
	[NSVM_BAD_CR4] = "CR4 reserved bits",
	[NSVM_BAD_DR6] = "DR6[63:32] set",
	[NSVM_BAD_DR7] = "DR7[63:32] set",
	[NSVM_BAD_EFER] = "EFER reserved bits",
	[NSVM_BAD_LONG_NO_PAE] = "EFER.LME and CR0.PG without CR4.PAE",
	[NSVM_BAD_LONG_NO_PE] = "EFER.LME and CR0.PG without CR0.PE",
	[NSVM_BAD_LONG_CS] = "long mode with CS.L and CS.D",
	[NSVM_BAD_NO_VMRUN] = "VMRUN intercept clear",
	[NSVM_BAD_MSRPM] = "MSR permission map beyond MAXPHYADDR",
	[NSVM_BAD_IOPM] = "I/O permission map beyond MAXPHYADDR",
	[NSVM_BAD_EVENTINJ] = "illegal event injection",
	[NSVM_BAD_ASID] = "ASID 0",
	[NSVM_BAD_TLB_CONTROL] = "reserved TLB_CONTROL",
	[NSVM_BAD_NCR3] = "nCR3 beyond MAXPHYADDR",
	[NSVM_BAD_NP_MODE] = "nested paging with L1 outside long mode",
};

const char *nsvm_bad_name(enum nsvm_bad b)
{
	return (unsigned)b < NSVM_BAD_COUNT ? names[b] : "?";
}

static u64 above(const struct nsvm_caps *c)
{
	unsigned bits = c->maxphyaddr ? c->maxphyaddr : 36;

	return bits >= 64 ? 0 : ~((1ull << bits) - 1);
}

/* The map [base & ~0xfff, + bytes) ends below MAXPHYADDR. */
static bool map_ok(u64 base, u64 bytes, const struct nsvm_caps *c)
{
	u64 last = (base & ~0xfffull) + bytes - 1;

	return last >= (base & ~0xfffull) && !(last & above(c));
}

static enum nsvm_bad check_save(const struct vmcb_save *s, const struct nsvm_caps *c)
{
	bool lme_pg = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	if (!(s->efer & EFER_SVME_BIT))
		return NSVM_BAD_EFER_SVME;
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return NSVM_BAD_CR0_CD_NW;
	if (s->cr0 >> 32)
		return NSVM_BAD_CR0_HIGH;
	if (s->cr4 & ~(u64)NSVM_CR4_VALID)
		return NSVM_BAD_CR4;
	if (s->dr6 >> 32)
		return NSVM_BAD_DR6;
	if (s->dr7 >> 32)
		return NSVM_BAD_DR7;
	if (s->efer & ~(u64)NSVM_EFER_VALID)
		return NSVM_BAD_EFER;
	if (lme_pg && !(s->cr4 & CR4_PAE))
		return NSVM_BAD_LONG_NO_PAE;
	if (lme_pg && !(s->cr0 & CR0_PE))
		return NSVM_BAD_LONG_NO_PE;
	if (lme_pg && (s->cr3 & above(c)))
		return NSVM_BAD_CR3;
	if (lme_pg && (s->cs.attrib & ATTR_L) && (s->cs.attrib & ATTR_D))
		return NSVM_BAD_LONG_CS;
	return NSVM_OK;
}

/* Types 1, 5, 6, 7 are reserved; an exception must be a vector 0-31 other
 * than NMI's; bits 30:12 are reserved. */
static bool eventinj_ok(u64 ev)
{
	u64 type = (ev & SVM_EVENTINJ_TYPE_MASK) >> 8, vec = ev & SVM_EVENTINJ_VECTOR;

	if (!(ev & SVM_EVENTINJ_VALID))
		return true;
	if (ev & EVENTINJ_RSVD)
		return false;
	if (type == 1 || type > 4)
		return false;
	if (type == 3 && (vec > 31 || vec == 2))
		return false;
	return true;
}

static enum nsvm_bad check_control(const struct vmcb_control *k, const struct nsvm_caps *c)
{
	if (!(k->intercept4 & SVM_INTERCEPT_VMRUN))
		return NSVM_BAD_NO_VMRUN;
	if ((k->intercept3 & SVM_INTERCEPT_MSR) && !map_ok(k->msrpm_base_pa, SVM_MSRPM_BYTES, c))
		return NSVM_BAD_MSRPM;
	if ((k->intercept3 & SVM_INTERCEPT_IOIO) && !map_ok(k->iopm_base_pa, SVM_IOPM_BYTES, c))
		return NSVM_BAD_IOPM;
	if (!eventinj_ok(k->event_inj))
		return NSVM_BAD_EVENTINJ;
	if (k->asid == 0)
		return NSVM_BAD_ASID;
	if (k->tlb_control != 0 && k->tlb_control != 1 && k->tlb_control != 3 &&
	    k->tlb_control != 7)
		return NSVM_BAD_TLB_CONTROL;
	if (k->np_enable & SVM_NP_ENABLE) {
		if (k->ncr3 & above(c))
			return NSVM_BAD_NCR3;
		if (!c->l1_long)
			return NSVM_BAD_NP_MODE;
	}
	return NSVM_OK;
}

enum nsvm_bad nsvm_check_vmcb(const struct vmcb *vmcb12, const struct nsvm_caps *caps)
{
	enum nsvm_bad b = check_control(&vmcb12->ctl, caps);

	return b ? b : check_save(&vmcb12->save, caps);
}
