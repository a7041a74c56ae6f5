// SPDX-License-Identifier: MIT
/*
 * Decoding an SVM #VMEXIT into the vendor-neutral struct vm_exit that
 * vmm/exit.c handles. Nothing here acts on the exit.
 */
#include <keel/string.h>
#include "arch/x86/svm.h"
#include "mmu/mmu.h"
#include "vmm/vcpu.h"

static void decode_io(struct vm_exit *e, u64 info1, u64 info2)
{
	e->kind = EXIT_IO;
	e->io.port = (u16)(info1 >> SVM_IOIO_PORT_SHIFT);
	/* SZ8/SZ16/SZ32 are one-hot bits 4-6: 1, 2 or 4 bytes. */
	e->io.size = (u8)((info1 & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT);
	e->io.in = info1 & SVM_IOIO_IN;
	e->io.string = info1 & SVM_IOIO_STR;
	e->io.rep = info1 & SVM_IOIO_REP;
	e->next_rip = info2; /* always provided for IOIO, NRIP save or not */
}

static void decode_npf(struct vm_exit *e, u64 info1, u64 info2)
{
	u32 access = MMU_ACC_READ;

	if (info1 & SVM_NPF_W)
		access = MMU_ACC_WRITE;
	if (info1 & SVM_NPF_FETCH)
		access = MMU_ACC_EXEC;
	e->kind = (info1 & SVM_NPF_RSVD) ? EXIT_TDP_MISCONFIG : EXIT_TDP_FAULT;
	e->tdp.gpa = GPA(info2);
	e->tdp.access = access;
	e->tdp.present = info1 & SVM_NPF_P;
	e->tdp.on_walk = info1 & SVM_NPF_WALK;
}

static enum exit_kind simple_kind(u64 code)
{
	switch (code) {
	case SVM_EXIT_CPUID: return EXIT_CPUID;
	case SVM_EXIT_HLT: return EXIT_HLT;
	case SVM_EXIT_VMMCALL: return EXIT_HYPERCALL;
	case SVM_EXIT_SHUTDOWN: return EXIT_SHUTDOWN;
	case SVM_EXIT_INTR: return EXIT_EXTINT;
	case SVM_EXIT_INVALID:
	case 0xffffffffull: /* QEMU stores -1 as 32 bits */
		return EXIT_ENTRY_FAILED;
	case SVM_EXIT_VINTR: return EXIT_IRQ_WINDOW;
	case SVM_EXIT_IRET: return EXIT_IRET;
	case SVM_EXIT_XSETBV: return EXIT_XSETBV;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE: case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT: case SVM_EXIT_INVLPGA:
		return EXIT_VIRT_INSN;
	default: return EXIT_OTHER;
	}
}

/* Exits whose instruction RIP advance may use the VMCB's next RIP. */
static bool has_next_rip(enum exit_kind k)
{
	return k == EXIT_CPUID || k == EXIT_HLT || k == EXIT_HYPERCALL || k == EXIT_RDMSR ||
	       k == EXIT_WRMSR || k == EXIT_XSETBV;
}

void svm_decode_exit(struct vcpu *v, const struct vmcb *vmcb, bool nrips)
{
	struct vm_exit *e = &v->exit;
	u64 code = vmcb->ctl.exit_code, info1 = vmcb->ctl.exit_info1;
	u64 info2 = vmcb->ctl.exit_info2;

	memset(e, 0, sizeof(*e));
	e->raw_reason = code;
	e->qual[0] = info1;
	e->qual[1] = info2;
	if (code == SVM_EXIT_IOIO) {
		decode_io(e, info1, info2);
	} else if (code == SVM_EXIT_NPF) {
		decode_npf(e, info1, info2);
	} else if (code == SVM_EXIT_MSR) {
		e->kind = info1 ? EXIT_WRMSR : EXIT_RDMSR;
	} else if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
		e->kind = EXIT_EXCEPTION;
		e->exc.vector = (u8)(code - SVM_EXIT_EXCP_BASE);
		e->exc.has_error = true;
		e->exc.error = (u32)info1;
	} else {
		e->kind = simple_kind(code);
	}
	e->vectoring = vmcb->ctl.exit_int_info & SVM_EVENTINJ_VALID;
	e->vectoring_exc = (vmcb->ctl.exit_int_info & SVM_EVENTINJ_TYPE_MASK) ==
			   SVM_EVENTINJ_TYPE_EXCEPTION;
	e->vectoring_vector = (u8)vmcb->ctl.exit_int_info;
	if (nrips && has_next_rip(e->kind) && vmcb->ctl.next_rip)
		e->next_rip = vmcb->ctl.next_rip;
}
