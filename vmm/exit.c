// SPDX-License-Identifier: MIT
/*
 * Generic exit dispatch. The vendor backend has decoded the exit into
 * v->exit; each handler either completes the instruction (and moves RIP
 * past it), injects an exception, or stops the VM. Keel itself never
 * fails because of what a guest does.
 */
#include <keel/errno.h>
#include <keel/host.h>
#include "mmu/mmu.h"
#include "vmm/dev/platform.h"
#include "arch/x86/cpu.h"
#include "vmm/insn_decode.h"
#include "vmm/nested/nested.h"
#include "vmm/vcpu_state.h"
#include "vmm/vmm.h"

static const char *const exit_names[] = {
	[EXIT_NONE] = "none",         [EXIT_CPUID] = "cpuid",
	[EXIT_RDMSR] = "rdmsr",       [EXIT_WRMSR] = "wrmsr",
	[EXIT_IO] = "io",             [EXIT_HLT] = "hlt",
	[EXIT_HYPERCALL] = "hypercall", [EXIT_TDP_FAULT] = "tdp-fault",
	[EXIT_TDP_MISCONFIG] = "tdp-misconfig", [EXIT_SHUTDOWN] = "shutdown",
	[EXIT_EXTINT] = "external-interrupt", [EXIT_EXCEPTION] = "exception",
	[EXIT_ENTRY_FAILED] = "entry-failed", [EXIT_OTHER] = "other",
	[EXIT_PREEMPT] = "preempt",   [EXIT_IRQ_WINDOW] = "irq-window",
	[EXIT_NMI_WINDOW] = "nmi-window", [EXIT_IRET] = "iret",
	[EXIT_XSETBV] = "xsetbv",     [EXIT_VIRT_INSN] = "virt-insn",
};

const char *vmm_exit_name(enum exit_kind k)
{
	return (unsigned)k < ARRAY_SIZE(exit_names) ? exit_names[k] : "?";
}

/* Stop with the full hardware state in the log. */
static void stop_with_dump(struct vcpu *v, const char *why)
{
	struct vm_exit *e = &v->exit;

	host_log("keel: vm %s: %s: exit %s (raw 0x%llx, info 0x%llx 0x%llx) at rip=0x%llx\n",
		 v->vm->name, why, vmm_exit_name(e->kind), (unsigned long long)e->raw_reason,
		 (unsigned long long)e->qual[0], (unsigned long long)e->qual[1],
		 (unsigned long long)v->regs.rip);
	v->vm->ops->dump(v);
	vm_stop(v->vm, "%s (exit %s, raw 0x%llx)", why, vmm_exit_name(e->kind),
		(unsigned long long)e->raw_reason);
}

/*
 * A guest that faults on the same address at the same RIP over and over
 * makes no progress: with one vCPU nothing else can change the outcome, so
 * after this many repeats the MMU's answer is wrong and the VM is stopped
 * rather than spun forever.
 */
#define TDP_FAULT_REPEAT_LIMIT 10000

static bool tdp_fault_repeats(struct vcpu *v, enum mmu_fault_result r)
{
	struct vm_fault_repeat *last = &v->vm->tdp_repeat;

	if (last->gpa == v->exit.tdp.gpa.v && last->rip == v->regs.rip) {
		if (++last->count < TDP_FAULT_REPEAT_LIMIT)
			return false;
		host_log("keel: vm %s: tdp fault at gpa 0x%llx repeats without progress (%s)\n",
			 v->vm->name, (unsigned long long)last->gpa, mmu_fault_result_name(r));
		return true;
	}
	*last = (struct vm_fault_repeat){ v->exit.tdp.gpa.v, v->regs.rip, 0 };
	return false;
}

/*
 * Page-table memory ran out. The fault path holds nothing when it says so,
 * so evicting here (exclusive MMU lock) is safe. Tables zapped by an
 * eviction are freed once this vCPU has re-entered and flushed, so a second
 * round can be needed; a fault that still finds no memory after
 * EVICT_RETRY_LIMIT rounds in a row means the pool is too small for even
 * the guest's working set, and the VM stops.
 */
#define EVICT_RETRY_LIMIT 3

static bool evict_for_fault(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (vm->evict_streak >= EVICT_RETRY_LIMIT)
		return false;
	vm->evict_streak++;
	host_log("keel: vm %s: page-table pool exhausted at gpa 0x%llx: evicted, %llu table "
		 "pages freed\n", vm->name, (unsigned long long)v->exit.tdp.gpa.v,
		 (unsigned long long)mmu_evict(vm->mmu));
	return true;
}

static void handle_tdp_fault(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;
	enum mmu_fault_result r;

	v->stats.tdp_faults++;
	r = mmu_page_fault(v->mmu, e->tdp.gpa, e->tdp.access);
	if (r == MMU_FAULT_FIXED || r == MMU_FAULT_SPURIOUS)
		v->vm->evict_streak = 0;
	switch (r) {
	case MMU_FAULT_FIXED:
	case MMU_FAULT_SPURIOUS:
	case MMU_FAULT_RETRY:
	case MMU_FAULT_RETRY_SLOT: /* we hold nothing: re-entering is the retry */
		if (tdp_fault_repeats(v, r))
			stop_with_dump(v, "TDP fault makes no progress");
		return;
	case MMU_FAULT_NO_SLOT:
		if (e->vectoring) {
			/* The CPU was delivering an event (its IDT, GDT or stack is
			 * outside RAM): no instruction at RIP made this access. */
			stop_with_dump(v, "event delivery touched a guest-physical address outside "
				       "RAM (IDT, GDT or stack not in memory)");
			return;
		}
		vmm_handle_open_bus(v);
		return;
	case MMU_FAULT_NOMEM:
		if (evict_for_fault(v))
			return;
		/* fall through */
	default:
		host_log("keel: vm %s: tdp fault at gpa 0x%llx access 0x%x: %s\n", v->vm->name,
			 (unsigned long long)e->tdp.gpa.v, e->tdp.access,
			 mmu_fault_result_name(r));
		stop_with_dump(v, "unresolvable TDP fault");
	}
}

