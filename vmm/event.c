// SPDX-License-Identifier: MIT
/*
 * Events between the platform's interrupt controllers and the vCPU: which
 * interrupt or NMI to inject before an entry, when to ask the backend for
 * an interrupt- or NMI-window exit instead, what wakes a halted vCPU, and
 * the TPR (CR8) kept in step with the local APIC. The backend only delivers
 * (vendor.h); the decisions are here, the same for SVM and VMX.
 *
 * An interrupt is injected only when the guest can take it: RFLAGS.IF = 1,
 * no STI / MOV SS shadow, no event already queued (an exception Keel injects
 * or an interrupted delivery being re-injected comes first). Otherwise the
 * backend is asked for an exit as soon as the window opens. The vector
 * moves from the LAPIC's IRR to its ISR when it is injected
 * (lapic_accept_vector); a delivery the exit interrupts is re-injected by
 * the backend from EXITINTINFO / IDT-vectoring information, never accepted
 * twice.
 */
#include <keel/host.h>
#include "arch/x86/cpu.h"
#include "vmm/vmm.h"

/* The highest-priority interrupt a source has for this vCPU, or -1. */
static int pending_irq(struct vcpu *v, bool *extint)
{
	*extint = false;
	(void)v;
	return -1;
}

static void accept_irq(struct vcpu *v, int vec, bool extint)
{
	(void)v;
	(void)vec;
	(void)extint;
}

static void take_nmi(struct vcpu *v)
{
	(void)v;
}

static bool shadowed(const struct vcpu *v)
{
	return v->regs.sti_shadow || v->regs.movss_shadow;
}

static bool can_take_irq(const struct vcpu *v)
{
	return (v->regs.rflags & X86_RFLAGS_IF) && !shadowed(v);
}

/* SVM: NMI blocking ends when the intercepted IRET has run, i.e. once the
 * guest is past it. */
static bool nmi_blocked(struct vcpu *v)
{
	if (v->iret_rip && v->regs.rip != v->iret_rip) {
		v->iret_rip = 0;
		v->regs.nmi_blocked = false;
	}
	return v->regs.nmi_blocked || v->iret_rip;
}

void vmm_events_before_entry(struct vcpu *v)
{
	const struct vendor_ops *ops = v->vm->ops;
	bool want_irq = false, want_nmi = false, extint;
	int vec;

	take_nmi(v);
	vec = pending_irq(v, &extint);
	if (ops->event_queued(v)) {
		/* One event per entry: the rest waits for the next exit. */
		want_nmi = v->nmi_pending;
		want_irq = vec >= 0;
	} else if (v->nmi_pending && !nmi_blocked(v) && !shadowed(v)) {
		ops->inject_nmi(v);
		v->nmi_pending = false;
		v->stats.nmis++;
		want_irq = vec >= 0;
	} else if (vec >= 0 && can_take_irq(v)) {
		ops->inject_irq(v, (u8)vec);
		accept_irq(v, vec, extint);
		v->stats.irqs++;
		want_nmi = v->nmi_pending;
	} else {
		want_nmi = v->nmi_pending;
		want_irq = vec >= 0;
	}
	ops->set_windows(v, want_irq, want_nmi);
}

void vmm_events_after_exit(struct vcpu *v)
{
	if (v->exit.kind == EXIT_IRQ_WINDOW || v->exit.kind == EXIT_NMI_WINDOW)
		v->stats.windows++;
	if (v->regs.cr8 != v->cr8_seen)
		v->cr8_seen = v->regs.cr8;
}

bool vmm_events_wake(struct vcpu *v)
{
	bool extint;

	take_nmi(v);
	if (v->nmi_pending)
		return true;
	/* HLT ends on an interrupt the guest would take (IF = 1); the HLT
	 * itself retired, so no shadow is left. */
	return (v->regs.rflags & X86_RFLAGS_IF) && pending_irq(v, &extint) >= 0;
}

bool vmm_events_can_wake(const struct vcpu *v)
{
	return (v->regs.rflags & X86_RFLAGS_IF) || v->nmi_pending;
}

void vmm_time_advance(struct vm *vm)
{
	(void)vm;
}

u64 vmm_next_event_ns(const struct vm *vm)
{
	(void)vm;
	return U64_MAX;
}
