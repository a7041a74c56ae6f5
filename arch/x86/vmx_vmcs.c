/* SPDX-License-Identifier: MIT */
/*
 * The VMCS contents: controls, the host-state area (read from the live CPU,
 * so it is Keel's own GDT and TSS once boot/ has loaded them), and the
 * guest-state area for the 64-bit start state of vmm/vcpu.h.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include <keel/string.h>

#include "arch/x86/vmx.h"
#include "vmm/vcpu_state.h"

/* Write fields in a batch; the first failure is logged with its field and
 * VM-instruction error, and the batch reports -EIO. */
struct vmcs_batch {
	int err;
};

static void put(struct vmcs_batch *b, u32 field, u64 val)
{
	if (vmx_vmwrite(field, val) || b->err)
		return;
	b->err = -EIO;
	host_log("vmx: VMWRITE 0x%x <- 0x%llx failed: %s\n", field, (unsigned long long)val,
		 vmx_insn_error_name((u32)vmx_vmread(VMCS_INSN_ERROR)));
}

/* ---- controls --------------------------------------------------------------- */

static void setup_controls(struct vmcs_batch *b, struct vmx_vcpu *hw)
{
	const struct vmx_caps *c = &vmx_caps;
	u32 proc2 = c->proc2;

	if (!hw->vpid)
		proc2 &= ~PROC2_ENABLE_VPID; /* VPID 0 is the host's: VPID off */
	put(b, VMCS_PIN_CTLS, c->pin);
	put(b, VMCS_PROC_CTLS, c->proc);
	hw->proc_ctls = hw->want_proc_ctls = c->proc;
	put(b, VMCS_PROC_CTLS2, proc2);
	put(b, VMCS_EXIT_CTLS, c->exit);
	put(b, VMCS_ENTRY_CTLS, c->entry);
	hw->entry_ctls = c->entry;
	if (hw->vpid)
		put(b, VMCS_VPID, hw->vpid);
	/* No guest exception is intercepted: faults are the guest's business;
	 * a triple fault still exits. */
	put(b, VMCS_EXCEPTION_BITMAP, 0);
	put(b, VMCS_PF_ERROR_MASK, 0);
	put(b, VMCS_PF_ERROR_MATCH, 0);
	put(b, VMCS_CR3_TARGET_COUNT, 0);
	put(b, VMCS_EXIT_MSR_STORE_COUNT, 0);
	put(b, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	put(b, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	put(b, VMCS_ENTRY_INTR_INFO, 0);
	put(b, VMCS_LINK_POINTER, ~0ull);
}

/* CR bits the guest may not own: those VMX operation forces one way (the
 * FIXED MSRs) and CR4.VMXE. The guest reads the shadow instead; a write
 * that would change an owned bit exits (vmx_exit.c emulates it). */
static void setup_cr_masks(struct vmcs_batch *b, struct vmx_vcpu *hw)
{
	const struct vmx_caps *c = &vmx_caps;

	hw->cr0_fixed0 = c->cr0_fixed0;
	if (c->unrestricted)
		hw->cr0_fixed0 &= ~(X86_CR0_PE | X86_CR0_PG);
	hw->cr0_mask = (hw->cr0_fixed0 | ~c->cr0_fixed1) & GENMASK(31, 0);
	hw->cr4_mask = (c->cr4_fixed0 | ~c->cr4_fixed1 | X86_CR4_VMXE) & GENMASK(31, 0);
	put(b, VMCS_CR0_MASK, hw->cr0_mask);
	put(b, VMCS_CR4_MASK, hw->cr4_mask);
}

/* ---- guest state --------------------------------------------------------------- */


struct seg_fields {
	u32 sel, base, limit, ar;
	size_t off; /* of the struct vcpu_seg in struct vcpu_regs */
};

#define SEG(name, NAME)                                                                  \
	{ VMCS_GUEST_##NAME##_SEL, VMCS_GUEST_##NAME##_BASE, VMCS_GUEST_##NAME##_LIMIT,   \
	  VMCS_GUEST_##NAME##_AR, offsetof(struct vcpu_regs, name) }
static const struct seg_fields guest_segs[] = {
	SEG(es, ES), SEG(cs, CS), SEG(ss, SS), SEG(ds, DS),
	SEG(fs, FS), SEG(gs, GS), SEG(ldtr, LDTR), SEG(tr, TR),
};
#undef SEG

/* struct vcpu_seg.attr is the packed (VMCB) form: bits 8-11 of it are
 * access-rights bits 12-15. Not present means unusable to VMX; the DPL
 * survives (SS.DPL is the CPL even when SS is unusable). */
static u32 attr_to_ar(u16 attr)
{
	u32 ar = (attr & 0xffu) | ((u32)(attr & 0xf00u) << 4);

	return (attr & VCPU_SEG_P) ? ar : ar | VMX_AR_UNUSABLE;
}

static u16 ar_to_attr(u32 ar)
{
	u16 attr = (u16)((ar & 0xffu) | ((ar >> 4) & 0xf00u));

	return (ar & VMX_AR_UNUSABLE) ? (u16)(attr & ~VCPU_SEG_P) : attr;
}

static struct vcpu_seg *seg_of(struct vcpu_regs *r, const struct seg_fields *f)
{
	return (struct vcpu_seg *)((u8 *)r + f->off);
}

/* Segments, descriptor tables and the other non-paging state, written
 * before every entry (generic code may have changed any of it). */
static void load_guest_segments(struct vmcs_batch *b, const struct vcpu_regs *r)
{
	for (unsigned i = 0; i < ARRAY_SIZE(guest_segs); i++) {
		const struct seg_fields *f = &guest_segs[i];
		const struct vcpu_seg *sg = seg_of((struct vcpu_regs *)r, f);

		put(b, f->sel, sg->sel);
		put(b, f->base, sg->base);
		put(b, f->limit, sg->limit);
		put(b, f->ar, attr_to_ar(sg->attr));
	}
	put(b, VMCS_GUEST_GDTR_BASE, r->gdtr.base);
	put(b, VMCS_GUEST_GDTR_LIMIT, r->gdtr.limit);
	put(b, VMCS_GUEST_IDTR_BASE, r->idtr.base);
	put(b, VMCS_GUEST_IDTR_LIMIT, r->idtr.limit);
	put(b, VMCS_GUEST_DR7, r->dr7);
	put(b, VMCS_GUEST_SYSENTER_CS, r->sysenter_cs);
	put(b, VMCS_GUEST_SYSENTER_ESP, r->sysenter_esp);
	put(b, VMCS_GUEST_SYSENTER_EIP, r->sysenter_eip);
}

static void save_guest_segments(struct vcpu_regs *r)
{
	for (unsigned i = 0; i < ARRAY_SIZE(guest_segs); i++) {
		const struct seg_fields *f = &guest_segs[i];
		struct vcpu_seg *sg = seg_of(r, f);

		sg->sel = (u16)vmx_vmread(f->sel);
		sg->base = vmx_vmread(f->base);
		sg->limit = (u32)vmx_vmread(f->limit);
		sg->attr = ar_to_attr((u32)vmx_vmread(f->ar));
	}
	r->gdtr.base = vmx_vmread(VMCS_GUEST_GDTR_BASE);
	r->gdtr.limit = (u32)vmx_vmread(VMCS_GUEST_GDTR_LIMIT);
	r->idtr.base = vmx_vmread(VMCS_GUEST_IDTR_BASE);
	r->idtr.limit = (u32)vmx_vmread(VMCS_GUEST_IDTR_LIMIT);
	r->dr7 = vmx_vmread(VMCS_GUEST_DR7);
	r->sysenter_cs = vmx_vmread(VMCS_GUEST_SYSENTER_CS);
	r->sysenter_esp = vmx_vmread(VMCS_GUEST_SYSENTER_ESP);
	r->sysenter_eip = vmx_vmread(VMCS_GUEST_SYSENTER_EIP);
}

static void setup_guest_misc(struct vmcs_batch *b)
{
	/* The "load debug controls" entry control is default1 on many CPUs,
	 * so DR7 and DEBUGCTL are loaded whether Keel wants it or not. */
	put(b, VMCS_GUEST_DEBUGCTL, 0);
	put(b, VMCS_GUEST_PENDING_DBG, 0);
	put(b, VMCS_GUEST_INTERRUPTIBILITY, 0);
	put(b, VMCS_GUEST_ACTIVITY, 0); /* active */
}

/* Fill a fresh, current VMCS for v. Host state follows on the first run
 * (it depends on the CPU). */
int vmx_vmcs_setup(struct vcpu *v)
{
	struct vmx_vcpu *hw = v->hw;
	struct vmcs_batch b = { 0 };

	setup_controls(&b, hw);
	setup_cr_masks(&b, hw);
	if (!(v->regs.cr0 & X86_CR0_PG) && !vmx_caps.unrestricted) {
		host_log("vmx: the guest starts with paging off (%s) and this CPU's VMX lacks "
			 "\"unrestricted guest\" (IA32_VMX_PROCBASED_CTLS2 bit 39): cannot run it\n",
			 (v->regs.cr0 & X86_CR0_PE) ? "32-bit protected mode" : "real mode");
		return -ENOTSUP;
	}
	setup_guest_misc(&b);
	/* Make the first load see a changed context: INVVPID before entry. */
	memset(&hw->ctx, 0xff, sizeof(hw->ctx));
	return b.err;
}

/* ---- host state --------------------------------------------------------------- */

static u16 read_sel(int which)
{
	u16 s = 0;

	switch (which) {
	case 0: asm volatile("mov %%cs, %0" : "=rm"(s)); break;
	case 1: asm volatile("mov %%ss, %0" : "=rm"(s)); break;
	case 2: asm volatile("mov %%ds, %0" : "=rm"(s)); break;
	case 3: asm volatile("mov %%es, %0" : "=rm"(s)); break;
	case 4: asm volatile("mov %%fs, %0" : "=rm"(s)); break;
	case 5: asm volatile("mov %%gs, %0" : "=rm"(s)); break;
	default: asm volatile("str %0" : "=rm"(s)); break;
	}
	return s;
}

/* Base of the 16-byte system descriptor for selector 'sel' in the GDT. */
static u64 tss_base(const struct vmx_dtr *gdtr, u16 sel)
{
	const u8 *d = (const u8 *)gdtr->base + (sel & ~7u);

	return d[2] | (u64)d[3] << 8 | (u64)d[4] << 16 | (u64)d[7] << 24 |
	       (u64)*(const u32 *)(d + 8) << 32;
}

static void put_host_selectors(struct vmcs_batch *b, u16 tr)
{
	static const u32 fields[] = { VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL,
				      VMCS_HOST_ES_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL };

	/* Host selectors must have RPL 0 and TI 0 (SDM 27.2.3); Keel and OVMF
	 * run at ring 0 with GDT selectors, so masking only normalises. */
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		put(b, fields[i], read_sel((int)i) & 0xf8);
	put(b, VMCS_HOST_TR_SEL, tr & 0xf8);
}

/* The host-state area, from the live CPU. Called on the first entry on a
 * CPU: GDT, TSS and FS/GS bases differ between CPUs. */
int vmx_vmcs_write_host(struct vmx_vcpu *hw)
{
	struct vmx_cpu *cpu = vmx_this_cpu();
	struct vmcs_batch b = { 0 };
	u16 tr = read_sel(6);

	asm volatile("sgdt %0" : "=m"(cpu->gdtr));
	asm volatile("sidt %0" : "=m"(cpu->idtr));
	if (!(tr & ~7u)) {
		/* Firmware (OVMF) runs with TR = 0, which VM entry refuses
		 * (VM-instruction error 8): boot/ must load Keel's GDT and TSS. */
		host_log("vmx: host TR is 0: load Keel's GDT and TSS before running a vCPU\n");
		return -EINVAL;
	}
	put_host_selectors(&b, tr);
	put(&b, VMCS_HOST_CR0, read_cr0());
	put(&b, VMCS_HOST_CR3, read_cr3());
	put(&b, VMCS_HOST_CR4, read_cr4());
	put(&b, VMCS_HOST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
	put(&b, VMCS_HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
	put(&b, VMCS_HOST_TR_BASE, tss_base(&cpu->gdtr, tr));
	put(&b, VMCS_HOST_GDTR_BASE, cpu->gdtr.base);
	put(&b, VMCS_HOST_IDTR_BASE, cpu->idtr.base);
	put(&b, VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	put(&b, VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	put(&b, VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	put(&b, VMCS_HOST_EFER, rdmsr(MSR_EFER));
	put(&b, VMCS_HOST_RIP, (u64)vmx_exit_landing);
	return b.err;
}

/* VM exit leaves GDTR.limit and IDTR.limit at 0xffff (SDM 28.5.2). */
void vmx_host_tables_restore(void)
{
	struct vmx_cpu *cpu = vmx_this_cpu();

	asm volatile("lgdt %0" ::"m"(cpu->gdtr));
	asm volatile("lidt %0" ::"m"(cpu->idtr));
}

int vmx_set_eptp(struct vmx_vcpu *hw, hpa_t root)
{
	u64 eptp = vmx_keel_eptp(root); /* A/D off: see vmx_rules.c */
	struct vmcs_batch b = { 0 };

	if (eptp != hw->eptp) {
		put(&b, VMCS_EPT_POINTER, eptp);
		hw->eptp = eptp;
	}
	return b.err;
}

/* ---- per-entry guest registers ----------------------------------------------- */

/* Architecturally EFER.LMA = LME && CR0.PG; VM entry demands that the
 * "IA-32e mode guest" control match it. */
static u64 guest_efer(const struct vcpu_regs *r)
{
	u64 efer = r->efer & ~EFER_LMA;

	if ((efer & EFER_LME) && (r->cr0 & X86_CR0_PG))
		efer |= EFER_LMA;
	return efer;
}

static void load_paging(struct vmcs_batch *b, struct vmx_vcpu *hw, const struct vcpu_regs *r)
{
	const struct vmx_caps *c = &vmx_caps;
	u64 efer = guest_efer(r);
	u32 entry = (hw->entry_ctls & ~ENTRY_CTL_IA32E_GUEST) |
		    ((efer & EFER_LMA) ? ENTRY_CTL_IA32E_GUEST : 0);

	put(b, VMCS_GUEST_CR0, (r->cr0 | hw->cr0_fixed0) & c->cr0_fixed1);
	put(b, VMCS_CR0_SHADOW, r->cr0);
	put(b, VMCS_GUEST_CR4, (r->cr4 | c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1);
	put(b, VMCS_CR4_SHADOW, r->cr4);
	put(b, VMCS_GUEST_CR3, r->cr3);
	put(b, VMCS_GUEST_EFER, efer);
	if (entry != hw->entry_ctls) {
		put(b, VMCS_ENTRY_CTLS, entry);
		hw->entry_ctls = entry;
	}
}

static void load_event(struct vmcs_batch *b, struct vmx_vcpu *hw)
{
	struct vmx_event *ev = &hw->pending;

	put(b, VMCS_ENTRY_INTR_INFO, ev->info);
	/* Keel's single-step #DB after an emulated instruction replaces the
	 * one the CPU may have left pending (BS in the pending-debug field). */
	if (ev->info == (INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << 8) | 1))
		put(b, VMCS_GUEST_PENDING_DBG, 0);
	if (ev->info & INTR_INFO_HAS_ERROR)
		put(b, VMCS_ENTRY_EXC_ERROR, ev->error);
	if (ev->info)
		put(b, VMCS_ENTRY_INSN_LEN, ev->insn_len);
	memset(ev, 0, sizeof(*ev)); /* delivered, or re-reported in IDT vectoring */
	if (hw->want_proc_ctls != hw->proc_ctls) {
		put(b, VMCS_PROC_CTLS, hw->want_proc_ctls);
		hw->proc_ctls = hw->want_proc_ctls;
	}
	if (vmx_caps.preempt_timer)
		put(b, VMCS_PREEMPT_TIMER, hw->preempt_ticks);
}

/* The syscall MSRs and KERNEL_GS_BASE are not part of the VMCS. Keel itself
 * never uses SYSCALL or SWAPGS, so the CPU's registers simply hold the
 * guest's values: loaded when they changed, KERNEL_GS_BASE read back after
 * every exit (SWAPGS changes it without an exit). */
static void load_guest_msrs(struct vmx_vcpu *hw, const struct vcpu_regs *r)
{
	static const u32 msrs[] = { 0xc0000081u, 0xc0000082u, 0xc0000083u, 0xc0000084u,
				    0xc0000102u };
	const u64 want[] = { r->star, r->lstar, r->cstar, r->sfmask, r->kernel_gs_base };
	u64 *have[] = { &hw->msr_star, &hw->msr_lstar, &hw->msr_cstar, &hw->msr_sfmask,
			&hw->msr_kgs };

	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
		if (*have[i] != want[i] || !hw->msrs_loaded) {
			wrmsr(msrs[i], want[i]);
			*have[i] = want[i];
		}
	}
	hw->msrs_loaded = true;
}

/* Blocking by STI is only allowed with RFLAGS.IF = 1 (SDM 26.3.1.5). */
static u32 guest_interruptibility(const struct vcpu_regs *r)
{
	u32 i = 0;

	if (r->sti_shadow && (r->rflags & X86_RFLAGS_IF))
		i |= VMX_INTR_STI;
	if (r->movss_shadow)
		i |= VMX_INTR_MOVSS;
	if (r->nmi_blocked)
		i |= VMX_INTR_NMI;
	return i;
}

/* v->regs into the VMCS (the GPRs go in vmx_entry.S). Notes in hw whether
 * generic code changed the guest's paging context since the last exit. */
int vmx_load_guest(struct vcpu *v, struct vmx_vcpu *hw)
{
	const struct vcpu_regs *r = &v->regs;
	u32 intr;
	struct vmcs_batch b = { 0 };
	struct vmx_guest_ctx now = { r->cr0, r->cr3, r->cr4, r->efer };

	if (memcmp(&now, &hw->ctx, sizeof(now))) {
		hw->flush_vpid = true;
		load_paging(&b, hw, r);
		hw->ctx = now;
	}
	load_guest_segments(&b, r);
	load_guest_msrs(hw, r);
	if (r->dr6 != hw->dr6) /* not in the VMCS: the CPU's DR6 is the guest's */
		asm volatile("mov %0, %%dr6" : : "r"(hw->dr6 = r->dr6));
	intr = guest_interruptibility(r);
	/* Injecting an NMI (new, or one whose delivery an exit interrupted)
	 * needs NMI blocking clear: the delivery sets it (SDM 26.3.1.5). */
	if ((hw->pending.info & (INTR_INFO_VALID | INTR_INFO_TYPE)) ==
	    (INTR_INFO_VALID | (INTR_TYPE_NMI << 8)))
		intr &= ~VMX_INTR_NMI;
	put(&b, VMCS_GUEST_INTERRUPTIBILITY, intr);
	put(&b, VMCS_GUEST_RIP, r->rip);
	put(&b, VMCS_GUEST_RSP, r->rsp);
	put(&b, VMCS_GUEST_RFLAGS, r->rflags | BIT(1)); /* bit 1 is always 1 */
	load_event(&b, hw);
	return b.err;
}

static u64 guest_view(u64 real, u64 shadow, u64 mask)
{
	return (real & ~mask) | (shadow & mask);
}

void vmx_save_guest(struct vcpu *v, struct vmx_vcpu *hw)
{
	struct vcpu_regs *r = &v->regs;
	u32 intr;

	r->rip = vmx_vmread(VMCS_GUEST_RIP);
	r->rsp = vmx_vmread(VMCS_GUEST_RSP);
	r->rflags = vmx_vmread(VMCS_GUEST_RFLAGS);
	r->cr0 = guest_view(vmx_vmread(VMCS_GUEST_CR0), vmx_vmread(VMCS_CR0_SHADOW), hw->cr0_mask);
	r->cr4 = guest_view(vmx_vmread(VMCS_GUEST_CR4), vmx_vmread(VMCS_CR4_SHADOW), hw->cr4_mask);
	r->cr3 = vmx_vmread(VMCS_GUEST_CR3);
	r->efer = vmx_vmread(VMCS_GUEST_EFER);
	/* The exit stores EFER.LMA into the "IA-32e mode guest" control. */
	hw->entry_ctls = (u32)vmx_vmread(VMCS_ENTRY_CTLS);
	save_guest_segments(r);
	r->kernel_gs_base = hw->msr_kgs = rdmsr(0xc0000102u);
	asm volatile("mov %%dr6, %0" : "=r"(hw->dr6));
	r->dr6 = hw->dr6;
	intr = (u32)vmx_vmread(VMCS_GUEST_INTERRUPTIBILITY);
	r->sti_shadow = intr & VMX_INTR_STI;
	r->movss_shadow = intr & VMX_INTR_MOVSS;
	r->nmi_blocked = intr & VMX_INTR_NMI;
	hw->ctx = (struct vmx_guest_ctx){ r->cr0, r->cr3, r->cr4, r->efer };
}

/* An exit in the middle of delivering an event (say, an EPT violation on the
 * guest's IDT or stack) leaves the event undelivered: inject it again at the
 * next entry (SDM 28.2.4), unless generic code asks for something newer. */
void vmx_save_idt_vectoring(struct vmx_vcpu *hw)
{
	u32 info = (u32)vmx_vmread(VMCS_IDT_VEC_INFO);

	u32 type = (info & INTR_INFO_TYPE) >> 8;

	if (!(info & INTR_INFO_VALID))
		return;
	/* INT n, INT3, INTO, ICEBP: RIP is still the instruction, which runs
	 * again and raises the event once more, now with the faulting access
	 * resolved. Re-injecting it instead would need the instruction length
	 * to be right on every CPU and emulator; re-execution delivers the
	 * event exactly once with the return address after the instruction,
	 * as on SVM (svm_reinjection). */
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		return;
	hw->pending.info = info & (INTR_INFO_VALID | INTR_INFO_TYPE | INTR_INFO_HAS_ERROR |
				   INTR_INFO_VECTOR);
	hw->pending.error = (u32)vmx_vmread(VMCS_IDT_VEC_ERROR);
	hw->pending.insn_len = (u32)vmx_vmread(VMCS_EXIT_INSN_LEN);
}
