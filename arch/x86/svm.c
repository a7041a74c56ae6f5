// SPDX-License-Identifier: MIT
/*
 * AMD SVM backend: capability checks, per-CPU enable, VMCB setup, guest
 * entry and exit decode (svm_exit.c). Generic exit handling is in vmm/.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "arch/x86/host_timer.h"
#include "arch/x86/pcpu.h"
#include "arch/x86/svm.h"
#include "arch/x86/svm_asid.h"
#include "arch/x86/vendor.h"
#include "mmu/mmu.h"
#include "vmm/vcpu.h"

_Static_assert(offsetof(struct vcpu_regs, rcx) == 8, "svm_run.asm R_RCX");
_Static_assert(offsetof(struct vcpu_regs, rbp) == 40, "svm_run.asm R_RBP");
_Static_assert(offsetof(struct vcpu_regs, rsi) == 48, "svm_run.asm R_RSI");
_Static_assert(offsetof(struct vcpu_regs, r8) == 64, "svm_run.asm R_R8");
_Static_assert(offsetof(struct vcpu_regs, r15) == 120, "svm_run.asm R_R15");

struct svm_cpu {
	void *hsave;     /* VM_HSAVE_PA: the processor's own host save area */
	void *host_save; /* VMSAVE/VMLOAD area for the host's hidden state */
	struct svm_asid_cpu asids;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	void *iopm, *msrpm;
	struct svm_asid_vcpu asid;
	struct svm_asid_vcpu asid_l2; /* Keel's ASID for this vCPU's L2 (nested SVM) */
	bool gp_paused; /* #GP intercept off for one entry (svm_gp_in_delivery) */
};

static u32 svm_features; /* CPUID 8000_000A:EDX */

static u64 pa(const void *p)
{
	return (u64)(uintptr_t)p; /* identity map */
}

