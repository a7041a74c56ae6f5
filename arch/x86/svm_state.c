// SPDX-License-Identifier: MIT
/*
 * struct vcpu_regs <-> the VMCB save area. The VMCB keeps segment
 * attributes in the same packed form as struct vcpu_seg, so segments copy
 * as they are; CPL is a field of its own, kept equal to SS.DPL here.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/svm.h"
#include "vmm/vcpu.h"

#define SVM_INT_SHADOW BIT(0)

static void seg_in(struct vmcb_seg *d, const struct vcpu_seg *s)
{
	*d = (struct vmcb_seg){ .selector = s->sel, .attrib = s->attr, .limit = s->limit,
				.base = s->base };
}

static void seg_out(struct vcpu_seg *d, const struct vmcb_seg *s)
{
	*d = (struct vcpu_seg){ .sel = s->selector, .attr = s->attrib, .limit = s->limit,
				.base = s->base };
}

static void dt_in(struct vmcb_seg *d, const struct vcpu_dtable *s)
{
	*d = (struct vmcb_seg){ .limit = s->limit, .base = s->base };
}

static void dt_out(struct vcpu_dtable *d, const struct vmcb_seg *s)
{
	*d = (struct vcpu_dtable){ .base = s->base, .limit = s->limit };
}

static unsigned ss_dpl(const struct vcpu_regs *r)
{
	return (r->ss.attr >> 5) & 3;
}

void svm_regs_to_vmcb(struct vmcb *vmcb, const struct vcpu_regs *r)
{
	struct vmcb_save *s = &vmcb->save;

	s->rax = r->rax;
	s->rsp = r->rsp;
	s->rip = r->rip;
	s->rflags = r->rflags | X86_RFLAGS_FIXED;
	s->cr0 = r->cr0;
	s->cr2 = r->cr2;
	s->cr3 = r->cr3;
	s->cr4 = r->cr4;
	/* VMRUN requires EFER.SVME in the guest's EFER; the guest's view
	 * (v->regs.efer, RDMSR) shows it only when it set it (nested SVM). */
	s->efer = r->efer | EFER_SVME;
	seg_in(&s->es, &r->es);
	seg_in(&s->cs, &r->cs);
	seg_in(&s->ss, &r->ss);
	seg_in(&s->ds, &r->ds);
	seg_in(&s->fs, &r->fs);
	seg_in(&s->gs, &r->gs);
	seg_in(&s->ldtr, &r->ldtr);
	seg_in(&s->tr, &r->tr);
	dt_in(&s->gdtr, &r->gdtr);
	dt_in(&s->idtr, &r->idtr);
	s->cpl = (u8)((r->cr0 & X86_CR0_PE) ? ((r->rflags & BIT(17)) ? 3 : ss_dpl(r)) : 0);
	s->dr6 = r->dr6;
	s->dr7 = r->dr7;
	s->g_pat = r->pat;
	s->star = r->star;
	s->lstar = r->lstar;
	s->cstar = r->cstar;
	s->sfmask = r->sfmask;
	s->kernel_gs_base = r->kernel_gs_base;
	s->sysenter_cs = r->sysenter_cs;
	s->sysenter_esp = r->sysenter_esp;
	s->sysenter_eip = r->sysenter_eip;
	vmcb->ctl.interrupt_shadow = (r->sti_shadow || r->movss_shadow) ? SVM_INT_SHADOW : 0;
	/* With V_INTR_MASKING, MOV CR8 reads and writes V_TPR. */
	vmcb->ctl.vintr = (vmcb->ctl.vintr & ~SVM_V_TPR) | (r->cr8 & SVM_V_TPR);
}

void svm_vmcb_to_regs(struct vcpu_regs *r, const struct vmcb *vmcb)
{
	const struct vmcb_save *s = &vmcb->save;

	r->rax = s->rax;
	r->rsp = s->rsp;
	r->rip = s->rip;
	r->rflags = s->rflags;
	r->cr0 = s->cr0;
	r->cr2 = s->cr2;
	r->cr3 = s->cr3;
	r->cr4 = s->cr4;
	/* The VMCB's EFER always has SVME (VMRUN needs it); the guest's own
	 * SVME (nested SVM, set by WRMSR only) is the one v->regs had. */
	r->efer = (s->efer & ~EFER_SVME) | (r->efer & EFER_SVME);
	seg_out(&r->es, &s->es);
	seg_out(&r->cs, &s->cs);
	seg_out(&r->ss, &s->ss);
	seg_out(&r->ds, &s->ds);
	seg_out(&r->fs, &s->fs);
	seg_out(&r->gs, &s->gs);
	seg_out(&r->ldtr, &s->ldtr);
	seg_out(&r->tr, &s->tr);
	dt_out(&r->gdtr, &s->gdtr);
	dt_out(&r->idtr, &s->idtr);
	/* CPL is authoritative; SS.DPL follows it (vcpu_cpl reads SS.DPL). */
	r->ss.attr = (u16)((r->ss.attr & ~(3u << 5)) | ((s->cpl & 3u) << 5));
	r->dr6 = s->dr6;
	r->dr7 = s->dr7;
	r->pat = s->g_pat;
	r->star = s->star;
	r->lstar = s->lstar;
	r->cstar = s->cstar;
	r->sfmask = s->sfmask;
	r->kernel_gs_base = s->kernel_gs_base;
	r->sysenter_cs = s->sysenter_cs;
	r->sysenter_esp = s->sysenter_esp;
	r->sysenter_eip = s->sysenter_eip;
	/* The VMCB does not tell STI from MOV SS; both block the same. */
	r->sti_shadow = vmcb->ctl.interrupt_shadow & SVM_INT_SHADOW;
	r->movss_shadow = false;
	r->cr8 = vmcb->ctl.vintr & SVM_V_TPR;
}
