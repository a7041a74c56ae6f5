/* SPDX-License-Identifier: MIT */
/*
 * The vendor split. Generic code (vmm/) drives a vCPU only through this table;
 * arch/x86/svm*.c and arch/x86/vmx*.c each provide one instance, chosen at run
 * time from CPUID (vendor_select()). No #ifdef on the vendor anywhere else.
 */
#pragma once

#include <keel/types.h>

struct vcpu;
struct pcpu;
struct spte_format;

/* Nested SVM (vmm/nested/): what the SVM backend offers the emulation of
 * VMRUN. Only the raw run: vmm/nested/ builds the VMCB02 and routes exits. */
struct vendor_nested {
	/* Enter L2 with the VMCB02 'vmcb02' (a page vmm/nested/ filled: save
	 * area, merged intercepts, event injection) on the nested root 'ncr3'
	 * with Keel's per-vCPU L2 ASID, flushed first when 'flush'. v->regs
	 * holds the GPRs VMRUN does not switch, in and out. On return the raw
	 * exit is in the VMCB02 and decoded into v->exit. */
	void (*run_l2)(struct vcpu *v, void *vmcb02, hpa_t ncr3, bool flush);
};

struct vendor_ops {
	const char *name;     /* "svm" or "vmx" */
	const char *tdp_name; /* "npt" or "ept" */
	const struct spte_format *tdp_format;
	/* Keel may turn on CR4.OSXSAVE to give guests XSAVE (arch/x86/fpu.h). */
	bool host_xsave;
	/* Nested virtualization offered to guests (SVM: CPUID SVM, EFER.SVME,
	 * VMRUN emulated by vmm/nested/), or NULL: hidden, its instructions #UD. */
	const struct vendor_nested *nested;

	/* CPUID says this CPU is of our vendor (AMD / Intel). */
	bool (*detect)(void);
	/* Every capability Keel needs is present and enabled (SVM+NPT; VMX+EPT).
	 * On failure write a one-line reason to why[] and return a negative error. */
	int (*check)(char *why, size_t len);
	/* Largest TDP leaf level this CPU supports, after check() passed:
	 * 3 with 1 GiB second-level pages, else 2 (2 MiB). */
	int (*tdp_max_level)(void);
	/* Per physical CPU: EFER.SVME + HSAVE, or FEATURE_CONTROL + VMXON. */
	int (*cpu_enable)(struct pcpu *cpu);
	void (*cpu_disable)(struct pcpu *cpu);

	/* Build the VMCB / VMCS from v->regs and v->vm configuration. */
	int (*vcpu_init)(struct vcpu *v);
	void (*vcpu_free)(struct vcpu *v);
	/* Enter the guest with v->regs, TDP root 'root'; flush the guest TLB
	 * first when 'flush'. Returns when the guest exits, with v->regs saved
	 * and v->exit decoded. Returns 0, or a negative error when the entry
	 * itself failed (v->exit.kind == EXIT_ENTRY_FAILED, reason logged). */
	int (*vcpu_run)(struct vcpu *v, hpa_t root, bool flush);
	/* Inject an exception into the guest at the next entry (for #PF the
	 * caller sets v->regs.cr2 first). */
	void (*inject_exception)(struct vcpu *v, u8 vector, bool has_error, u32 error);

	/* Events (vmm/event.c decides what to deliver; the backend delivers).
	 * An event is queued for the next entry already (an injected exception,
	 * an interrupted delivery being re-injected, an interrupt or NMI). */
	bool (*event_queued)(struct vcpu *v);
	/* External interrupt 'vector' / an NMI at the next entry: only when the
	 * guest can take it (RFLAGS.IF, no shadow; no NMI blocking). */
	void (*inject_irq)(struct vcpu *v, u8 vector);
	void (*inject_nmi)(struct vcpu *v);
	/* Exit (EXIT_IRQ_WINDOW / EXIT_NMI_WINDOW) as soon as the guest can take
	 * an interrupt / an NMI. Both false: no window exits. */
	void (*set_windows)(struct vcpu *v, bool irq, bool nmi);
	/* Leave the guest no later than 'ns' after the next entry, whatever it
	 * does (EXIT_PREEMPT or EXIT_EXTINT): SVM arms the host LAPIC timer
	 * and intercepts physical interrupts, VMX uses the preemption timer. */
	void (*set_preemption)(struct vcpu *v, u64 ns);
	/* Log the full hardware state (VMCB / VMCS) for a failure report. */
	void (*dump)(struct vcpu *v);
};

extern const struct vendor_ops svm_ops;
extern const struct vendor_ops vmx_ops;

/* The ops for this CPU, or NULL with a reason in why[]. */
const struct vendor_ops *vendor_select(char *why, size_t len);
