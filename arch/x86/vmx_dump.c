/* SPDX-License-Identifier: MIT */
/*
 * The failure report: every VMCS field that explains an exit or a refused
 * entry, by name, so a log alone is enough to see what the guest did.
 */
#include <keel/host.h>

#include "arch/x86/vmx.h"

struct vmcs_name {
	u32 field;
	const char *name;
};

static const struct vmcs_name dump_fields[] = {
	{ VMCS_EXIT_REASON, "exit reason" },
	{ VMCS_EXIT_QUAL, "exit qualification" },
	{ VMCS_GUEST_PHYS_ADDR, "guest-physical address" },
	{ VMCS_GUEST_LINEAR_ADDR, "guest-linear address" },
	{ VMCS_EXIT_INTR_INFO, "exit interruption info" },
	{ VMCS_EXIT_INTR_ERROR, "exit interruption error" },
	{ VMCS_IDT_VEC_INFO, "IDT-vectoring info" },
	{ VMCS_IDT_VEC_ERROR, "IDT-vectoring error" },
	{ VMCS_EXIT_INSN_LEN, "exit instruction length" },
	{ VMCS_INSN_ERROR, "VM-instruction error" },
	{ VMCS_GUEST_RIP, "guest RIP" },
	{ VMCS_GUEST_RSP, "guest RSP" },
	{ VMCS_GUEST_RFLAGS, "guest RFLAGS" },
	{ VMCS_GUEST_CR0, "guest CR0" },
	{ VMCS_CR0_SHADOW, "CR0 read shadow" },
	{ VMCS_GUEST_CR3, "guest CR3" },
	{ VMCS_GUEST_CR4, "guest CR4" },
	{ VMCS_CR4_SHADOW, "CR4 read shadow" },
	{ VMCS_GUEST_EFER, "guest EFER" },
	{ VMCS_GUEST_CS_SEL, "guest CS" },
	{ VMCS_GUEST_CS_AR, "guest CS access rights" },
	{ VMCS_GUEST_SS_SEL, "guest SS" },
	{ VMCS_GUEST_SS_AR, "guest SS access rights" },
	{ VMCS_GUEST_TR_SEL, "guest TR" },
	{ VMCS_GUEST_TR_AR, "guest TR access rights" },
	{ VMCS_GUEST_GDTR_BASE, "guest GDTR base" },
	{ VMCS_GUEST_IDTR_BASE, "guest IDTR base" },
	{ VMCS_GUEST_INTERRUPTIBILITY, "guest interruptibility" },
	{ VMCS_GUEST_ACTIVITY, "guest activity state" },
	{ VMCS_PIN_CTLS, "pin-based controls" },
	{ VMCS_PROC_CTLS, "processor-based controls" },
	{ VMCS_PROC_CTLS2, "secondary controls" },
	{ VMCS_EXIT_CTLS, "VM-exit controls" },
	{ VMCS_ENTRY_CTLS, "VM-entry controls" },
	{ VMCS_ENTRY_INTR_INFO, "entry interruption info" },
	{ VMCS_EPT_POINTER, "EPT pointer" },
	{ VMCS_VPID, "VPID" },
	{ VMCS_HOST_CR0, "host CR0" },
	{ VMCS_HOST_CR3, "host CR3" },
	{ VMCS_HOST_CR4, "host CR4" },
	{ VMCS_HOST_CS_SEL, "host CS" },
	{ VMCS_HOST_TR_SEL, "host TR" },
	{ VMCS_HOST_TR_BASE, "host TR base" },
	{ VMCS_HOST_GDTR_BASE, "host GDTR base" },
	{ VMCS_HOST_RIP, "host RIP" },
};

static void read_seg(struct vmx_seg_state *s, u32 sel_field, u32 limit_field, u32 ar_field)
{
	s->sel = (u16)vmx_vmread(sel_field);
	s->limit = (u32)vmx_vmread(limit_field);
	s->ar = (u32)vmx_vmread(ar_field);
}

void vmx_read_guest_state(struct vmx_guest_state *s)
{
	s->cr0 = vmx_vmread(VMCS_GUEST_CR0);
	s->cr4 = vmx_vmread(VMCS_GUEST_CR4);
	s->efer = vmx_vmread(VMCS_GUEST_EFER);
	s->rflags = vmx_vmread(VMCS_GUEST_RFLAGS);
	s->rip = vmx_vmread(VMCS_GUEST_RIP);
	s->link = vmx_vmread(VMCS_LINK_POINTER);
	s->entry_ctls = (u32)vmx_vmread(VMCS_ENTRY_CTLS);
	s->proc2 = (u32)vmx_vmread(VMCS_PROC_CTLS2);
	s->activity = (u32)vmx_vmread(VMCS_GUEST_ACTIVITY);
	s->interruptibility = (u32)vmx_vmread(VMCS_GUEST_INTERRUPTIBILITY);
	read_seg(&s->cs, VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR);
	read_seg(&s->ss, VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR);
	read_seg(&s->tr, VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR);
	read_seg(&s->ldtr, VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR);
}

