// SPDX-License-Identifier: MIT
/*
 * Completing an intercepted instruction: RIP moves to the next one. The
 * hardware's answer is used when it gave one (SVM NRIP save, VMX exit
 * instruction length, SVM IOIO's EXITINFO2); otherwise the instruction is
 * read from guest memory and its length decoded, and it must be the
 * instruction the exit names.
 */
#include <keel/string.h>
#include "arch/x86/cpu.h"
#include "vmm/insn_decode.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

static const size_t gpr_offsets[16] = {
	offsetof(struct vcpu_regs, rax), offsetof(struct vcpu_regs, rcx),
	offsetof(struct vcpu_regs, rdx), offsetof(struct vcpu_regs, rbx),
	offsetof(struct vcpu_regs, rsp), offsetof(struct vcpu_regs, rbp),
	offsetof(struct vcpu_regs, rsi), offsetof(struct vcpu_regs, rdi),
	offsetof(struct vcpu_regs, r8),  offsetof(struct vcpu_regs, r9),
	offsetof(struct vcpu_regs, r10), offsetof(struct vcpu_regs, r11),
	offsetof(struct vcpu_regs, r12), offsetof(struct vcpu_regs, r13),
	offsetof(struct vcpu_regs, r14), offsetof(struct vcpu_regs, r15),
};

u64 *vmm_gpr(struct vcpu *v, unsigned n)
{
	return (u64 *)((u8 *)&v->regs + gpr_offsets[n & 15]);
}

/*
 * An instruction Keel completed has retired: the STI / MOV SS shadow it
 * sat in is over, and with RFLAGS.TF set the single-step trap follows it
 * (#DB with DR6.BS, after the instruction, as the CPU would deliver it).
 */
void vmm_retire_insn(struct vcpu *v, u64 next_rip)
{
	v->regs.rip = next_rip;
	v->regs.sti_shadow = v->regs.movss_shadow = false;
	if (v->regs.rflags & X86_RFLAGS_TF) {
		v->regs.dr6 |= X86_DR6_BS;
		vmm_inject_exception(v, X86_VEC_DB, false, 0);
	}
}

bool vmm_skip_insn(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	u8 buf[INSN_MAX_LEN];
	size_t n;
	unsigned len;

	if (e->next_rip) {
		vmm_retire_insn(v, e->next_rip);
		return true;
	}
	if (e->insn_len) {
		vmm_retire_insn(v, v->regs.rip + e->insn_len);
		return true;
	}
	n = vmm_fetch_insn(v, buf, sizeof(buf));
	len = insn_len_for_exit(e->kind, buf, n, vcpu_code_bits(&v->regs));
	if (!len) {
		vm_stop(v->vm, "no %s instruction at rip 0x%llx (cannot advance RIP)",
			vmm_exit_name(e->kind), (unsigned long long)v->regs.rip);
		return false;
	}
	vmm_retire_insn(v, v->regs.rip + len);
	return true;
}
