// SPDX-License-Identifier: MIT
/*
 * L1's SVM instructions (APM vol. 2, ch. 15 and the instruction pages of
 * vol. 3): VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA at CPL 0. They
 * always exit (Keel's VMCB01 intercepts them); the CPU raised #GP itself
 * at CPL > 0 (vmm/exit.c). Here: #UD without EFER.SVME or with paging off
 * (as KVM), SKINIT always #UD (not offered), #GP(0) at CPL > 0 or for an
 * rAX that is not page-aligned, beyond MAXPHYADDR, or not L1 RAM.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "vmm/insn_decode.h"
#include "vmm/nested/nested.h"
#include "vmm/nested/nsvm.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

static bool rax_address(struct vcpu *v, gpa_t *out)
{
	u64 a = vcpu_code_bits(&v->regs) == 64 ? v->regs.rax : (u32)v->regs.rax;

	if ((a & 0xfff) || (a >> nsvm_phys_bits()))
		return false;
	*out = GPA(a);
	return true;
}

static void gp0(struct vcpu *v)
{
	vmm_inject_exception(v, X86_VEC_GP, true, 0);
}

static void seg_from(struct vcpu_seg *d, const struct vmcb_seg *s)
{
	*d = (struct vcpu_seg){ .sel = s->selector, .attr = s->attrib, .limit = s->limit,
				.base = s->base };
}

static void seg_to(struct vmcb_seg *d, const struct vcpu_seg *s)
{
	*d = (struct vmcb_seg){ .selector = s->sel, .attrib = s->attr, .limit = s->limit,
				.base = s->base };
}

/* VMLOAD / VMSAVE: FS, GS, TR, LDTR with their hidden parts, KernelGSBase,
 * STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP. */
static bool vmload(struct vcpu *v, gpa_t at)
{
	struct vmcb_save s;
	struct vcpu_regs *r = &v->regs;

	if (vmm_read_guest(v->vm, GPA(at.v + 0x400), &s, sizeof(s)))
		return false;
	seg_from(&r->fs, &s.fs);
	seg_from(&r->gs, &s.gs);
	seg_from(&r->tr, &s.tr);
	seg_from(&r->ldtr, &s.ldtr);
	r->kernel_gs_base = s.kernel_gs_base;
	r->star = s.star;
	r->lstar = s.lstar;
	r->cstar = s.cstar;
	r->sfmask = s.sfmask;
	r->sysenter_cs = s.sysenter_cs;
	r->sysenter_esp = s.sysenter_esp;
	r->sysenter_eip = s.sysenter_eip;
	return true;
}

#define SAVE_OFF(f) (0x400 + offsetof(struct vmcb_save, f))

static bool vmsave(struct vcpu *v, gpa_t at)
{
	struct vmcb_save s;
	const struct vcpu_regs *r = &v->regs;
	int err = 0;

	seg_to(&s.fs, &r->fs);
	seg_to(&s.gs, &r->gs);
	seg_to(&s.tr, &r->tr);
	seg_to(&s.ldtr, &r->ldtr);
	s.star = r->star;
	s.lstar = r->lstar;
	s.cstar = r->cstar;
	s.sfmask = r->sfmask;
	s.kernel_gs_base = r->kernel_gs_base;
	s.sysenter_cs = r->sysenter_cs;
	s.sysenter_esp = r->sysenter_esp;
	s.sysenter_eip = r->sysenter_eip;
	/* FS and GS are adjacent, then LDTR, TR; the MSRs are one block. */
	err |= vmm_write_guest(v->vm, GPA(at.v + SAVE_OFF(fs)), &s.fs, 2 * sizeof(s.fs));
	err |= vmm_write_guest(v->vm, GPA(at.v + SAVE_OFF(ldtr)), &s.ldtr, sizeof(s.ldtr));
	err |= vmm_write_guest(v->vm, GPA(at.v + SAVE_OFF(tr)), &s.tr, sizeof(s.tr));
	err |= vmm_write_guest(v->vm, GPA(at.v + SAVE_OFF(star)), &s.star,
			       SAVE_OFF(cr2) - SAVE_OFF(star));
	return !err;
}

static unsigned l1_insn_len(struct vcpu *v, u64 code)
{
	u8 b[INSN_MAX_LEN];
	size_t n = vmm_fetch_insn(v, b, sizeof(b));

	return nsvm_insn_len(code, b, n, vcpu_code_bits(&v->regs));
}

static void invlpga(struct vcpu *v, struct nsvm_vcpu *n)
{
	u64 va = vcpu_code_bits(&v->regs) == 64 ? v->regs.rax : (u32)v->regs.rax;

	if (v->vm->nmmu)
		nmmu_invlpga(v->vm->nmmu, (u32)v->regs.rcx, GVA(va));
	n->l2_flush = true; /* L2 without nested paging: Keel's L2 ASID */
}

void vmm_nested_svm_insn(struct vcpu *v)
{
	u64 code = v->exit.raw_reason;
	struct nsvm_vcpu *n;
	unsigned len;
	gpa_t at;

	if (!v->vm->ops->nested || code == SVM_EXIT_SKINIT || !(v->regs.efer & EFER_SVME) ||
	    !(v->regs.cr0 & X86_CR0_PG)) {
		vmm_inject_exception(v, X86_VEC_UD, false, 0);
		return;
	}
	if (vcpu_cpl(&v->regs)) {
		gp0(v);
		return;
	}
	n = nsvm_get(v);
	len = l1_insn_len(v, code);
	if (!n || !len) {
		vm_stop(v->vm, "nested SVM: %s at rip 0x%llx", n ? "cannot decode the SVM instruction"
			: "no memory for the nested state", (unsigned long long)v->regs.rip);
		return;
	}
	switch (code) {
	case SVM_EXIT_VMRUN:
		if (!rax_address(v, &at) || !nsvm_vmrun(v, at, v->regs.rip + len))
			gp0(v);
		return; /* RIP: L2's now, or L1's after VMRUN for VMEXIT_INVALID */
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
		if (!rax_address(v, &at) ||
		    !(code == SVM_EXIT_VMLOAD ? vmload(v, at) : vmsave(v, at))) {
			gp0(v);
			return;
		}
		break;
	case SVM_EXIT_STGI:
		n->gif = true;
		break;
	case SVM_EXIT_CLGI:
		n->gif = false;
		break;
	case SVM_EXIT_INVLPGA:
		invlpga(v, n);
		break;
	default:
		vmm_inject_exception(v, X86_VEC_UD, false, 0);
		return;
	}
	vmm_retire_insn(v, v->regs.rip + len);
}