static bool svm_detect(void)
{
	char v[13];

	cpu_vendor_string(v);
	if (!strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine"))
		return true;
	return cpuid_has_leaf(0x80000001) && (cpuid(0x80000001).ecx & CPUID_80000001_ECX_SVM);
}

static int svm_check(char *why, size_t len)
{
	if (!cpuid_has_leaf(0x80000001) || !(cpuid(0x80000001).ecx & CPUID_80000001_ECX_SVM)) {
		snprintf(why, len, "AMD SVM is not available (CPUID 8000_0001h:ECX[2] = 0); "
			 "in QEMU use -cpu qemu64,+svm,+npt");
		return -ENODEV;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		snprintf(why, len, "AMD SVM is disabled by the firmware (VM_CR.SVMDIS = 1); "
			 "enable SVM in the firmware setup");
		return -ENODEV;
	}
	if (!cpuid_has_leaf(0x8000000a) ||
	    !((svm_features = cpuid(0x8000000a).edx) & SVM_FEAT_NPT)) {
		snprintf(why, len, "AMD SVM without nested paging (CPUID 8000_000Ah:EDX[0] = 0); "
			 "Keel needs NPT (in QEMU add +npt)");
		return -ENODEV;
	}
	return 0;
}

/* 1 GiB pages in nested tables follow CPUID 8000_0001h:EDX[Page1GB] (APM vol. 2). */
static int svm_tdp_max_level(void)
{
	return (cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB) ? 3 : 2;
}

static int svm_cpu_enable(struct pcpu *cpu)
{
	struct svm_cpu *sc = cpu->vendor;

	if (cpu->enabled)
		return 0;
	if (!sc) {
		sc = host_alloc(sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		cpu->vendor = sc;
	}
	if (!sc->hsave)
		sc->hsave = host_alloc_pages(1);
	if (!sc->host_save)
		sc->host_save = host_alloc_pages(1);
	if (!sc->hsave || !sc->host_save)
		return -ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, pa(sc->hsave));
	svm_asid_cpu_init(&sc->asids, cpuid(0x8000000a).ebx,
			  svm_features & SVM_FEAT_FLUSH_BY_ASID);
	cpu->enabled = true;
	host_log("svm: cpu %u enabled (NPT%s%s)\n", cpu->id,
		 svm_features & SVM_FEAT_NRIPS ? ", NRIP save" : ", no NRIP save",
		 svm_features & SVM_FEAT_FLUSH_BY_ASID ? ", flush by ASID" : "");
	return 0;
}

static void svm_cpu_disable(struct pcpu *cpu)
{
	if (!cpu->enabled)
		return;
	wrmsr(MSR_VM_HSAVE_PA, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
	cpu->enabled = false;
}

static void init_control(struct vmcb_control *c, const struct svm_vcpu *sv)
{
	c->intercept3 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD |
			SVM_INTERCEPT_HLT | SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
			SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH | SVM_INTERCEPT_SHUTDOWN;
	c->intercept4 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_XSETBV;
	/* #GP, so that an SVM instruction at CPL > 0 (the CPU's #GP comes
	 * before the intercept) can be turned into the guest's #UD too. */
	c->exceptions = BIT(13);
	c->iopm_base_pa = pa(sv->iopm);
	c->msrpm_base_pa = pa(sv->msrpm);
	/* Physical interrupts stay under the host's RFLAGS.IF, not the guest's. */
	c->vintr = SVM_V_INTR_MASKING;
	c->np_enable = SVM_NP_ENABLE;
}

static void svm_vcpu_free(struct vcpu *v)
{
	struct svm_vcpu *sv = v->hw;

	if (!sv)
		return;
	host_free_pages(sv->vmcb, 1);
	host_free_pages(sv->iopm, SVM_IOPM_BYTES / PAGE_SIZE);
	host_free_pages(sv->msrpm, SVM_MSRPM_BYTES / PAGE_SIZE);
	host_free(sv);
	v->hw = NULL;
}

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *sv = host_alloc(sizeof(*sv));

	if (!sv)
		return -ENOMEM;
	v->hw = sv;
	sv->vmcb = host_alloc_pages(1);
	sv->iopm = host_alloc_pages(SVM_IOPM_BYTES / PAGE_SIZE);
	sv->msrpm = host_alloc_pages(SVM_MSRPM_BYTES / PAGE_SIZE);
	if (!sv->vmcb || !sv->iopm || !sv->msrpm) {
		svm_vcpu_free(v);
		return -ENOMEM;
	}
	/* Every port and every MSR exits: Keel emulates what the guest sees. */
	memset(sv->iopm, 0xff, SVM_IOPM_BYTES);
	memset(sv->msrpm, 0xff, SVM_MSRPM_BYTES);
	init_control(&sv->vmcb->ctl, sv);
	svm_asid_vcpu_init(&sv->asid);
	svm_asid_vcpu_init(&sv->asid_l2);
	svm_regs_to_vmcb(sv->vmcb, &v->regs);
	return 0;
}

/*
 * The event whose delivery the exit interrupted (EXITINTINFO), e.g. an NPF
 * on the guest's IDT or stack, is delivered again at the next entry, with
 * one exception: a software interrupt (INT n) or a software exception
 * (INT3, INTO). For those the saved RIP is the instruction itself, and
 * injecting them again would push that RIP as the return address, so the
 * handler's IRET would execute the INT3 a second time (QEMU pushes the
 * injected event's RIP, hardware without NRIP save the same). Instead
 * nothing is injected and the instruction runs again: the event is
 * delivered once, with the address after the instruction on the stack.
 */
u64 svm_reinjection(u64 info)
{
	u64 type = info & SVM_EVENTINJ_TYPE_MASK, vec = info & SVM_EVENTINJ_VECTOR;

	if (!(info & SVM_EVENTINJ_VALID))
		return 0;
	if (type == SVM_EVENTINJ_TYPE_SOFT ||
	    (type == SVM_EVENTINJ_TYPE_EXCEPTION && (vec == 3 || vec == 4)))
		return 0;
	return info;
}

/* #GP is intercepted only for SVM instructions at CPL > 0 (vmm/exit.c). A
 * #GP raised while the CPU delivered an event (a broken IDT, say) is not
 * Keel's business: the event is delivered again with the intercept off for
 * that one entry, so the CPU escalates as it would (#DF, shutdown). */
static void svm_gp_in_delivery(struct vcpu *v, struct svm_vcpu *sv)
{
	if (v->exit.kind != EXIT_EXCEPTION || v->exit.exc.vector != 13 || !v->exit.vectoring)
		return;
	sv->vmcb->ctl.exceptions &= ~BIT(13);
	sv->gp_paused = true;
	v->exit.kind = EXIT_NONE; /* nothing for generic code; event_inj re-delivers */
}

static int svm_vcpu_run(struct vcpu *v, hpa_t root, bool flush)
{
	struct svm_vcpu *sv = v->hw;
	struct pcpu *cpu = pcpu_this();
	struct svm_cpu *sc = cpu->vendor;
	struct vmcb *vmcb = sv->vmcb;

	svm_regs_to_vmcb(vmcb, &v->regs);
	vmcb->ctl.ncr3 = root.v;
	/* Per-vCPU ASID; a vCPU that moved CPUs gets a fresh one there. */
	vmcb->ctl.asid = svm_asid_prepare(&sc->asids, &sv->asid, (int)cpu->id, flush,
					  &vmcb->ctl.tlb_control);
	svm_vmrun(pa(vmcb), &v->regs, pa(sc->host_save));
	svm_vmcb_to_regs(&v->regs, vmcb);
	svm_decode_exit(v, vmcb, svm_features & SVM_FEAT_NRIPS);
	if (sv->gp_paused) {
		sv->gp_paused = false;
		vmcb->ctl.exceptions |= BIT(13);
	}
	svm_gp_in_delivery(v, sv);
	if (v->exit.kind == EXIT_IRET) {
		/* The IRET has not run yet: NMI blocking ends once it has. */
		vmcb->ctl.intercept3 &= ~SVM_INTERCEPT_IRET;
		v->iret_rip = v->regs.rip;
	}
	vmcb->ctl.event_inj = svm_reinjection(vmcb->ctl.exit_int_info);
	if (v->exit.kind == EXIT_ENTRY_FAILED) {
		host_log("svm: VMRUN refused the guest state (VMEXIT_INVALID)\n");
		return -EIO;
	}
	return 0;
}

/*
 * Nested SVM: run a VMCB02 that vmm/nested/ built. Keel adds what is its
 * own: its all-ones permission maps (their union with L1's is themselves:
 * every port and MSR of L2 exits to Keel, which reflects per L1's maps),
 * the nested root and this vCPU's L2 ASID, one per vCPU whatever L1's
 * ASIDs are (a different L1 ASID or nCR3 is a different shadow root, whose
 * switch flushes). The raw exit stays in the VMCB02 and is decoded.
 */
static void svm_run_l2(struct vcpu *v, void *vmcb02, hpa_t ncr3, bool flush)
{
	struct svm_vcpu *sv = v->hw;
	struct pcpu *cpu = pcpu_this();
	struct svm_cpu *sc = cpu->vendor;
	struct vmcb *vmcb = vmcb02;

	vmcb->ctl.iopm_base_pa = pa(sv->iopm);
	vmcb->ctl.msrpm_base_pa = pa(sv->msrpm);
	vmcb->ctl.np_enable = SVM_NP_ENABLE;
	vmcb->ctl.ncr3 = ncr3.v;
	vmcb->ctl.clean = 0;
	vmcb->ctl.asid = svm_asid_prepare(&sc->asids, &sv->asid_l2, (int)cpu->id, flush,
					  &vmcb->ctl.tlb_control);
	svm_vmrun(pa(vmcb), &v->regs, pa(sc->host_save));
	svm_decode_exit(v, vmcb, svm_features & SVM_FEAT_NRIPS);
}

static const struct vendor_nested svm_nested = {
	.run_l2 = svm_run_l2,
};

static void svm_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct svm_vcpu *sv = v->hw;
	u64 ev = vector | SVM_EVENTINJ_TYPE_EXCEPTION | SVM_EVENTINJ_VALID;

	if (has_error && (v->regs.cr0 & X86_CR0_PE)) /* real mode pushes none */
		ev |= SVM_EVENTINJ_EV | ((u64)error << 32);
	sv->vmcb->ctl.event_inj = ev;
}

