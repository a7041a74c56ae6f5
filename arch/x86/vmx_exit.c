/* SPDX-License-Identifier: MIT */
/*
 * VM exits: decode the VMCS exit information into the vendor-neutral
 * struct vm_exit, so vmm/ handles Intel exits with the same code as AMD ones.
 * A few exits exist only because of how VMX works (a guest CR write that
 * touches a bit VMX operation forces): those are emulated here and never
 * reach generic code.
 */
#include <keel/host.h>
#include <keel/string.h>
#include "arch/x86/irq.h"
#include "arch/x86/vmx.h"
#include "rt/cpu_local.h"

/* The kind-specific part of an exit, from the qualification and the
 * exit-information fields. */
static void decode_details(struct vcpu *v, struct vm_exit *e, u32 basic, u32 intr)
{
	switch (e->kind) {
	case EXIT_IO:
		vmx_decode_io_qual(e->qual[0], e);
		break;
	case EXIT_TDP_FAULT:
		e->qual[1] = vmx_vmread(VMCS_GUEST_PHYS_ADDR);
		vmx_decode_ept_qual(e->qual[0], GPA(e->qual[1]), e);
		break;
	case EXIT_TDP_MISCONFIG:
		e->qual[1] = vmx_vmread(VMCS_GUEST_PHYS_ADDR);
		e->tdp.gpa = GPA(e->qual[1]);
		break;
	case EXIT_EXCEPTION:
		e->qual[1] = intr;
		e->exc.vector = intr & INTR_INFO_VECTOR;
		e->exc.has_error = intr & INTR_INFO_HAS_ERROR;
		if (e->exc.has_error)
			e->exc.error = (u32)vmx_vmread(VMCS_EXIT_INTR_ERROR);
		break;
	case EXIT_EXTINT:
		/* The exit acknowledged the host interrupt (vector in qual[1]):
		 * Keel has nothing to do for it but count it and send the EOI
		 * (intr.c, host_timer.c: a kick from arch/x86/smp.c or the
		 * preemption timer). An NMI while Keel stops every CPU stops
		 * this one; any other is logged and dropped. */
		e->qual[1] = intr;
		if (basic == VMX_EXIT_EXCEPTION_NMI) {
			if (rt_stopping())
				rt_cpu_halt();
			host_log("vmx: vcpu %u: NMI while in the guest (dropped)\n", v->id);
		} else {
			irq_acknowledged((u8)(intr & INTR_INFO_VECTOR));
		}
		break;
	default:
		break;
	}
}

/* v->exit from the VMCS. qual[0] is the exit qualification; qual[1] the
 * guest-physical address (EPT exits), the interruption information
 * (exceptions, interrupts) or the IDT-vectoring information (the rest). */
void vmx_decode_exit(struct vcpu *v)
{
	struct vm_exit *e = &v->exit;
	u32 reason = (u32)vmx_vmread(VMCS_EXIT_REASON);
	u32 basic = reason & VMX_EXIT_REASON_BASIC;
	u32 intr = (u32)vmx_vmread(VMCS_EXIT_INTR_INFO);

	memset(e, 0, sizeof(*e));
	e->raw_reason = reason;
	e->qual[0] = vmx_vmread(VMCS_EXIT_QUAL);
	e->qual[1] = vmx_vmread(VMCS_IDT_VEC_INFO);
	e->kind = vmx_exit_kind(reason, intr);
	e->vectoring = e->qual[1] & INTR_INFO_VALID;
	e->vectoring_exc = ((e->qual[1] & INTR_INFO_TYPE) >> 8) == INTR_TYPE_HW_EXCEPTION;
	e->vectoring_vector = (u8)e->qual[1];
	if (!(reason & VMX_EXIT_REASON_ENTRY_FAIL) && vmx_exit_has_insn_len(basic)) {
		e->insn_len = (u32)vmx_vmread(VMCS_EXIT_INSN_LEN);
		e->next_rip = v->regs.rip + e->insn_len;
	}
	decode_details(v, e, basic, intr);
}

