// SPDX-License-Identifier: MIT
/*
 * VMRUN and #VMEXIT emulation (docs/nested-svm.md): the state switch
 * between L1 and L2 on one vCPU. VMRUN copies VMCB12 out of L1 memory,
 * checks it (nsvm_check.c), keeps L1's host state in Keel (the "host save
 * area" is Keel's own, as the APM allows), loads L2's state into v->regs
 * and builds the VMCB02's control area; #VMEXIT writes what the hardware
 * writes into VMCB12 and puts L1's state back. Only the fields VMRUN and
 * #VMEXIT switch are switched: GPRs other than RAX/RSP and the VMLOAD /
 * VMSAVE state (FS, GS, TR, LDTR, the SYSCALL/SYSENTER MSRs) stay as they
 * are, as on hardware.
 */
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/smp.h"
#include "rt/log.h"
#include "vmm/nested/nested.h"
#include "vmm/nested/nsvm.h"
#include "vmm/vmm.h"

struct nsvm_vcpu *nsvm_get(struct vcpu *v)
{
	struct nsvm_vcpu *n = v->nested;

	if (n)
		return n;
	n = host_alloc(sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->vmcb02 = host_alloc_pages(1);
	n->scratch = host_alloc_pages(1);
	if (!n->vmcb02 || !n->scratch) {
		if (n->vmcb02)
			host_free_pages(n->vmcb02, 1);
		if (n->scratch)
			host_free_pages(n->scratch, 1);
		host_free(n);
		return NULL;
	}
	memset(n->vmcb02, 0, PAGE_SIZE);
	n->gif = true;
	v->nested = n;
	return n;
}

u8 nsvm_phys_bits(void)
{
	return cpuid_has_leaf(0x80000008u) ? (u8)(cpuid(0x80000008u).eax & 0xff) : 36;
}

/* The VMLOAD/VMSAVE state and what VMRUN / #VMEXIT never switch. */
static void keep_unswitched(struct vcpu_regs *to, const struct vcpu_regs *from)
{
	to->fs = from->fs;
	to->gs = from->gs;
	to->ldtr = from->ldtr;
	to->tr = from->tr;
	to->star = from->star;
	to->lstar = from->lstar;
	to->cstar = from->cstar;
	to->sfmask = from->sfmask;
	to->kernel_gs_base = from->kernel_gs_base;
	to->sysenter_cs = from->sysenter_cs;
	to->sysenter_esp = from->sysenter_esp;
	to->sysenter_eip = from->sysenter_eip;
	to->xcr0 = from->xcr0;
	to->cr8 = from->cr8; /* L1's TPR; L2's is V_TPR in the VMCB02 */
	to->nmi_blocked = from->nmi_blocked;
}

static void load_l2(struct vcpu *v, const struct vmcb *img, bool np)
{
	struct vcpu_regs l1 = v->regs;

	svm_vmcb_to_regs(&v->regs, img); /* EFER.SVME: L1's (1), as VMCB12's */
	keep_unswitched(&v->regs, &l1);
	if (!np)
		v->regs.pat = l1.pat; /* G_PAT is used only with nested paging */
}

/* The #VMEXIT side: L1's host state back, GIF 0, CPL 0, DR7 reset. */
static void restore_l1(struct vcpu *v, struct nsvm_vcpu *n)
{
	struct vcpu_regs l2 = v->regs;

	v->regs = n->l1;
	memcpy(&v->regs, &l2, offsetof(struct vcpu_regs, rip)); /* the GPRs stay L2's ... */
	v->regs.rax = n->l1.rax;                                 /* ... but RAX and RSP */
	v->regs.rsp = n->l1.rsp;
	keep_unswitched(&v->regs, &l2);
	v->regs.cr2 = l2.cr2;
	v->regs.dr7 = 0x400;
	v->regs.sti_shadow = v->regs.movss_shadow = false;
}

void nsvm_kick(void *arg)
{
	pcpu_kick(((struct vcpu *)arg)->cpu);
}

static void put_seg(struct vmcb_seg *d, const struct vmcb_seg *s)
{
	*d = *s;
}

/* What #VMEXIT saves of L2 into VMCB12's save area (APM 15.6). */
static void save_l2(struct vmcb_save *d, const struct vmcb_save *s, bool np)
{
	put_seg(&d->es, &s->es);
	put_seg(&d->cs, &s->cs);
	put_seg(&d->ss, &s->ss);
	put_seg(&d->ds, &s->ds);
	put_seg(&d->gdtr, &s->gdtr);
	put_seg(&d->idtr, &s->idtr);
	d->cpl = s->cpl;
	d->efer = s->efer;
	d->cr0 = s->cr0;
	d->cr2 = s->cr2;
	d->cr3 = s->cr3;
	d->cr4 = s->cr4;
	d->dr6 = s->dr6;
	d->dr7 = s->dr7;
	d->rflags = s->rflags;
	d->rip = s->rip;
	d->rsp = s->rsp;
	d->rax = s->rax;
	if (np)
		d->g_pat = s->g_pat;
}

void nsvm_vmexit(struct vcpu *v, u64 code, u64 info1, u64 info2, u64 exit_int_info, u64 nrip)
{
	struct nsvm_vcpu *n = v->nested;
	struct vmcb *img = n->scratch, *v02 = n->vmcb02;
	u64 vintr02 = v02->ctl.vintr, shadow02;

	/* L2's current state (Keel may have changed v->regs since the exit). */
	svm_regs_to_vmcb(v02, &v->regs);
	shadow02 = v02->ctl.interrupt_shadow;
	v02->ctl.vintr = vintr02;
	if (vmm_read_guest(v->vm, n->vmcb12, img, sizeof(*img)))
		log_info("keel: vm %s: vcpu %u: VMCB12 at 0x%llx is no longer RAM at #VMEXIT\n",
			 v->vm->name, v->id, (unsigned long long)n->vmcb12.v);
	save_l2(&img->save, &v02->save, n->np);
	img->ctl.vintr = (img->ctl.vintr & ~(u64)(SVM_V_TPR | SVM_V_IRQ)) |
			 (vintr02 & (SVM_V_TPR | SVM_V_IRQ));
	img->ctl.interrupt_shadow = shadow02;
	img->ctl.exit_code = code;
	img->ctl.exit_info1 = info1;
	img->ctl.exit_info2 = info2;
	img->ctl.exit_int_info = (exit_int_info & SVM_EVENTINJ_VALID) ? exit_int_info : 0;
	img->ctl.event_inj = 0;
	img->ctl.next_rip = nrip;
	vmm_write_guest(v->vm, n->vmcb12, img, sizeof(*img));
	restore_l1(v, n);
	n->in_l2 = false;
	n->gif = false;
}

/* VMEXIT_INVALID: L2 never ran; only the exit fields of VMCB12 change. */
static void vmexit_invalid(struct vcpu *v, struct nsvm_vcpu *n, enum nsvm_bad why, u64 next_rip)
{
	struct vmcb *img = n->scratch;

	n->stats.vmexit_invalid++;
	log_debug("keel: vm %s: vcpu %u: VMRUN of VMCB 0x%llx refused: %s\n", v->vm->name, v->id,
		  (unsigned long long)n->vmcb12.v, nsvm_bad_name(why));
	img->ctl.exit_code = SVM_EXIT_INVALID;
	img->ctl.exit_info1 = 0;
	img->ctl.exit_info2 = 0;
	img->ctl.exit_int_info = 0;
	img->ctl.event_inj = 0;
	img->ctl.next_rip = 0;
	vmm_write_guest(v->vm, n->vmcb12, img, sizeof(img->ctl));
	n->gif = false;
	vmm_retire_insn(v, next_rip);
}

/* L1's TLB requests for the shadow NPT (nested paging) or Keel's L2 ASID. */
static void tlb_requests(struct vcpu *v, struct nsvm_vcpu *n, const struct vmcb_control *c)
{
	if (!n->np) {
		/* L2 runs on Keel's TDP of L1 under Keel's one L2 ASID: any
		 * flush request or another L1 ASID flushes that ASID. */
		if (c->tlb_control || c->asid != n->c12.asid)
			n->l2_flush = true;
		return;
	}
	if (c->tlb_control == 1)
		nmmu_flush_all(v->vm->nmmu);
	else if (c->tlb_control == 3 || c->tlb_control == 7)
		nmmu_flush_asid(v->vm->nmmu, c->asid);
}

static bool nested_paging_ready(struct vcpu *v, struct nsvm_vcpu *n)
{
	if (!v->vm->nmmu)
		return false;
	if (!n->nv) {
		n->nv = nmmu_vcpu_create(v->vm->nmmu, v->id);
		if (n->nv) /* drops on other CPUs wait for this vCPU's L2 */
			nmmu_vcpu_set_kick(n->nv, nsvm_kick, v);
	}
	n->mode = (struct nmmu_npt_mode){
		.lma = true,
		.maxphyaddr = nsvm_phys_bits(),
		.nx = v->regs.efer & EFER_NXE,
		.gbpages = cpuid(0x80000001u).edx & CPUID_80000001_EDX_PDPE1GB,
	};
	return n->nv != NULL;
}

bool nsvm_vmrun(struct vcpu *v, gpa_t vmcb12, u64 next_rip)
{
	struct nsvm_vcpu *n = v->nested;
	struct vmcb *img = n->scratch;
	struct nsvm_caps caps = { .maxphyaddr = nsvm_phys_bits(),
				  .l1_long = v->regs.efer & EFER_LMA };
	enum nsvm_bad bad;
	bool np;

	if (vmm_read_guest(v->vm, vmcb12, img, sizeof(*img)))
		return false; /* not L1 RAM: #GP(0), as KVM gives */
	n->vmcb12 = vmcb12;
	n->stats.vmruns++;
	bad = nsvm_check_vmcb(img, &caps);
	np = img->ctl.np_enable & SVM_NP_ENABLE;
	if (!bad && np && !nested_paging_ready(v, n))
		bad = NSVM_BAD_NP_MODE; /* no nested MMU (memory): refused, logged */
	if (bad) {
		vmexit_invalid(v, n, bad, next_rip);
		return true;
	}
	n->np = np;
	tlb_requests(v, n, &img->ctl);
	n->c12 = img->ctl;
	n->l1 = v->regs;
	n->l1.rip = next_rip;
	n->l1.sti_shadow = n->l1.movss_shadow = false;
	load_l2(v, img, np);
	nsvm_merge_control(&n->vmcb02->ctl, &img->ctl);
	n->in_l2 = true;
	n->gif = true;
	return true;
}