static bool svm_event_queued(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->hw)->vmcb->ctl.event_inj & SVM_EVENTINJ_VALID;
}

static void svm_inject_irq(struct vcpu *v, u8 vector)
{
	((struct svm_vcpu *)v->hw)->vmcb->ctl.event_inj =
		vector | SVM_EVENTINJ_TYPE_INTR | SVM_EVENTINJ_VALID;
}

/* SVM keeps no NMI blocking of its own for an injected NMI: Keel does
 * (v->regs.nmi_blocked), and intercepts IRET to learn when it ends. */
static void svm_inject_nmi(struct vcpu *v)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->hw)->vmcb;

	vmcb->ctl.event_inj = 2 | SVM_EVENTINJ_TYPE_NMI | SVM_EVENTINJ_VALID;
	vmcb->ctl.intercept3 |= SVM_INTERCEPT_IRET;
	v->regs.nmi_blocked = true;
}

/* The interrupt window: a virtual interrupt (V_IRQ) of the highest priority
 * that ignores V_TPR, with its delivery intercepted (VINTR), exits as soon
 * as the guest has RFLAGS.IF = 1 and no interrupt shadow. It is never
 * delivered itself: the exit comes first, and Keel injects the real vector.
 * An NMI window is the IRET intercept (svm_inject_nmi). */