void vmx_read_host_state(struct vmx_host_state *s)
{
	s->cr0 = vmx_vmread(VMCS_HOST_CR0);
	s->cr4 = vmx_vmread(VMCS_HOST_CR4);
	s->efer = vmx_vmread(VMCS_HOST_EFER);
	s->rip = vmx_vmread(VMCS_HOST_RIP);
	s->fs_base = vmx_vmread(VMCS_HOST_FS_BASE);
	s->gs_base = vmx_vmread(VMCS_HOST_GS_BASE);
	s->tr_base = vmx_vmread(VMCS_HOST_TR_BASE);
	s->gdtr_base = vmx_vmread(VMCS_HOST_GDTR_BASE);
	s->idtr_base = vmx_vmread(VMCS_HOST_IDTR_BASE);
	s->cs = (u16)vmx_vmread(VMCS_HOST_CS_SEL);
	s->ss = (u16)vmx_vmread(VMCS_HOST_SS_SEL);
	s->ds = (u16)vmx_vmread(VMCS_HOST_DS_SEL);
	s->es = (u16)vmx_vmread(VMCS_HOST_ES_SEL);
	s->fs = (u16)vmx_vmread(VMCS_HOST_FS_SEL);
	s->gs = (u16)vmx_vmread(VMCS_HOST_GS_SEL);
	s->tr = (u16)vmx_vmread(VMCS_HOST_TR_SEL);
	s->exit_ctls = (u32)vmx_vmread(VMCS_EXIT_CTLS);
}

static u64 cap_msr(u32 plain, u32 true_msr)
{
	return rdmsr(vmx_caps.true_ctls ? true_msr : plain);
}

void vmx_read_control_state(struct vmx_control_state *s)
{
	s->pin = (u32)vmx_vmread(VMCS_PIN_CTLS);
	s->proc = (u32)vmx_vmread(VMCS_PROC_CTLS);
	s->proc2 = (u32)vmx_vmread(VMCS_PROC_CTLS2);
	s->exit = (u32)vmx_vmread(VMCS_EXIT_CTLS);
	s->entry = (u32)vmx_vmread(VMCS_ENTRY_CTLS);
	s->cap_pin = cap_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	s->cap_proc = cap_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	s->cap_proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	s->cap_exit = cap_msr(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS);
	s->cap_entry = cap_msr(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	s->ept_vpid = vmx_caps.ept_vpid;
	s->eptp = vmx_vmread(VMCS_EPT_POINTER);
	s->vpid = (u16)vmx_vmread(VMCS_VPID);
	s->cr3_targets = (u32)vmx_vmread(VMCS_CR3_TARGET_COUNT);
	s->entry_intr = (u32)vmx_vmread(VMCS_ENTRY_INTR_INFO);
}

void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *hw = v->hw;
	u32 reason;

	if (!hw || hw->cpu < 0 || vmx_this_cpu()->current != hw->vmcs) {
		host_log("vmx: vcpu %u: VMCS not current on this CPU, nothing to dump\n", v->id);
		return;
	}
	reason = (u32)vmx_vmread(VMCS_EXIT_REASON);
	host_log("vmx: vcpu %u VMCS dump: last exit %u (%s)%s\n", v->id,
		 (u32)(reason & VMX_EXIT_REASON_BASIC), vmx_exit_reason_name(reason),
		 reason & VMX_EXIT_REASON_ENTRY_FAIL ? ", VM entry failed" : "");
	for (unsigned i = 0; i < ARRAY_SIZE(dump_fields); i++)
		host_log("vmx:   %-26s 0x%llx\n", dump_fields[i].name,
			 (unsigned long long)vmx_vmread(dump_fields[i].field));
	host_log("vmx:   guest GPRs rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx\n",
		 (unsigned long long)v->regs.rax, (unsigned long long)v->regs.rbx,
		 (unsigned long long)v->regs.rcx, (unsigned long long)v->regs.rdx);
	host_log("vmx:   rsi 0x%llx rdi 0x%llx rbp 0x%llx cr2 0x%llx\n",
		 (unsigned long long)v->regs.rsi, (unsigned long long)v->regs.rdi,
		 (unsigned long long)v->regs.rbp, (unsigned long long)v->regs.cr2);
}
