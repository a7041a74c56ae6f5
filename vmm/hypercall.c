// SPDX-License-Identifier: MIT
/* Keel's hypercalls (guest/abi.h, docs/guest-abi.md). */
#include <keel/errno.h>
#include <keel/host.h>
#include "guest/abi.h"
#include "vmm/smp.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

static void hc_done(struct vcpu *v)
{
	struct vm *vm = v->vm;

	vm->guest_failures = v->regs.rbx;
	vm->guest_tests = v->regs.rcx;
	vm->guest_pass = vm->guest_failures == 0 && vm->guest_tests > 0;
	__atomic_store_n(&vm->state, VM_DONE, __ATOMIC_RELEASE);
	host_log("keel: vm %s: guest reports %llu of %llu self-tests failed\n", vm->name,
		 (unsigned long long)vm->guest_failures, (unsigned long long)vm->guest_tests);
}

void vmm_handle_hypercall(struct vcpu *v)
{
	v->stats.hypercalls++;
	/* Only the guest kernel talks to Keel: from CPL > 0 every call fails
	 * with -EPERM and does nothing (docs/guest-abi.md), so user code can
	 * neither end the VM nor forge its verdict. */
	if (vcpu_cpl(&v->regs)) {
		v->regs.rax = (u64)-EPERM;
		vmm_skip_insn(v);
		return;
	}
	switch (v->regs.rax) {
	case KEEL_HC_PING:
		v->regs.rbx = ~v->regs.rbx;
		v->regs.rax = 0;
		break;
	case KEEL_HC_DONE:
		hc_done(v);
		return;
	default:
		if (!vmm_smp_hypercall(v))
			v->regs.rax = (u64)-ENOSYS;
		break;
	}
	vmm_skip_insn(v);
}