static void svm_set_windows(struct vcpu *v, bool irq, bool nmi)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->hw)->vmcb->ctl;

	(void)nmi;
	c->vintr &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT));
	c->intercept3 &= ~SVM_INTERCEPT_VINTR;
	if (irq) {
		c->vintr |= SVM_V_IRQ | SVM_V_IGN_TPR | (0xfull << SVM_V_INTR_PRIO_SHIFT);
		c->intercept3 |= SVM_INTERCEPT_VINTR;
	}
}

/* The host LAPIC timer interrupts the guest: INTR is intercepted and the
 * host's IF is 1 around VMRUN (svm_run.asm). */
static void svm_set_preemption(struct vcpu *v, u64 ns)
{
	(void)v;
	host_timer_arm_ns(ns);
}

static unsigned long long ull(u64 v)
{
	return (unsigned long long)v;
}

static void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = ((struct svm_vcpu *)v->hw)->vmcb;
	const struct vmcb_control *c = &vmcb->ctl;
	const struct vmcb_save *s = &vmcb->save;

	host_log("svm: vmcb exit_code=0x%llx info1=0x%llx info2=0x%llx int_info=0x%llx "
		 "event_inj=0x%llx\n", ull(c->exit_code), ull(c->exit_info1), ull(c->exit_info2),
		 ull(c->exit_int_info), ull(c->event_inj));
	host_log("svm: vmcb rip=0x%llx rsp=0x%llx rflags=0x%llx cpl=%u cs=%04x/%04x ss=%04x\n",
		 ull(s->rip), ull(s->rsp), ull(s->rflags), s->cpl, s->cs.selector, s->cs.attrib,
		 s->ss.selector);
	host_log("svm: vmcb cr0=0x%llx cr2=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx ncr3=0x%llx "
		 "asid=%u\n", ull(s->cr0), ull(s->cr2), ull(s->cr3), ull(s->cr4), ull(s->efer),
		 ull(c->ncr3), c->asid);
}

const struct vendor_ops svm_ops = {
	.name = "svm",
	.tdp_name = "npt",
	.tdp_format = &spte_format_npt,
	.host_xsave = false, /* QEMU's TCG SVM resets with it: arch/x86/fpu.c */
	.nested = &svm_nested,
	.detect = svm_detect,
	.check = svm_check,
	.tdp_max_level = svm_tdp_max_level,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.vcpu_init = svm_vcpu_init,
	.vcpu_free = svm_vcpu_free,
	.vcpu_run = svm_vcpu_run,
	.inject_exception = svm_inject_exception,
	.event_queued = svm_event_queued,
	.inject_irq = svm_inject_irq,
	.inject_nmi = svm_inject_nmi,
	.set_windows = svm_set_windows,
	.set_preemption = svm_set_preemption,
	.dump = svm_dump,
};