/* The guest's general-purpose register number n, in the order the VMX exit
 * qualifications use (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), which
 * is also the order of struct vcpu_regs. */
static u64 *gpr(struct vcpu_regs *r, unsigned n)
{
	_Static_assert(offsetof(struct vcpu_regs, r15) == 15 * sizeof(u64), "GPR order");
	return &((u64 *)r)[n & 15];
}

enum cr_emul { CR_NOT_HANDLED, CR_DONE, CR_FAULTED };

/* MOV to CR0/CR4 that touches a host-owned bit, or MOV to/from CR3 when the
 * CPU forced CR3 exiting on. The guest sees the value it wrote; the real
 * register keeps the bits VMX needs. A value with bits the CPU cannot hold
 * is refused with #GP(0), as the hardware would. */
static enum cr_emul emulate_mov_cr(struct vcpu *v, struct vmx_vcpu *hw, u64 qual)
{
	const struct vmx_caps *c = &vmx_caps;
	unsigned cr = qual & CR_QUAL_NUMBER;
	unsigned type = (qual & CR_QUAL_TYPE) >> 4;
	u64 *reg = gpr(&v->regs, (qual & CR_QUAL_GPR) >> 8);
	u64 cr0_ok = c->cr0_fixed1 & GENMASK(31, 0);
	u64 cr4_ok = c->cr4_fixed1 & GENMASK(31, 0) & ~X86_CR4_VMXE; /* no nested VMX */

	if (type == 1 && cr == 3) { /* MOV from CR3 */
		*reg = v->regs.cr3;
		return CR_DONE;
	}
	/* CR8 is the TPR (vmm/event.c keeps the LAPIC in step). Bits 4-63
	 * are reserved: #GP, as the hardware would. */
	if (cr == 8 && type == 1) {
		*reg = v->regs.cr8;
		return CR_DONE;
	}
	if (cr == 8 && type == CR_QUAL_TYPE_MOV_TO) {
		if (*reg & ~0xfull) {
			hw->pending.info = vmx_exception_info(13, true);
			hw->pending.error = 0;
			return CR_FAULTED;
		}
		v->regs.cr8 = *reg;
		return CR_DONE;
	}
	if (type != CR_QUAL_TYPE_MOV_TO || (cr != 0 && cr != 3 && cr != 4))
		return CR_NOT_HANDLED;
	if ((cr == 0 && (*reg & ~cr0_ok)) || (cr == 4 && (*reg & ~cr4_ok))) {
		hw->pending.info = vmx_exception_info(13, true); /* #GP(0) */
		hw->pending.error = 0;
		return CR_FAULTED;
	}
	if (cr == 0)
		v->regs.cr0 = *reg;
	else if (cr == 4)
		v->regs.cr4 = *reg;
	else
		v->regs.cr3 = *reg & ~BIT(63); /* bit 63: PCID no-flush hint */
	return CR_DONE;
}

/* Exits generic code has no kind for. Returns 1 when handled here (re-enter
 * the guest), 0 to hand v->exit to generic code. A changed CR reaches the
 * VMCS through vmx_load_guest(), which also flushes the VPID as a real CR
 * write would. */
int vmx_handle_internal(struct vcpu *v, struct vmx_vcpu *hw)
{
	struct vm_exit *e = &v->exit;

	if ((e->raw_reason & VMX_EXIT_REASON_BASIC) != VMX_EXIT_CR_ACCESS)
		return 0;
	switch (emulate_mov_cr(v, hw, e->qual[0])) {
	case CR_DONE:
		v->regs.rip = e->next_rip;
		return 1;
	case CR_FAULTED:
		return 1; /* the faulting instruction does not retire */
	default:
		return 0; /* CLTS, LMSW, CR8: left as EXIT_OTHER */
	}
}