/* HLT (CPL 0: the CPU checks the privilege before the intercept): the
 * instruction retires and the vCPU sleeps until an interrupt it can take is
 * pending (vm.c's run loop). */
static void handle_hlt(struct vcpu *v)
{
	v->stats.hlt++;
	if (vmm_skip_insn(v))
		v->halted = true;
}

/* 0F 01 D8-DF: VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA. */
static bool is_svm_insn(struct vcpu *v)
{
	u8 b[INSN_MAX_LEN];
	size_t n = vmm_fetch_insn(v, b, sizeof(b));
	struct insn_prefixes p;

	if (!insn_prefixes(b, n, vcpu_code_bits(&v->regs), &p) || p.len + 3 > n)
		return false;
	return b[p.len] == 0x0f && b[p.len + 1] == 0x01 && (b[p.len + 2] & 0xf8) == 0xd8;
}

/*
 * An intercepted guest exception (SVM: #GP). The CPU raises #GP for an SVM
 * instruction at CPL > 0 before its intercept: to a guest not offered SVM,
 * or with EFER.SVME clear, that is #UD; with nested SVM enabled the #GP
 * stands. Any other #GP goes back to the guest as it was (one raised
 * during event delivery never gets here: svm.c redelivers).
 */
static void handle_exception(struct vcpu *v)
{
	const struct vm_exit *e = &v->exit;

	if (e->exc.vector != X86_VEC_GP) {
		stop_with_dump(v, "unexpected intercepted exception");
		return;
	}
	if (!e->vectoring && is_svm_insn(v) &&
	    !(v->vm->ops->nested && (v->regs.efer & EFER_SVME))) {
		vmm_inject_exception(v, X86_VEC_UD, false, 0);
		return;
	}
	vmm_inject_exception(v, X86_VEC_GP, true, e->exc.error);
}

void vmm_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	v->stats.exceptions++;
	if (vmm_nested_inject(v, vector, has_error, error))
		return; /* into L2 (its VMCB02) */
	v->vm->ops->inject_exception(v, vector, has_error, error);
}

/* VMRUN, VMLOAD, STGI, … (SVM) and VMXON, VMLAUNCH, VMREAD, INVEPT, …
 * (VMX) always exit. With nested SVM (SVM backend) vmm/nested/ emulates
 * the SVM ones; otherwise (and always on VMX, whose CPUID hides VMX) they
 * are undefined opcodes to the guest, from any ring. */
static void handle_virt_insn(struct vcpu *v)
{
	if (v->vm->ops->nested) {
		vmm_nested_svm_insn(v);
		return;
	}
	vmm_inject_exception(v, X86_VEC_UD, false, 0);
}

/* MSRs the platform owns (APIC_BASE, TSC_DEADLINE, x2APIC) first; the
 * rest is vmm/msr.c's policy. */
static bool plat_msr(struct vcpu *v, bool write)
{
	u32 msr = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	int r;

	if (!v->vm->plat)
		return false;
	r = write ? plat_wrmsr(v->vm->plat, v->id, msr, val)
		  : plat_rdmsr(v->vm->plat, v->id, msr, &val);
	if (r == -ENOENT)
		return false;
	v->stats.msr++;
	if (r) {
		vmm_inject_exception(v, X86_VEC_GP, true, 0);
		return true;
	}
	if (!write) {
		v->regs.rax = (u32)val;
		v->regs.rdx = val >> 32;
	}
	vmm_skip_insn(v);
	return true;
}

void vmm_handle_exit(struct vcpu *v)
{
	if (vmm_nested_in_l2(v)) {
		vmm_nested_l2_exit(v); /* reflected to L1, or vmm_dispatch_exit for L2 */
		return;
	}
	vmm_dispatch_exit(v);
}

void vmm_dispatch_exit(struct vcpu *v)
{
	switch (v->exit.kind) {
	case EXIT_CPUID:
		vmm_handle_cpuid(v);
		break;
	case EXIT_RDMSR:
		if (!plat_msr(v, false))
			vmm_handle_rdmsr(v);
		break;
	case EXIT_WRMSR:
		if (!plat_msr(v, true))
			vmm_handle_wrmsr(v);
		break;
	case EXIT_IO:
		vmm_handle_io(v);
		break;
	case EXIT_HLT:
		handle_hlt(v);
		break;
	case EXIT_HYPERCALL:
		vmm_handle_hypercall(v);
		break;
	case EXIT_TDP_FAULT:
		handle_tdp_fault(v);
		break;
	case EXIT_EXTINT:   /* a host interrupt (Keel's timer): taken and EOIed */
	case EXIT_PREEMPT:  /* the slice ended: the run loop does the rest */
		v->stats.preempts++;
		break;
	case EXIT_NONE:     /* the backend dealt with it */
	case EXIT_IRQ_WINDOW:
	case EXIT_NMI_WINDOW:
	case EXIT_IRET:
		break; /* vmm/event.c injects at the next entry */
	case EXIT_XSETBV:
		vmm_handle_xsetbv(v);
		break;
	case EXIT_VIRT_INSN:
		handle_virt_insn(v);
		break;
	case EXIT_EXCEPTION:
		handle_exception(v);
		break;
	case EXIT_SHUTDOWN:
		stop_with_dump(v, "guest triple fault (shutdown)");
		break;
	default:
		stop_with_dump(v, "unhandled exit");
		break;
	}
}
